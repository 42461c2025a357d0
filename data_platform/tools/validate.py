"""The workspace-wide check (``data-platform validate``), beside ``dagster definitions validate``.

``dagster definitions validate`` loads each code location on its own, so it cannot see what is
wrong between them or between a location and its registration. :func:`problems` reports:

* a dbt project whose ``name:`` differs from its registration in ``data_platform/locations.py``
  (its asset keys and groups would be under two names);
* a dbt package of ``packages.yml`` / ``dependencies.yml`` that is not in the repository: a
  ``local:`` folder that does not exist, or a hub or git package not installed in
  ``dbt_packages/`` (the platform runs no ``dbt deps`` against the network);
* an asset key defined by two locations;
* a source with ``meta.published_by`` whose mart no location defines;
* a mart read by another location that is not a public model with an enforced contract
  (``access: public``, ``contract: {enforced: true}``), or a column the reader's source
  declares that the contract lacks: the columns and types between locations are explicit, and
  the publisher's build fails, not the reader's, when they change.

It reads the prepared manifests (it prepares those missing) and builds each location's
definitions with the factory, as the code servers do. Hand-written because neither
Dagster nor dbt checks a workspace of several projects as a whole.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from data_platform.factory import build_location_definitions, dbt_project, prepare_manifest
from data_platform.locations import LOCATIONS, get_location
from data_platform.settings import REPO_ROOT
from data_platform.translator import resource_meta

VENDOR_HINT = (
    "vendor it: copy the package into the repository and list it in packages.yml as"
    " `- local: <folder>` (local packages need no network)"
)


def read_yaml(path: Path) -> dict[str, object]:
    """Return the mapping of a YAML file, empty when the file is absent or empty."""
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def project_problems() -> list[str]:
    """Return the name mismatches and missing packages of every registered dbt project."""
    found = []
    for location in LOCATIONS:
        folder = location.dbt_project_dir
        shown = folder.relative_to(REPO_ROOT)
        name = read_yaml(folder / "dbt_project.yml").get("name")
        if name != location.dbt_project:
            found.append(
                f"{shown}/dbt_project.yml names the dbt project {name!r}, but"
                f" data_platform/locations.py registers it as {location.dbt_project!r}"
                f" ({location.name}): rename one of them"
            )
        for file in ("packages.yml", "dependencies.yml"):
            packages = read_yaml(folder / file).get("packages") or []
            for package in packages if isinstance(packages, list) else []:
                if "local" in package:
                    if not (folder / package["local"]).is_dir():
                        found.append(f"{shown}/{file}: local package {package['local']} is missing")
                    continue
                source = str(package.get("package") or package.get("git") or package)
                installed = source.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
                if not (folder / "dbt_packages" / installed).is_dir():
                    found.append(
                        f"{shown}/{file}: package {source} is not installed in dbt_packages/"
                        f" and the platform fetches none; {VENDOR_HINT}"
                    )
    return found


def asset_problems() -> list[str]:
    """Return the asset keys defined twice and the published marts that no location defines."""
    found: list[str] = []
    defined: defaultdict[dg.AssetKey, list[str]] = defaultdict(list)
    read: defaultdict[dg.AssetKey, list[str]] = defaultdict(list)
    for location in LOCATIONS:
        try:
            graph = build_location_definitions(location.name).resolve_asset_graph()
        except Exception as error:  # noqa: BLE001  # reported, and the other checks go on
            found.append(f"{location.name} does not load: {error}")
            continue
        for key in graph.get_all_asset_keys():
            owner = defined if graph.get(key).is_materializable else read
            owner[key].append(location.name)
    for key, names in defined.items():
        if len(names) > 1:
            found.append(f"asset key {key.to_user_string()} is defined by {' and '.join(names)}")
    for key, names in read.items():
        if key not in defined:
            found.append(
                f"{', '.join(names)} reads {key.to_user_string()} (a source with"
                f" meta.published_by: {key.path[0]}), but no location publishes it"
            )
    return found


def contract_problems(manifests: dict[str, dict[str, Any]]) -> list[str]:
    """Return the marts read across locations without a public model's enforced contract.

    Args:
        manifests: ``{code location name: its manifest}`` of the registered locations.

    Returns:
        One line per published mart that is not ``access: public`` with an enforced contract,
        and per column a reader's source declares that the contract lacks. A mart no location
        defines is :func:`asset_problems`'s to report.
    """
    found = []
    by_project = {get_location(name).dbt_project: manifest for name, manifest in manifests.items()}
    for reader, manifest in sorted(manifests.items()):
        for source in manifest.get("sources", {}).values():
            publisher = resource_meta(source).get("published_by")
            model = (
                by_project.get(publisher or "", {})
                .get("nodes", {})
                .get(f"model.{publisher}.{source['name']}")
            )
            if model is None:
                continue
            shown = f"{reader} reads {publisher}'s mart {source['name']}"
            if model.get("access") != "public" or not model["contract"].get("enforced"):
                found.append(
                    f"{shown}, which is not a public model with an enforced contract: set"
                    f" access: public and contract: {{enforced: true}} (every column with its"
                    f" data_type) in {publisher}'s {model['original_file_path']} properties"
                )
                continue
            missing = sorted(set(source.get("columns") or {}) - set(model.get("columns") or {}))
            if missing:
                found.append(
                    f"{shown}: its source declares {', '.join(missing)}, which {publisher}'s"
                    f" contract lacks"
                )
    return found


def problems() -> list[str]:
    """Return every problem of the workspace, one line each; empty when it is sound.

    The dbt projects are checked first; then a manifest not prepared yet is (``dbt parse``),
    and the locations are built.
    """
    found = project_problems()
    for location in LOCATIONS:
        if not dbt_project(location.name).manifest_path.exists():
            try:
                prepare_manifest(location.name)
            except Exception as error:  # noqa: BLE001  # reported with the other problems
                found.append(f"dbt parse of {location.dbt_project_dir.name} failed: {error}")
    manifests = {}
    for location in LOCATIONS:
        path = dbt_project(location.name).manifest_path
        if path.exists():
            manifests[location.name] = json.loads(path.read_text())
    return found + asset_problems() + contract_problems(manifests)
