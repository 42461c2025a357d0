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

* a reader's source of published marts that is not as :func:`synced_sources` writes it from
  the publisher's manifest (``data-platform sources sync``): descriptions, columns and their
  types come from the publisher's contract, only the reader's own tests are written by hand.

It reads the prepared manifests (it prepares those missing) and builds each location's
definitions with the factory, as the code servers do. Hand-written because neither
Dagster nor dbt checks a workspace of several projects as a whole.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from data_platform.factory import (
    ManifestError,
    build_location_definitions,
    dbt_project,
    load_manifest,
    prepare_manifest,
)
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


SYNCED_HEADER = (
    "# Descriptions and columns generated from the publishers' contracts by `data-platform"
    " sources sync`:\n# edit only the list of tables and the tests (data_tests) read here.\n"
)


class SourcesDumper(yaml.SafeDumper):
    """YAML as dbt's style guide writes it: lists indented under their key, long text folded."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent block sequences under their key (PyYAML's default does not)."""
        super().increase_indent(flow, False)


SourcesDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style=">" if len(text) > 80 else None
    ),
)


def synced_sources(reader: str, manifests: dict[str, dict[str, Any]]) -> dict[Path, str]:
    """Return the reader's source files of published marts as generated from their publishers.

    Each table of a source with ``meta.published_by`` takes its description and its columns
    (name, description, ``data_type``, in the contract's order) from the publisher's model of
    the same name; the reader's ``data_tests`` of a table or column are kept, as are the
    source's other keys. A table the publisher does not define is left as it is
    (:func:`asset_problems` reports it).

    Args:
        reader: the reader's code location name.
        manifests: ``{code location name: its manifest}``, the publishers' among them.

    Returns:
        ``{path of a source file: its text}``, for every file holding such a source.
    """
    by_project = {get_location(name).dbt_project: manifest for name, manifest in manifests.items()}
    folder = get_location(reader).dbt_project_dir
    files = {
        folder / source["original_file_path"]
        for source in manifests[reader].get("sources", {}).values()
        if resource_meta(source).get("published_by")
    }
    texts = {}
    for path in sorted(files):
        document: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
        for source in document.get("sources") or []:
            publisher = resource_meta(source).get("published_by")
            nodes = by_project.get(publisher or "", {}).get("nodes", {})
            for table in source.get("tables") or []:
                model = nodes.get(f"model.{publisher}.{table['name']}")
                if model is None:
                    continue
                tests = {
                    column["name"]: column.get("data_tests")
                    for column in table.get("columns") or []
                }
                table["description"] = model["description"]
                table["columns"] = [
                    {"name": name, "description": column["description"],
                     "data_type": column["data_type"]}
                    | ({"data_tests": tests[name]} if tests.get(name) else {})
                    for name, column in model["columns"].items()
                ]  # fmt: skip
        dumped = yaml.dump(
            document, Dumper=SourcesDumper, sort_keys=False, allow_unicode=True, width=100
        )
        texts[path] = SYNCED_HEADER + dumped
    return texts


def source_problems(manifests: dict[str, dict[str, Any]]) -> list[str]:
    """Return the readers' source files that differ from :func:`synced_sources`."""
    return [
        f"{path.relative_to(REPO_ROOT)} differs from its publishers' contracts:"
        " run `data-platform sources sync`"
        for reader in manifests
        for path, text in synced_sources(reader, manifests).items()
        if path.read_text() != text
    ]


def sync_sources() -> list[Path]:
    """Write every reader's sources of published marts as :func:`synced_sources` gives them.

    The manifests missing are prepared first; a location whose files changed is prepared again.

    Returns:
        The files written (those that differed).

    Raises:
        dagster_dbt.errors.DagsterDbtCliRuntimeError: ``dbt parse`` fails.
    """
    manifests = prepared_manifests([])
    written: list[Path] = []
    for reader in manifests:
        changed = {path: text for path, text in synced_sources(reader, manifests).items()
                   if path.read_text() != text}  # fmt: skip
        for path, text in changed.items():
            path.write_text(text)
        if changed:
            prepare_manifest(reader)
        written += changed
    return written


def prepared_manifests(found: list[str]) -> dict[str, dict[str, Any]]:
    """Return the manifests of the locations that have one, preparing those missing.

    Args:
        found: the problems so far; a ``dbt parse`` that fails is appended to it.
    """
    for location in LOCATIONS:
        if not dbt_project(location.name).manifest_path.exists():
            try:
                prepare_manifest(location.name)
            except Exception as error:  # noqa: BLE001  # reported with the other problems
                found.append(f"dbt parse of {location.dbt_project_dir.name} failed: {error}")
    manifests = {}
    for location in LOCATIONS:
        with contextlib.suppress(ManifestError):  # asset_problems says it does not load
            manifests[location.name] = load_manifest(location, dbt_project(location.name))
    return manifests


def problems() -> list[str]:
    """Return every problem of the workspace, one line each; empty when it is sound.

    The dbt projects are checked first; then a manifest not prepared yet is (``dbt parse``),
    and the locations are built.
    """
    found = project_problems()
    manifests = prepared_manifests(found)
    return found + asset_problems() + contract_problems(manifests) + source_problems(manifests)
