"""Retention of runs and their event logs, which Dagster's instance settings do not purge.

``dagster.yaml`` purges old schedule and sensor ticks (``retention:``); this module adds a daily
job, in the generic ``data_platform`` location, that deletes the runs finished more than
``older_than_days`` days ago together with their event logs.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def purge_runs(instance: dg.DagsterInstance, older_than: timedelta, *, keep: str = "") -> int:
    """Delete the finished runs created before ``now - older_than``, with their event logs.

    Args:
        instance: the Dagster instance to purge.
        older_than: age beyond which a finished run is deleted.
        keep: a run id never deleted (the purging run itself).

    Returns:
        The number of runs deleted.
    """
    cutoff = datetime.now(UTC) - older_than
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=FINISHED, created_before=cutoff)
    )
    deleted = 0
    for record in records:
        if record.dagster_run.run_id != keep:
            instance.delete_run(record.dagster_run.run_id)
            deleted += 1
    return deleted


class RunRetentionConfig(dg.Config):
    """How long finished runs and their event logs are kept, in days (default: 90)."""

    older_than_days: int = 90


@dg.op
def purge_old_runs(context: dg.OpExecutionContext, config: RunRetentionConfig) -> int:
    """Delete finished runs older than the configured number of days; return how many."""
    deleted = purge_runs(
        context.instance, timedelta(days=config.older_than_days), keep=context.run_id
    )
    context.log.info(f"Deleted {deleted} run(s) older than {config.older_than_days} days")
    return deleted


@dg.job(tags={"platform/maintenance": "retention"})
def purge_old_runs_job() -> None:
    """Delete finished runs (and their event logs) past the retention period."""
    purge_old_runs()


purge_old_runs_schedule = dg.ScheduleDefinition(
    job=purge_old_runs_job,
    cron_schedule="30 3 * * *",
    execution_timezone="Europe/Brussels",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
"""Every night at 03:30 (Brussels time), with the default retention of 90 days."""


def retention_definitions() -> dg.Definitions:
    """Return the retention job and its schedule, for the generic location."""
    return dg.Definitions(jobs=[purge_old_runs_job], schedules=[purge_old_runs_schedule])
