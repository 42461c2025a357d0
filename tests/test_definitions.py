"""Every code location's definitions: keys, groups, owners, checks, workspace, validation."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._core.remote_representation.external_data import RepositorySnap

from data_platform.factory import build_location_definitions, dbt_project
from data_platform.locations import LOCATIONS, get_location, location_of_dbt_project
from data_platform.settings import REPO_ROOT
from data_platform.tools import validate, workspaces
from data_platform.translator import resource_meta

# One worker builds every location's definitions once for all the tests of this module.
pytestmark = [pytest.mark.usefixtures("prepared_manifests"), pytest.mark.xdist_group("definitions")]


@pytest.fixture(scope="module")
def all_definitions() -> dict[str, dg.Definitions]:
    return {location.name: build_location_definitions(location.name) for location in LOCATIONS}


def asset_graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def own_keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    """Keys of the assets a location materializes (not the other locations' marts it reads)."""
    graph = asset_graph(defs)
    return {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}


@pytest.fixture(scope="module")
def manifests(prepared_manifests) -> dict[str, dict[str, Any]]:
    """Every location's prepared dbt manifest (``target/manifest.json``), by location name."""
    return {
        location.name: json.loads(dbt_project(location.name).manifest_path.read_text())
        for location in LOCATIONS
    }


def assets_by_dbt_node(defs: dg.Definitions) -> dict[str, dg.AssetKey]:
    """Map the dbt ``unique_id`` of each asset the location materializes to its asset key."""
    graph = asset_graph(defs)
    return {
        graph.get(key).metadata["dagster_dbt/unique_id"]: key
        for key in own_keys(defs)
        if "dagster_dbt/unique_id" in graph.get(key).metadata
    }


def generic_tests(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's generic dbt tests (``unique``, ``not_null``...) attached to a node."""
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("test_metadata")
        and node.get("attached_node")
    ]


def columns_of(test: dict[str, Any]) -> tuple[str, ...]:
    """The column(s) a generic test names: ``column_name``, else ``combination_of_columns``."""
    kwargs = test["test_metadata"].get("kwargs") or {}
    if kwargs.get("column_name"):
        return (kwargs["column_name"],)
    return tuple(kwargs.get("combination_of_columns") or ())


UNIQUENESS_TESTS = {"unique", "unique_combination_of_columns"}


def primary_keys(manifest: dict[str, Any]) -> dict[str, list[tuple[dict, dict[str, dict | None]]]]:
    """Each model of the project -> its declared keys and the not_null test of each key column.

    A key is a ``unique`` test on a column, or a ``dbt_utils.unique_combination_of_columns``
    test on several (no project declares a ``primary_key`` constraint). Every model is listed,
    with an empty list when it declares no key.

    Returns:
        model ``unique_id`` -> ``[(uniqueness test, {column: its not_null test or None})]``.
    """
    project = manifest["metadata"]["project_name"]
    tests = generic_tests(manifest)
    not_null = {
        (test["attached_node"], column): test
        for test in tests
        if test["test_metadata"]["name"] == "not_null"
        for column in columns_of(test)
    }
    keys: dict[str, list[tuple[dict, dict[str, dict | None]]]] = {
        unique_id: []
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == project
    }
    for test in tests:
        model = test["attached_node"]
        if test["test_metadata"]["name"] in UNIQUENESS_TESTS and model in keys:
            columns = columns_of(test)
            assert columns, test["unique_id"]
            keys[model].append(
                (test, {column: not_null.get((model, column)) for column in columns})
            )
    return keys


def key_problems(manifest: dict[str, Any]) -> list[str]:
    """Name every model without a key, and every key column without a not_null test."""
    problems = []
    for model, keys in primary_keys(manifest).items():
        if not keys:
            problems.append(f"{model} declares no key (no unique test)")
        for test, columns in keys:
            for column, not_null in columns.items():
                if not_null is None:
                    problems.append(f"{model}: key column {column} ({test['name']}) may be null")
    return problems


def published_sources(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The sources another dbt project publishes: source ``unique_id`` -> (publisher, table)."""
    published = {}
    for unique_id, source in manifest["sources"].items():
        if publisher := resource_meta(source).get("published_by"):
            published[unique_id] = (publisher, source["name"])
    return published


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


def test_dbt_tests_become_asset_checks(all_definitions, manifests):
    for name, defs in all_definitions.items():
        checks = asset_graph(defs).asset_check_keys
        assets = assets_by_dbt_node(defs)
        tests = [test for test in generic_tests(manifests[name]) if test["attached_node"] in assets]
        assert tests, f"{name}: no generic dbt test on its own models or seeds"
        for test in tests:
            expected = dg.AssetCheckKey(assets[test["attached_node"]], test["name"])
            assert expected in checks, f"{name}: {test['unique_id']} is no asset check"


def test_every_model_has_a_primary_key_tested_unique_and_not_null(all_definitions, manifests):
    for name, defs in all_definitions.items():
        manifest = manifests[name]
        keys = primary_keys(manifest)
        assert keys, f"{name}: the manifest has no model"
        assert key_problems(manifest) == [], name
        checks = asset_graph(defs).asset_check_keys
        assets = assets_by_dbt_node(defs)
        for model, model_keys in keys.items():
            assert model in assets, f"{name}: {model} is no asset"
            asset = assets[model]
            for unique, not_nulls in model_keys:
                for test in [unique, *not_nulls.values()]:
                    check = dg.AssetCheckKey(asset, test["name"])
                    assert check in checks, f"{name}: {check} is not a check of {model}"


def test_the_key_check_names_a_model_without_key_or_with_a_nullable_key(manifests):
    # The check above, on manifests that lost one model's not_null test, then its unique test.
    for name, manifest in manifests.items():
        model, [(unique, not_nulls)] = next(
            (model, keys) for model, keys in primary_keys(manifest).items() if len(keys) == 1
        )
        [(column, not_null)] = not_nulls.items()

        def without(test: dict, manifest=manifest) -> dict[str, Any]:
            nodes = {uid: node for uid, node in manifest["nodes"].items() if node is not test}
            return {**manifest, "nodes": nodes}

        assert key_problems(without(not_null)) == [
            f"{model}: key column {column} ({unique['name']}) may be null"
        ], name
        assert key_problems(without(unique)) == [f"{model} declares no key (no unique test)"], name


def test_administrations_read_the_shared_marts_across_locations(all_definitions, manifests):
    # The locations whose dbt project publishes marts (sources `meta.published_by` elsewhere).
    publishers = {
        publisher
        for manifest in manifests.values()
        for publisher, _ in published_sources(manifest).values()
    }
    assert publishers, "no location reads a mart published by another"
    shared_keys = {
        key
        for publisher in publishers
        for key in own_keys(all_definitions[location_of_dbt_project(publisher).name])
    }
    administrations = [location for location in LOCATIONS if location.dbt_project not in publishers]
    assert administrations
    for location in administrations:
        name, manifest = location.name, manifests[location.name]
        published = published_sources(manifest)
        assets = assets_by_dbt_node(all_definitions[name])
        # The edges the manifest declares: a model of the administration reads a shared mart.
        declared = {
            (assets[unique_id], dg.AssetKey(list(published[upstream])))
            for unique_id, node in manifest["nodes"].items()
            if node["resource_type"] == "model"
            for upstream in node["depends_on"]["nodes"]
            if upstream in published
        }
        assert declared, f"{name} reads no shared mart of {sorted(publishers)}"
        graph = asset_graph(all_definitions[name])
        drawn = {
            (key, parent)
            for key in own_keys(all_definitions[name])
            for parent in graph.get(key).parent_keys
            if parent.path[0] != location.dbt_project
        }
        assert drawn == declared, name
        # Each such edge points at an asset the publishing location really defines.
        upstream = {parent for _, parent in drawn}
        assert upstream <= shared_keys, upstream - shared_keys


def test_workspace_lists_exactly_the_registered_locations():
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    entries = [entry["python_module"] for entry in workspace["load_from"]]
    assert [(e["location_name"], e["module_name"]) for e in entries] == [
        (location.name, location.module) for location in LOCATIONS
    ]
    # Both workspace files (local and stack) and CODEOWNERS are what the list of locations
    # generates.
    assert workspaces.CODEOWNERS in workspaces.expected_files()
    assert workspaces.main(["--check"]) == 0
    # Each administration owns its Python package and its dbt project; the platform team the rest.
    owners = dict(
        line.split(" ", 1)
        for line in workspaces.CODEOWNERS.read_text().splitlines()
        if not line.startswith("#")
    )
    assert owners["*"] == "@fwb/data_platform"
    for location in LOCATIONS:
        team = "@fwb/" + location.owner.removeprefix("team:")
        assert owners[f"/{location.name}/"] == team
        assert owners[f"/dbt_submodules/{location.dbt_project_dir.name}/"] == team


def test_a_drifted_generated_block_is_refused_and_rewritten():
    # A code server removed by hand from docker-compose.yml: --check would fail, and a run of
    # the generator puts it back, leaving the text outside the markers as it was.
    compose = REPO_ROOT / "docker-compose.yml"
    text = compose.read_text()
    service = workspaces.code_server_host(LOCATIONS[-1])
    drifted = text.replace(f"  {service}:\n    <<: *code-server\n", "  code-x:\n", 1)
    assert drifted != text
    assert workspaces.fill_blocks(compose, drifted) == text
    with pytest.raises(ValueError, match="code-servers"):
        workspaces.fill_blocks(compose, text.replace("# END generated: code-servers", "#"))


def test_every_dbt_project_has_its_sqlfluff_hook():
    # `make lint` and commits lint each registered dbt project with a hook of its own.
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    for location in LOCATIONS:
        folder = location.dbt_project_dir.name
        assert hooks[f"sqlfluff-{folder}"]["args"] == [folder]
        assert hooks[f"sqlfluff-{folder}"]["files"] == f"^dbt_submodules/{folder}/"


def test_shared_macros_and_generic_tests_are_defined_once(manifests):
    # Every dbt project uses the local package platform_utils; no macro or generic test is a
    # copy of another (name_key drifted when each project had its own).
    defined: dict[str, set[str]] = {}
    for manifest in manifests.values():
        for macro in manifest["macros"].values():
            if macro["package_name"] not in {"dbt", "dbt_duckdb"}:
                defined.setdefault(macro["name"], set()).add(macro["package_name"])
    assert {name: packages for name, packages in defined.items() if len(packages) > 1} == {}
    assert {"test_is_nis_code", "test_row_count_equals", "name_key"} <= {
        name for name, packages in defined.items() if packages == {"platform_utils"}
    }
    for location, manifest in manifests.items():
        used = {macro for node in manifest["nodes"].values()
                for macro in node.get("depends_on", {}).get("macros", [])}  # fmt: skip
        assert any(macro.startswith("macro.platform_utils.") for macro in used), location


def test_readers_sources_are_generated_from_the_publishers_contracts(manifests):
    # data-platform sources sync wrote them: the committed files are what it writes now.
    assert validate.source_problems(manifests) == []
    shared = manifests["data_platform"]["nodes"]["model.data_platform.map_nis_codes"]["columns"]
    source = manifests["agaj_project"]["sources"]["source.agaj.data_platform.map_nis_codes"]
    assert {name: column["data_type"] for name, column in source["columns"].items()} == {
        name: column["data_type"] for name, column in shared.items()
    }


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
        assert f'location_definitions("{location.name}")' in source


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


def test_a_marts_page_is_written_for_analysts(all_definitions, manifests):
    """Description without the SQL, the published Parquet file, every check described, no
    "[DbtProject] (unserializable)" entry in what the UI receives (the repository snapshot; the
    UI hides dagster-dbt's manifest and translator entries itself)."""
    for name, defs in all_definitions.items():
        graph = asset_graph(defs)
        marts = [k for k in own_keys(defs) if graph.get(k).tags.get("layer") == "marts"]
        assert marts, name
        snapshot = RepositorySnap.from_def(defs.get_repository_def())
        shown = {node.asset_key: node.metadata for node in snapshot.asset_nodes}
        for key in marts:
            node, label = graph.get(key), f"{name}: {key.to_user_string()}"
            assert node.description and "Raw SQL" not in node.description, label
            assert "select" not in node.description.lower(), label
            path = node.metadata["published_file"].path
            assert path == f"marts/{key.path[0]}/{key.path[-1]}.parquet", label
            assert "dagster_dbt/project" not in shown[key], label
            assert "dagster/code_references" in shown[key], label
        singular = {
            test["name"]: test["original_file_path"]
            for test in manifests[name]["nodes"].values()
            if test["resource_type"] == "test" and not test.get("test_metadata")
        }
        for check in graph.asset_check_keys:
            description = graph.get_check_spec(check).description or ""
            assert description.endswith(("Severity: error.", "Severity: warn.")), check
            if check.name in singular:  # its opening comment, then its file
                assert f"(dbt singular test {singular[check.name]})" in description, check
                assert len(description) > len(singular[check.name]) + 40, check
            else:
                assert description.startswith("dbt test "), check


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
