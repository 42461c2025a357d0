import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from data_platform import workspaces
from data_platform.factory import build_location_definitions
from data_platform.locations import LOCATIONS, get_location
from data_platform.settings import REPO_ROOT

pytestmark = pytest.mark.usefixtures("prepared_manifests")


@pytest.fixture(scope="module")
def all_definitions() -> dict[str, dg.Definitions]:
    return {location.name: build_location_definitions(location.name) for location in LOCATIONS}


def asset_graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def own_keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    """Keys of the assets a location materializes (not the other locations' marts it reads)."""
    graph = asset_graph(defs)
    return {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}


def test_every_location_loads_and_namespaces_its_keys(all_definitions):
    for name, defs in all_definitions.items():
        location = get_location(name)
        keys = own_keys(defs)
        assert keys, f"{name} defines no asset"
        assert {key.path[0] for key in keys} == {location.dbt_project}


def test_no_asset_key_is_defined_by_two_locations(all_definitions):
    seen: dict[dg.AssetKey, str] = {}
    for name, defs in all_definitions.items():
        for key in own_keys(defs):
            assert key not in seen, f"{key} defined by {seen[key]} and {name}"
            seen[key] = name


def test_groups_owners_and_tags_come_from_the_translator(all_definitions):
    for name, defs in all_definitions.items():
        location = get_location(name)
        graph = asset_graph(defs)
        groups = set()
        for key in own_keys(defs):
            node = graph.get(key)
            groups.add(node.group_name)
            assert node.owners == [location.owner], key
            assert node.tags["administration"] == location.dbt_project, key
        prefix = location.dbt_project
        assert {f"{prefix}_raw", f"{prefix}_staging", f"{prefix}_marts"} <= groups, name


def test_dbt_tests_become_asset_checks(all_definitions):
    for name, defs in all_definitions.items():
        checks = asset_graph(defs).asset_check_keys
        names = {check.name for check in checks}
        assert any(n.startswith("unique_") for n in names), name
        assert any(n.startswith("not_null_") for n in names), name


def test_every_model_has_a_primary_key_tested_unique_and_not_null(all_definitions):
    for name, defs in all_definitions.items():
        graph = asset_graph(defs)
        checked: dict[dg.AssetKey, set[str]] = {}
        for check in graph.asset_check_keys:
            checked.setdefault(check.asset_key, set()).add(check.name.split("_")[0])
        models = [
            key
            for key in graph.get_all_asset_keys()
            if graph.get(key).tags.get("layer") in {"staging", "intermediate", "marts"}
        ]
        assert models
        for key in models:
            kinds = checked.get(key, set())
            assert {"unique", "not"} <= kinds, f"{name}: {key.to_user_string()} lacks a tested key"


def test_administrations_read_the_shared_marts_across_locations(all_definitions):
    shared_keys = own_keys(all_definitions["data_platform"])
    for name in ("ags_project", "agaj_project"):
        graph = asset_graph(all_definitions[name])
        upstream = {
            dep
            for key in graph.get_all_asset_keys()
            for dep in graph.get(key).parent_keys
            if dep.path[0] == "data_platform"
        }
        assert dg.AssetKey(["data_platform", "dim_communes"]) in upstream, name
        # Each such edge points at an asset the data_platform location really defines.
        assert upstream <= shared_keys, upstream - shared_keys


def test_workspace_lists_exactly_the_registered_locations():
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    entries = [entry["python_module"] for entry in workspace["load_from"]]
    assert [(e["location_name"], e["module_name"]) for e in entries] == [
        (location.name, location.module) for location in LOCATIONS
    ]
    # Both workspace files (local and stack) are what the list of locations generates.
    assert workspaces.main(["--check"]) == 0


def test_dagster_definitions_validate_passes_on_the_workspace(tmp_path):
    # A DAGSTER_HOME of its own: the repository's dagster.yaml is the production instance.
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for location in LOCATIONS:
        assert f"Validation successful for code location {location.name}" in (
            result.stdout + result.stderr
        )


def test_package_of_an_administration_is_a_few_lines():
    for location in LOCATIONS:
        source = Path(REPO_ROOT / location.name / "definitions.py").read_text()
        code = [line for line in source.splitlines() if line.strip() and not line.startswith("#")]
        assert len(code) <= 10, location.name
        assert "build_location_definitions" in source


def test_every_dbt_model_has_owner_column_schema_sql_link_and_docs_link(all_definitions):
    for name, defs in all_definitions.items():
        location = get_location(name)
        graph = asset_graph(defs)
        for key in own_keys(defs):
            node = graph.get(key)
            if node.tags.get("layer") not in {"staging", "intermediate", "marts"}:
                continue
            label = f"{name}: {key.to_user_string()}"
            assert node.owners == [location.owner], label
            columns = node.metadata["dagster/column_schema"].columns
            assert columns, label
            references = node.metadata["dagster/code_references"].code_references
            assert any(ref.file_path.endswith(".sql") for ref in references), label
            assert node.metadata["dbt_docs"].url.startswith("http"), label


def test_raw_and_mart_assets_have_a_freshness_policy(all_definitions):
    for name, defs in all_definitions.items():
        graph = asset_graph(defs)
        layers = set()
        for key in own_keys(defs):
            node = graph.get(key)
            layer = node.tags.get("layer")
            if layer in {"raw", "marts"}:
                layers.add(layer)
                assert node.freshness_policy is not None, key.to_user_string()
            else:
                assert node.freshness_policy is None, key.to_user_string()
        assert layers == {"raw", "marts"}, name


def test_every_location_has_its_notification_sensors(all_definitions):
    for name, defs in all_definitions.items():
        project = get_location(name).dbt_project
        sensors = {sensor.name for sensor in defs.get_repository_def().sensor_defs}
        assert {f"notify_{project}_run_failure", f"notify_{project}_check_failure"} <= sensors
