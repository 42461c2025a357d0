"""How the platform keeps its data fresh by itself: Dagster's declarative automation.

One rule for every asset of every location (:func:`automation_condition`, given to the dbt
assets by the translator and to the raw assets by :mod:`data_platform.raw`):
:meth:`dagster.AutomationCondition.eager`. An asset is requested when one of its upstream assets
was updated (in its own location or, across locations, a mart another location published), once
per update (``since_last_handled``), never while an upstream asset or itself is in progress and
never while an upstream asset was never materialized. Within a location the daemon requests a
whole chain in one run, in dependency order; across locations the downstream location's sensor
waits until the upstream run has materialized the mart. After a failed run nothing is requested
again until an upstream asset is updated anew (no "on failure, run again" loop); the failed run
itself is retried :data:`AUTOMATION_MAX_RETRIES` time(s) by the daemon (run tags of the sensor).

Each location declares (:func:`automation_definitions`):

* ``<project>_automation``: the :class:`dagster.AutomationConditionSensorDefinition` that
  evaluates the conditions of every asset of the location;
* ``<project>_raw_files``: the sensor that watches each raw dataset in the lake
  (:mod:`data_platform.raw_sensor`);
* ``<project>_daily``: a daily schedule landing the location's raw assets, the fallback for
  sources nobody watches (the conditions rebuild what is downstream);
* ``<project>_marts``: the job of the administration, which rebuilds its marts with every
  upstream asset of its location.

The sensors and the schedule run by default only when ``DATA_PLATFORM_AUTOMATION`` is ``true``
(the compose stack); otherwise (``make dev``) they are declared but stopped, and can be started
one by one in the UI (Automation page). Settings are read when definitions are built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg

from data_platform import environment as env
from data_platform.locations import CodeLocation

AUTOMATION_MAX_RETRIES = 1
"""Retries of a failed run launched by automation, before waiting for new upstream data."""

DAILY_CRON = "0 5 * * *"
"""When the daily fallback schedules land the raw data (Europe/Brussels)."""

TIMEZONE = "Europe/Brussels"


def automation_condition() -> dg.AutomationCondition[dg.AssetKey | dg.AssetCheckKey]:
    """Return the automation condition of every raw and dbt asset of the platform.

    Returns:
        :meth:`dagster.AutomationCondition.eager`: requested once after any upstream asset was
        updated (or will be in the same run), never while an upstream asset is missing or in
        progress, nor while the asset itself is in progress (Dagster docs, "Declarative
        Automation", eager).
    """
    return dg.AutomationCondition.eager()


def automation_enabled() -> bool:
    """Tell whether automation runs by default: ``DATA_PLATFORM_AUTOMATION`` (read now).

    Returns:
        ``True`` for ``true``/``on``/``1``/``yes``, ``False`` for ``false``/``off``/``0``/``no``
        or unset (the declared default ``false``).

    Raises:
        ValueError: any other value, naming the variable and the accepted values.
    """
    return env.AUTOMATION.flag()


def automation_interval() -> int:
    """Return the seconds between two evaluations of a location's sensors (read now).

    Raises:
        ValueError: ``DATA_PLATFORM_AUTOMATION_INTERVAL`` is not a positive integer.
    """
    value = env.AUTOMATION_INTERVAL.value()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{env.AUTOMATION_INTERVAL.name}={value!r}: expected a positive number of seconds"
        )
    return int(value)


def default_sensor_status() -> dg.DefaultSensorStatus:
    """Return RUNNING when automation is on (:func:`automation_enabled`), else STOPPED."""
    if automation_enabled():
        return dg.DefaultSensorStatus.RUNNING
    return dg.DefaultSensorStatus.STOPPED


def marts_job_name(location: CodeLocation) -> str:
    """Return the name of the administration's job: ``<project>_marts``, e.g. ``ags_marts``."""
    return f"{location.dbt_project}_marts"


def marts_job(location: CodeLocation) -> dg.UnresolvedAssetJobDefinition:
    """Return the job that rebuilds the location's marts with their upstream in the location.

    The selection is the group ``<project>_marts`` and everything upstream of it that the
    location materializes itself (raw assets, staging, intermediate); the marts of another
    location it reads are checked, not built
    (:func:`data_platform.factory.check_published_upstream`).
    """
    marts = dg.AssetSelection.groups(marts_job_name(location))
    return dg.define_asset_job(
        name=marts_job_name(location),
        selection=marts.upstream().materializable(),
        description=(
            f"Rebuild the marts of {location.administration} (group {marts_job_name(location)})"
            " with every upstream asset of this location, in dependency order."
        ),
        tags={"administration": location.dbt_project},
    )


def automation_definitions(
    location: CodeLocation, raw_patterns: Mapping[dg.AssetKey, Sequence[str]]
) -> dg.Definitions:
    """Return the automation sensor, raw-file sensor, daily schedule and job of a location.

    Args:
        location: the code location.
        raw_patterns: the keys of its raw assets (watched and landed daily) and their
            ``meta.raw_files`` patterns; may be empty.

    Returns:
        Definitions holding ``<project>_automation``, ``<project>_marts`` and, when the
        location has raw assets, ``<project>_raw_files`` and ``<project>_daily``; the sensors
        and the schedule run by default only when automation is on (:func:`automation_enabled`).

    Raises:
        ValueError: ``DATA_PLATFORM_AUTOMATION`` or ``DATA_PLATFORM_AUTOMATION_INTERVAL`` is
            malformed.
    """
    from data_platform.raw_sensor import raw_files_sensor

    status = default_sensor_status()
    interval = automation_interval()
    project = location.dbt_project
    sensors: list[dg.SensorDefinition] = [
        dg.AutomationConditionSensorDefinition(
            name=f"{project}_automation",
            target=dg.AssetSelection.all(),
            default_status=status,
            minimum_interval_seconds=interval,
            description=(
                f"Evaluates the automation condition (eager) of every asset of {location.name}."
            ),
            # A failed run is retried a bounded number of times (dagster.yaml enables retries).
            run_tags={
                "dagster/max_retries": str(AUTOMATION_MAX_RETRIES),
                "dagster/retry_on_asset_or_op_failure": "true",
                "administration": project,
            },
        )
    ]
    schedules: list[dg.ScheduleDefinition] = []
    if raw_patterns:
        sensors.append(raw_files_sensor(location, raw_patterns, status, interval))
        schedules.append(
            dg.ScheduleDefinition(
                name=f"{project}_daily",
                target=dg.AssetSelection.assets(*raw_patterns),
                cron_schedule=DAILY_CRON,
                execution_timezone=TIMEZONE,
                default_status=dg.DefaultScheduleStatus(status.value),
                description=(
                    f"Lands the raw data of {location.name} daily; the automation conditions"
                    " then rebuild what is downstream, in every location."
                ),
            )
        )
    return dg.Definitions(sensors=sensors, schedules=schedules, jobs=[marts_job(location)])
