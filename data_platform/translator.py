"""The one translator from dbt resources to Dagster assets, shared by every code location.

It owns the platform's naming rules (see ``docs/dbt_conventions.md``):

* a dbt model or seed of project ``P`` has the key ``[P, <name>]``;
* a raw source table has the key ``[P, "raw", <source>, <table>]`` (the raw asset that lands
  the file in the lake has the same key, so dbt models depend on it);
* a source whose ``meta.published_by`` names another dbt project ``Q`` is that project's mart:
  key ``[Q, <table>]``, which draws the edge across code locations in the asset graph.

Groups are ``<project>_<layer>`` (``raw``, ``seeds``, ``staging``, ``intermediate``, ``marts``);
every asset is owned by its location's owner and tagged with its layer and administration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject
from dagster_dbt.asset_utils import DAGSTER_DBT_PROJECT_METADATA_KEY, default_description_fn

from data_platform.automation import automation_condition
from data_platform.environment import DBT_DOCS_URL
from data_platform.lake import PUBLISHED_MARTS, mart_parts
from data_platform.locations import CodeLocation
from data_platform.publish import is_external_mart

LAYERS = ("staging", "intermediate", "marts")

DBT_DOCS_URL_ENV = DBT_DOCS_URL.name


def dbt_docs_base_url() -> str:
    """Return the URL under which browsers reach the docs site, without a trailing slash.

    Returns:
        ``$DATA_PLATFORM_DBT_DOCS_URL`` or its declared default (read at call time).
    """
    return DBT_DOCS_URL.value().rstrip("/")


def model_docs_url(dbt_project: str, unique_id: str) -> str:
    """Return the link to one dbt resource's page in the docs site.

    Args:
        dbt_project: dbt project name, e.g. ``ags``.
        unique_id: the resource's manifest id, e.g. ``model.ags.fct_walks``.

    Returns:
        ``<base>/<dbt project>/index.html#!/<resource type>/<unique id>``, the route of dbt docs.
    """
    resource_type = unique_id.split(".", 1)[0]
    return f"{dbt_docs_base_url()}/{dbt_project}/index.html#!/{resource_type}/{unique_id}"


def resource_meta(dbt_resource_props: Mapping[str, Any]) -> dict[str, Any]:
    """Return a dbt resource's ``meta``, merged from its ``meta`` and its ``config.meta``.

    Args:
        dbt_resource_props: one node or source of ``manifest.json``.

    Returns:
        The merged mapping (``config.meta`` wins, as in dbt >= 1.10).
    """
    config_meta = (dbt_resource_props.get("config") or {}).get("meta") or {}
    return {**(dbt_resource_props.get("meta") or {}), **config_meta}


def published_file(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """Return where a mart's Parquet file is published, relative to the lake root.

    Returns:
        ``marts/<dbt project>/<model>.parquet`` for a model materialized ``external``
        (dbt-duckdb writes it; :mod:`data_platform.publish` publishes it there), else ``None``.
    """
    if not is_external_mart(dbt_resource_props):
        return None
    project, model = dbt_resource_props["package_name"], dbt_resource_props["name"]
    return "/".join(mart_parts(PUBLISHED_MARTS, project, model))


def dbt_test_description(test_props: Mapping[str, Any]) -> str:
    """Return what a dbt test checks, in a sentence, for its asset check's description.

    Args:
        test_props: one test node of ``manifest.json``.

    Returns:
        The test's own dbt ``description`` when it has one; for a generic test, its name, column
        and arguments (``not_null on column walk_key``); for a singular test, the comment lines
        that open its SQL file (the project's convention) and the file. Each ends with the
        test's severity.
    """
    severity = ((test_props.get("config") or {}).get("severity") or "error").lower()
    metadata = test_props.get("test_metadata") or {}
    if test_props.get("description"):
        text = test_props["description"]
    elif metadata:
        kwargs = {k: v for k, v in (metadata.get("kwargs") or {}).items() if k != "model"}
        column = kwargs.pop("column_name", None)
        text = f"dbt test {metadata['name']}" + (f" on column {column}" if column else "")
        if kwargs:
            text += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(kwargs.items())) + ")"
    else:
        lines = (test_props.get("raw_code") or "").splitlines()
        comment = [
            line.strip().removeprefix("--").strip()
            for line in lines
            if line.strip().startswith("--")
        ]
        path = test_props.get("original_file_path", "")
        text = " ".join(comment) + f" (dbt singular test {path})" if comment else path
    return f"{text}. Severity: {severity}."


def layer_of(dbt_resource_props: Mapping[str, Any]) -> str:
    """Return the layer of a dbt resource, read from its type and its folder (``fqn``).

    Returns:
        ``raw`` (sources), ``seeds``, ``staging``, ``intermediate``, ``marts`` or ``other``.
    """
    resource_type = dbt_resource_props.get("resource_type")
    if resource_type == "source":
        return "raw"
    if resource_type == "seed":
        return "seeds"
    fqn = dbt_resource_props.get("fqn") or []
    folder = fqn[1] if len(fqn) > 2 else ""
    return folder if folder in LAYERS else "other"


class PlatformDbtTranslator(DagsterDbtTranslator):
    """Translate the dbt project of one code location into namespaced Dagster assets.

    Args:
        location: the code location whose dbt project is translated.
        project: its dbt project, for the code references of the assets (:meth:`get_asset_spec`).
    """

    def __init__(self, location: CodeLocation, project: DbtProject | None = None):
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_code_references=True, enable_source_tests_as_checks=True
            )
        )
        self.location = location
        self.project = project

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        """Return dagster-dbt's asset spec, without the dbt project object in its metadata.

        dagster-dbt puts the :class:`dagster_dbt.DbtProject` in every asset's metadata, which the
        UI can only show as ``[DbtProject] (unserializable)``. It is left out; the code references
        built from it stay. At run time dagster-dbt then finds no project in the metadata and
        passes ``None``: the translator's own ``project`` serves, and the dbt resource runs in
        its own ``project_dir``.

        Raises:
            dagster.DagsterInvalidDefinitionError: neither ``project`` nor the translator's own
                project is given (code references need one).
        """
        spec = super().get_asset_spec(manifest, unique_id, project or self.project)
        if DAGSTER_DBT_PROJECT_METADATA_KEY not in spec.metadata:
            return spec
        metadata = dict(spec.metadata)
        del metadata[DAGSTER_DBT_PROJECT_METADATA_KEY]
        return spec.replace_attributes(metadata=metadata)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """Return the asset key of a dbt model, seed or source.

        Returns:
            ``[project, name]``, ``[project, "raw", source, table]`` or, for a mart published
            by another location, ``[publisher, table]``.
        """
        project = dbt_resource_props.get("package_name") or self.location.dbt_project
        if dbt_resource_props.get("resource_type") == "source":
            publisher = resource_meta(dbt_resource_props).get("published_by")
            if publisher:
                return dg.AssetKey([publisher, dbt_resource_props["name"]])
            return dg.AssetKey(
                [project, "raw", dbt_resource_props["source_name"], dbt_resource_props["name"]]
            )
        return dg.AssetKey([project, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """Return ``<project>_<layer>``, e.g. ``ags_marts``."""
        return f"{self.location.dbt_project}_{layer_of(dbt_resource_props)}"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """Return the owner of the location (``team:<administration>``)."""
        return [self.location.owner]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        """Return dbt's tags plus ``layer`` and ``administration`` tags."""
        return {
            **super().get_tags(dbt_resource_props),
            "layer": layer_of(dbt_resource_props),
            "administration": self.location.dbt_project,
        }

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition[Any] | None:
        """Return the platform's one automation condition (:mod:`data_platform.automation`).

        The raw assets ask for it here too, so every asset of every location has the same.
        """
        return automation_condition()

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """Return the dbt description (or ``dbt model <name>``), without dagster-dbt's raw SQL.

        The asset's page is for analysts; the SQL is one click away in the dbt docs (``dbt_docs``).
        """
        return str(default_description_fn(dbt_resource_props, display_raw_sql=False))

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        """Return dagster-dbt's check of a dbt test, described (:func:`dbt_test_description`)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return spec._replace(description=dbt_test_description(manifest["nodes"][unique_id]))

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """Return dbt's metadata (column schema, relation) plus the location and dbt docs link.

        Returns:
            dbt's metadata, ``code_location``, ``dbt_resource_type``, ``dbt_docs``: the URL of
            the resource's page in the docs site (:mod:`data_platform.tools.docs_site`), and for
            a mart ``published_file``, its Parquet file in the lake (:func:`published_file`).
        """
        project = dbt_resource_props.get("package_name") or self.location.dbt_project
        path = published_file(dbt_resource_props)
        return {
            **super().get_metadata(dbt_resource_props),
            "code_location": self.location.name,
            "dbt_resource_type": dbt_resource_props.get("resource_type", ""),
            "dbt_docs": dg.MetadataValue.url(
                model_docs_url(project, dbt_resource_props["unique_id"])
            ),
            **({"published_file": dg.MetadataValue.path(path)} if path else {}),
        }
