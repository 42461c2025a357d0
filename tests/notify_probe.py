"""Run a location's job on a persistent instance, or evaluate its run failure sensor on a run.

Run from a copy of the platform (``PYTHONPATH`` at the copy) with ``DAGSTER_HOME`` set:

* ``python notify_probe.py run <location> <asset key> ...``: materialize the assets (a failing
  run is expected), print ``{"run_id": ..., "success": ...}`` as the last line;
* ``python notify_probe.py notify <location> <run id>``: evaluate the location's sensor
  ``notify_<project>_run_failure`` on that run, as the daemon would, then print ``{"ok": true}``.
"""

import json
import sys

import dagster as dg
from dagster import DagsterEventType

from data_platform.factory import build_location_definitions
from data_platform.locations import get_location


def run(location_name: str, keys: list[str]) -> None:
    """Materialize ``keys`` (``a/b/c``) of a location; print the run id and its success."""
    job = build_location_definitions(location_name).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(key.split("/")) for key in keys],
            raise_on_error=False,
        )
    print(json.dumps({"run_id": result.run_id, "success": result.success}))


def notify(location_name: str, run_id: str) -> None:
    """Evaluate the location's run failure sensor on a failed run."""
    location = get_location(location_name)
    defs = build_location_definitions(location_name)
    sensor = defs.get_sensor_def(f"notify_{location.dbt_project}_run_failure")
    with dg.DagsterInstance.get() as instance:
        dagster_run = instance.get_run_by_id(run_id)
        records = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_FAILURE)
        failure = records.records[-1].event_log_entry.dagster_event
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=dagster_run,
            resources=defs.resources,
        ).for_run_failure()
        sensor(context)
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3:])
    else:
        notify(sys.argv[2], sys.argv[3])
