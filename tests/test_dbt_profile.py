"""Any dbt-duckdb project runs in the platform with the platform's own profile.

A throwaway project with a seed, whose own ``profiles.yml`` has one target called neither
``local`` nor ``platform``, loads and materializes through the factory; its own profile is
never read; every run keeps dbt's partial parsing of the prepared manifest; a prepared project
is prepared again only when one of its files or its settings changed.
"""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.dbt_profile import DbtSettings, is_prepared
from data_platform.factory import definitions_of, platform_dbt_project, prepare
from data_platform.locations import CodeLocation

NAME = "shop"
SEED_ROWS = [(1, "Namur"), (2, "Liège"), (3, "Mons")]


def write_project(
    folder: Path, *, failing_model: bool = False, seeds_through_sources: int = 0
) -> Path:
    """Write a small dbt-duckdb project: a seed, two models reading it, a mart, tests.

    Its own profile (``shop_own``, target ``stewards``) writes to ``own.duckdb`` in the
    project: the platform must never use it. With ``failing_model``, ``int_broken`` fails at
    run time (a cast error) while the others build. With ``seeds_through_sources`` N, N seeds
    ``raw_<i>`` are read by views ``stg_raw_<i>`` through ``source('raw', 'raw_<i>')``, as dbt's
    example projects do: dbt does not order those views after their seeds.
    """
    project = folder / NAME
    for sub in ("seeds", "models/staging", "models/marts"):
        (project / sub).mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        f"name: {NAME}\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop_own\n"
        f"models:\n  {NAME}:\n    staging:\n      +materialized: view\n"
        "    marts:\n      +materialized: table\n"
    )
    (project / "profiles.yml").write_text(
        "shop_own:\n  target: stewards\n  outputs:\n    stewards:\n"
        f"      type: duckdb\n      path: {project / 'own.duckdb'}\n"
    )
    rows = "".join(f"{key},{city}\n" for key, city in SEED_ROWS)
    (project / "seeds" / "cities.csv").write_text("city_id,city_name\n" + rows)
    (project / "models/staging/stg_cities.sql").write_text("select * from {{ ref('cities') }}\n")
    (project / "models/marts/fct_cities.sql").write_text(
        "select city_id, upper(city_name) as city_name from {{ ref('stg_cities') }}\n"
    )
    (project / "models/marts/_marts.yml").write_text(
        "version: 2\nmodels:\n  - name: fct_cities\n    columns:\n"
        "      - name: city_id\n        data_tests: [unique, not_null]\n"
    )
    for i in range(seeds_through_sources):
        (project / "seeds" / f"raw_{i}.csv").write_text("id,v\n1,2\n3,4\n")
        (project / "models/staging" / f"stg_raw_{i}.sql").write_text(
            f"select * from {{{{ source('raw', 'raw_{i}') }}}}\n"
        )
    if seeds_through_sources:
        tables = "".join(f"      - name: raw_{i}\n" for i in range(seeds_through_sources))
        (project / "models/staging/_sources.yml").write_text(
            "version: 2\nsources:\n  - name: raw\n    schema: main\n    tables:\n" + tables
        )
    if failing_model:
        (project / "models/marts/int_broken.sql").write_text(
            "select cast(city_name as integer) as n from {{ ref('stg_cities') }}\n"
        )
        (project / "models/marts/fct_after_broken.sql").write_text(
            "select * from {{ ref('int_broken') }}\n"
        )
    return project


def prepared(project: Path) -> None:
    """Prepare the project's manifest as ``make prepare`` does."""
    settings = DbtSettings.from_environment(NAME)
    prepare(platform_dbt_project(project, settings), settings)


def materialize_all(project: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """Prepare the project, load it through the platform's factory and materialize everything."""
    prepared(project)
    definitions = definitions_of(CodeLocation(NAME, "Throwaway"), project)
    job = definitions.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=instance, raise_on_error=False)


def dbt_logs_of_runs(project: Path) -> list[str]:
    """Return the dbt logs of the runs (each run's own target folder; not the preparation's)."""
    return [path.read_text() for path in (project / "target").glob("*/dbt.log")]


def test_any_dbt_duckdb_project_materializes_with_the_platform_profile(tmp_path, own_storage):
    project = write_project(tmp_path)
    prepared(project)
    definitions = definitions_of(CodeLocation(NAME, "Throwaway"), project)
    job = definitions.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        for _ in range(2):  # the second run: partial parsing, and the DuckDB file released
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            assert result.success
        materialized = {
            event.asset_key.to_user_string(): event.materialization.metadata
            for event in result.get_asset_materialization_events()
        }
        checks = [evaluation.passed for evaluation in result.get_asset_check_evaluations()]
    assert set(materialized) == {"shop/cities", "shop/stg_cities", "shop/fct_cities"}
    assert materialized["shop/fct_cities"]["dagster/row_count"].value == len(SEED_ROWS)
    schema = materialized["shop/fct_cities"]["dagster/column_schema"].schema
    assert [column.name for column in schema.columns] == ["city_id", "city_name"]
    assert checks == [True, True]
    # Written where the platform says, through its profile; the project's own profile unused.
    assert not (project / "own.duckdb").exists()
    warehouse = own_storage["warehouse"] / f"{NAME}.duckdb"
    copy = shutil.copy(warehouse, tmp_path / "copy.duckdb")  # the run's process may hold it
    with duckdb.connect(str(copy), read_only=True) as connection:
        names = connection.sql("select city_name from fct_cities order by city_id").fetchall()
    assert names == [("NAMUR",), ("LIÈGE",), ("MONS",)]
    # Every run reused the prepared parse: no full re-parse.
    logs = dbt_logs_of_runs(project)
    assert len(logs) == 2
    for log in logs:
        assert "Unable to do partial parsing" not in log
        assert "Partial parsing enabled" in log


def test_a_project_is_prepared_again_only_when_it_changed(tmp_path, own_storage, monkeypatch):
    project = write_project(tmp_path)
    settings = DbtSettings.from_environment(NAME)
    dbt_project = platform_dbt_project(project, settings)
    assert not is_prepared(project, settings)
    assert prepare(dbt_project, settings) is True
    assert is_prepared(project, settings)
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    assert "model.shop.fct_cities" in manifest["nodes"]
    assert prepare(dbt_project, settings) is False  # unchanged: dbt does not run

    (project / "models/marts/fct_more.sql").write_text("select 1 as one\n")
    assert not is_prepared(project, settings)
    assert prepare(dbt_project, settings) is True
    assert (
        "model.shop.fct_more" in json.loads((project / "target/manifest.json").read_text())["nodes"]
    )

    other_lake = tmp_path / "other_lake"
    other_lake.mkdir()
    monkeypatch.setenv("DATA_PLATFORM_LAKE_ROOT", str(other_lake))
    assert not is_prepared(project, DbtSettings.from_environment(NAME))  # other --vars


@pytest.fixture
def own_storage(tmp_path, monkeypatch) -> dict[str, Path]:
    """A lake and a warehouse of the test's own."""
    paths = {"lake": tmp_path / "lake", "warehouse": tmp_path / "warehouse"}
    paths["lake"].mkdir()
    monkeypatch.setenv("DATA_PLATFORM_LAKE_ROOT", str(paths["lake"]))
    monkeypatch.setenv("DATA_PLATFORM_WAREHOUSE_DIR", str(paths["warehouse"]))
    return paths


def test_a_run_that_fails_mid_build_records_what_dbt_built(tmp_path, own_storage):
    project = write_project(tmp_path, failing_model=True)
    with dg.instance_for_test() as instance:
        result = materialize_all(project, instance)
        materialized = {
            event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
        }
        failures = [event for event in result.all_events if event.is_step_failure]
        stored = {
            key.to_user_string()
            for key in instance.get_asset_keys()
            if instance.get_latest_materialization_event(key) is not None
        }
    assert not result.success
    assert len(failures) == 1
    message = str(failures[0].step_failure_data.error)
    assert "int_broken" in message
    assert "DagsterInvariantViolationError" not in message and "topological" not in message
    # A data error: the step's retry policy is bypassed (data_platform/retries.py).
    assert "STEP_UP_FOR_RETRY" not in {event.event_type_value for event in result.all_events}
    built = {"shop/cities", "shop/stg_cities", "shop/fct_cities"}
    assert materialized == built
    assert stored == built


def test_seeds_are_built_before_the_models_that_read_them_through_a_source(tmp_path, own_storage):
    project = write_project(tmp_path, seeds_through_sources=4)
    with dg.instance_for_test() as instance:
        result = materialize_all(project, instance)
        metadata = {
            event.asset_key.to_user_string(): event.materialization.metadata
            for event in result.get_asset_materialization_events()
        }
    assert result.success
    for i in range(4):
        assert f"shop/raw_{i}" in metadata
        schema = metadata[f"shop/stg_raw_{i}"]["dagster/column_schema"].schema
        assert [column.name for column in schema.columns] == ["id", "v"]
