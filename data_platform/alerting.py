"""The sensors of a code location that notify its administration of failed runs and checks.

Each location gets two run status sensors, which watch the runs of that location only (the
default of a run status sensor) and send with the location's resource ``notifications``
(:class:`~data_platform.notifications.NotificationChannels`):

* ``notify_<project>_run_failure`` on every failed run: **one message per run**, naming the
  location, the run, the failed steps and their error, the failed checks of severity ERROR and
  the assets the run did not materialize. A failing dbt test of severity ``error`` fails the dbt
  step, hence the run: its check is named in that one message rather than in a second one.
* ``notify_<project>_check_failure`` on every successful run that still has a failed check of
  severity ERROR (an asset check that does not block its step): one message naming the checks.

Both run by default (:attr:`dagster.DefaultSensorStatus.RUNNING`): a location whose
administration configured no channel logs so and sends nothing, and configuring a channel (an
environment variable of the code server) needs no click in the UI.
"""

from __future__ import annotations

import dagster as dg
from dagster import DagsterEventType
from dagster._core.execution.plan.objects import StepFailureData

from data_platform.locations import CodeLocation
from data_platform.notifications import Notification, NotificationChannels

MAX_LISTED = 20
"""Longest list (assets, checks) written out in a message; the rest is counted."""


def failed_error_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Return the failed asset checks of severity ERROR of a run, as ``asset:check`` strings.

    Args:
        instance: the instance holding the run's event log.
        run_id: the run.

    Returns:
        ``["ags/fct_walks:not_null_fct_walks_walk_id", ...]`` in event order, each check once.
    """
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed: list[str] = []
    for record in records:
        event = record.event_log_entry.dagster_event
        evaluation = event.event_specific_data if event else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        if evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        name = evaluation.asset_check_key.to_user_string()
        if name not in failed:
            failed.append(name)
    return failed


def unmaterialized_assets(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Return the assets a run planned to materialize but did not, as ``a/b`` strings."""

    def keys(event_type: DagsterEventType) -> list[str]:
        records = instance.get_records_for_run(run_id, of_type=event_type).records
        events = [r.event_log_entry.dagster_event for r in records]
        found = [event.asset_key for event in events if event is not None]
        return [key.to_user_string() for key in found if key is not None]

    done = set(keys(DagsterEventType.ASSET_MATERIALIZATION))
    return sorted(set(keys(DagsterEventType.ASSET_MATERIALIZATION_PLANNED)) - done)


def bullet_list(items: list[str]) -> list[str]:
    """Return ``- item`` lines, at most :data:`MAX_LISTED`, then ``- ... and N more``."""
    lines = [f"- {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"- ... and {len(items) - MAX_LISTED} more")
    return lines


def first_line(text: str | None) -> str:
    """Return the first non-empty line of ``text`` (an error message), or ``""``."""
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def run_failure_message(
    location: CodeLocation, context: dg.RunFailureSensorContext, url: str
) -> Notification:
    """Render the message of a failed run of ``location``.

    Args:
        location: the code location of the run.
        context: the run failure sensor's context (run, failure event, instance).
        url: the link to the run in the Dagster UI.

    Returns:
        The message: title naming the location, the run and the first failed check (if any);
        body with the failed checks, steps, errors and unmaterialized assets; the run's link.
    """
    run = context.dagster_run
    checks = failed_error_checks(context.instance, run.run_id)
    title = f"[{location.name}] run {run.run_id[:8]} of {run.job_name} failed"
    if checks:
        title += f": check {checks[0]} failed"
        if len(checks) > 1:
            title += f" (and {len(checks) - 1} more)"
    lines = [
        f"Location: {location.name} ({location.administration})",
        f"Run: {run.run_id} (job {run.job_name})",
    ]
    if checks:
        lines += ["Failed checks (severity ERROR):", *bullet_list(checks)]
    steps = [
        f"{event.step_key}: {first_line(data.error.message)}"
        if isinstance(data := event.event_specific_data, StepFailureData) and data.error
        else str(event.step_key)
        for event in context.get_step_failure_events()
    ]
    if steps:
        lines += ["Failed steps:", *bullet_list(steps)]
    lines.append(f"Error: {first_line(context.failure_event.message)}")
    missing = unmaterialized_assets(context.instance, run.run_id)
    if missing:
        lines += ["Assets not materialized:", *bullet_list(missing)]
    return Notification(title=title, text="\n".join(lines), url=url)


def check_failure_message(
    location: CodeLocation, run: dg.DagsterRun, checks: list[str], url: str
) -> Notification:
    """Render the message of a successful run of ``location`` with failed ERROR checks.

    Args:
        location: the code location of the run.
        run: the run.
        checks: the failed checks (``asset:check``), at least one.
        url: the link to the run in the Dagster UI.

    Returns:
        The message naming the location, the run and every failed check, with the run's link.
    """
    title = f"[{location.name}] run {run.run_id[:8]}: check {checks[0]} failed"
    if len(checks) > 1:
        title += f" (and {len(checks) - 1} more)"
    lines = [
        f"Location: {location.name} ({location.administration})",
        f"Run: {run.run_id} (job {run.job_name})",
        "Failed checks (severity ERROR):",
        *bullet_list(checks),
    ]
    return Notification(title=title, text="\n".join(lines), url=url)


def build_notification_sensors(location: CodeLocation) -> list[dg.SensorDefinition]:
    """Build the two notification sensors of a code location.

    Args:
        location: the code location; its sensors watch its own runs only.

    Returns:
        ``[notify_<project>_run_failure, notify_<project>_check_failure]``, running by default,
        each requiring the resource ``notifications`` (:class:`NotificationChannels`).
    """

    @dg.run_failure_sensor(
        name=f"notify_{location.dbt_project}_run_failure",
        description=f"Notify {location.administration} of every failed run of {location.name}.",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _run_failure(
        context: dg.RunFailureSensorContext, notifications: NotificationChannels
    ) -> None:
        url = notifications.run_url(context.dagster_run.run_id)
        notifications.send(run_failure_message(location, context, url), context.log)

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name=f"notify_{location.dbt_project}_check_failure",
        description=(
            f"Notify {location.administration} of failed ERROR checks in successful runs"
            f" of {location.name}."
        ),
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _check_failure(
        context: dg.RunStatusSensorContext, notifications: NotificationChannels
    ) -> None:
        run = context.dagster_run
        checks = failed_error_checks(context.instance, run.run_id)
        if checks:
            url = notifications.run_url(run.run_id)
            notifications.send(check_failure_message(location, run, checks, url), context.log)

    return [_run_failure, _check_failure]
