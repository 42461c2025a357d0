"""Row counts and column metadata of dbt models: batched, and without a core spinning.

The platform's dbt assets stream dbt's events through :func:`stream_with_metadata`: the row
counts and column schemas of every built model are read in one batch once dbt has exited, and
the nodes dbt built are recorded even when it fails midway.

dagster-dbt's own ``fetch_row_counts()`` and ``fetch_column_metadata()`` are not used: they run
one query per model, and in Dagster 1.13 they map over dbt's events with
``dagster._core.utils.imap``, which polls with no wait while dbt works (one core busy for the
whole build; ADR 0005). Here the events are read as dbt writes them (blocking) and the metadata
is fetched once dbt has exited, when DuckDB's single writer is free anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._utils import pushd
from dagster_dbt.asset_utils import default_metadata_from_dbt_resource_props
from dagster_dbt.errors import DagsterDbtCliRuntimeError

if TYPE_CHECKING:
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

logger = logging.getLogger(__name__)


def stream_with_metadata(invocation: DbtCliInvocation) -> Iterator[Any]:
    """Stream a dbt invocation's Dagster events, with row counts and column schemas, batched.

    dagster-dbt's ``fetch_row_counts()`` and ``fetch_column_metadata()`` run one query per built
    model (two with both), each on a connection of its own; here the events are held until dbt
    has exited (on DuckDB those queries waited for that anyway: one writer), then one query
    counts the rows of every built table and one reads the columns of every built relation, and
    the events are yielded in dbt's order with the same metadata keys (``dagster/row_count``,
    views left out as dagster-dbt does, and ``dagster/column_schema``).

    When dbt fails in the middle of a build, every node it built is still yielded (so recorded
    as materialized) before dbt's error, which names the failed nodes, is raised.

    Args:
        invocation: a ``dbt build`` (or ``run``, ``seed``...) started with a context.

    Returns:
        The invocation's events, the materializations with their metadata.

    Raises:
        dagster_dbt.errors.DagsterDbtCliRuntimeError: dbt failed; raised after the events.
    """
    events: list[Any] = []
    failure: DagsterDbtCliRuntimeError | None = None
    try:
        events.extend(invocation.stream())
    except DagsterDbtCliRuntimeError as error:
        failure = error
    built = {
        index: str(event.metadata["unique_id"].value)
        for index, event in enumerate(events)
        if isinstance(event, (dg.Output, dg.AssetMaterialization)) and "unique_id" in event.metadata
    }
    metadata = fetch_metadata(invocation, sorted(set(built.values())))
    for index, event in enumerate(events):
        extra = metadata.get(built.get(index, ""))
        yield event.with_metadata({**event.metadata, **extra}) if extra else event
    if failure is not None:
        raise failure


def fetch_metadata(
    invocation: DbtCliInvocation, unique_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Return the row count and the column schema of built dbt nodes, in two batched queries.

    The queries go through the invocation's dbt adapter (as dagster-dbt's own fetching does, so
    that a relation in an ``abfs://`` lake is read with the profile's filesystems); its
    connections are closed afterwards, so that the next dbt run can open the DuckDB file.

    Args:
        invocation: the finished dbt invocation.
        unique_ids: the manifest ids of the nodes it built.

    Returns:
        ``{unique_id: metadata}``; empty when the adapter is unavailable or a query fails (the
        failure is logged, the run goes on without that metadata, as with dagster-dbt).
    """
    adapter = invocation.adapter
    nodes = [
        invocation.manifest["nodes"][uid]
        for uid in unique_ids
        if uid in invocation.manifest["nodes"]
    ]
    nodes = [node for node in nodes if node.get("relation_name")]
    if adapter is None or not nodes:
        return {}
    storage_kind = invocation.manifest.get("metadata", {}).get("adapter_type")
    found: dict[str, dict[str, Any]] = {node["unique_id"]: {} for node in nodes}
    try:
        with pushd(str(invocation.project_dir)), adapter.connection_named("platform_metadata"):
            tables = [node for node in nodes if node["config"].get("materialized") != "view"]
            if tables:
                counts = " union all ".join(
                    f"select {index} as node, count(*) as row_count from {node['relation_name']}"
                    for index, node in enumerate(tables)
                )
                for index, row_count in adapter.execute(counts, fetch=True)[1].rows:
                    found[tables[int(index)]["unique_id"]].update(
                        {**TableMetadataSet(row_count=int(row_count), storage_kind=storage_kind)}
                    )
            by_relation = {relation_key(node): node["unique_id"] for node in nodes}
            columns: dict[str, dict[str, dict[str, str]]] = {}
            for row in adapter.execute(columns_query(nodes), fetch=True)[1].rows:
                catalog, schema, table, name, data_type, size, precision, scale = row
                uid = by_relation.get((catalog.lower(), schema.lower(), table.lower()))
                if uid is not None:
                    column = adapter.Column(name, data_type, size, precision, scale)
                    columns.setdefault(uid, {})[name] = {"data_type": column.data_type}
            for uid, schema_columns in columns.items():
                found[uid].update(
                    default_metadata_from_dbt_resource_props({"columns": schema_columns})
                )
    except Exception:  # noqa: BLE001  # metadata is a bonus: the run keeps what dbt built
        logger.exception("Row counts and column schemas could not be fetched")
        return {}
    finally:
        adapter.cleanup_connections()
        close_all = getattr(adapter.connections, "close_all_connections", None)
        if close_all is not None:  # dbt-duckdb: release the DuckDB file for the next run
            close_all()
    return {uid: metadata for uid, metadata in found.items() if metadata}


def relation_key(node: dict[str, Any]) -> tuple[str, str, str]:
    """Return a built node's (database, schema, identifier), lower-case."""
    identifier = node.get("alias") or node["name"]
    return (str(node["database"]).lower(), str(node["schema"]).lower(), identifier.lower())


def columns_query(nodes: list[dict[str, Any]]) -> str:
    """Return one query over ``information_schema.columns`` for the relations of ``nodes``.

    Its columns are those dbt's ``get_columns_in_relation`` reads: catalog, schema, table,
    column name, data type, character length, numeric precision and scale.
    """
    wanted = ", ".join(
        "("
        + ", ".join(f"'{part.replace(chr(39), chr(39) * 2)}'" for part in relation_key(node))
        + ")"
        for node in nodes
    )
    return (
        "select table_catalog, table_schema, table_name, column_name, data_type,"
        " character_maximum_length, numeric_precision, numeric_scale"
        " from system.information_schema.columns"
        " where (lower(table_catalog), lower(table_schema), lower(table_name))"
        f" in ({wanted}) order by table_catalog, table_schema, table_name, ordinal_position"
    )
