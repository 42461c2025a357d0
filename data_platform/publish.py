"""Write, audit, publish: a mart reaches the lake's published folder only once its tests passed.

dbt-duckdb's ``external`` materialization writes a mart's Parquet file when the model is built,
before ``dbt build`` runs its tests. The dbt profiles therefore write the marts to the lake's
staging folder (``marts_root``, :data:`data_platform.lake.STAGED_MARTS`), and
:func:`publish_tested_marts`, wrapped around the dbt asset's events, copies a built mart to the
published folder (:data:`data_platform.lake.PUBLISHED_MARTS`, where the other locations read it)
only when every blocking (error-severity) asset check of the mart selected in the run passed.
A mart whose test failed keeps its previous published file, byte for byte; the run fails with
dagster-dbt's error, which names the failing test, and the log says which mart stayed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from data_platform.lake import (
    PUBLISHED_MARTS,
    STAGED_MARTS,
    Lake,
    mart_file,
    mart_parts,
    publish_file,
)


def external_marts(
    manifest: Mapping[str, Any], translator: DagsterDbtTranslator
) -> dict[dg.AssetKey, str]:
    """Return ``{asset key: model name}`` of the models materialized as Parquet files.

    Args:
        manifest: the dbt manifest.
        translator: the location's translator (asset keys).

    Returns:
        The models whose ``materialized`` config is ``external`` (dbt-duckdb).
    """
    return {
        translator.get_asset_key(node): node["name"]
        for node in manifest["nodes"].values()
        if is_external_mart(node)
    }


def is_external_mart(dbt_resource_props: Mapping[str, Any]) -> bool:
    """Tell whether a dbt node is a mart published to the lake.

    That is a model materialized ``external``: dbt-duckdb writes it as a Parquet file.
    """
    config = dbt_resource_props.get("config") or {}
    return bool(
        dbt_resource_props.get("resource_type") == "model"
        and config.get("materialized") == "external"
    )


def blocking_checks(context: dg.AssetExecutionContext) -> dict[dg.AssetKey, set[str]]:
    """Return the names of the blocking checks selected in this run, by asset key.

    dagster-dbt makes a dbt test of severity ``error`` a blocking check.
    """
    specs = {spec.key: spec for spec in context.assets_def.check_specs}
    selected: dict[dg.AssetKey, set[str]] = defaultdict(set)
    for key in context.selected_asset_check_keys:
        if key in specs and specs[key].blocking:
            selected[key.asset_key].add(key.name)
    return selected


def publish_tested_marts(
    context: dg.AssetExecutionContext,
    events: Iterator[Any],
    lake: Lake,
    dbt_project_name: str,
    marts: Mapping[dg.AssetKey, str],
) -> Iterator[Any]:
    """Pass the dbt asset's events on; publish each built mart whose blocking checks passed.

    Publishing happens once dbt has ended (its events are exhausted, or it failed): a mart's
    tests run after it is built, in any order.

    Args:
        context: the dbt asset's execution context.
        events: the events of ``DbtCliInvocation.stream()``.
        lake: the lake.
        dbt_project_name: the dbt project, e.g. ``ags`` (its folders in the lake).
        marts: :func:`external_marts` of the location.

    Yields:
        The events, unchanged.

    Raises:
        Whatever ``events`` raises (dbt's failure), after the marts that passed were published.
        OSError, data_platform.lake.LakeError: a copy to the published folder failed.
    """
    expected = blocking_checks(context)
    built: list[dg.AssetKey] = []
    passed: dict[dg.AssetKey, set[str]] = defaultdict(set)
    failed: dict[dg.AssetKey, list[str]] = defaultdict(list)
    try:
        for event in events:
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
                if key in marts:
                    built.append(key)
            elif isinstance(event, dg.AssetCheckResult) and event.asset_key in marts:
                key, name = event.asset_key or dg.AssetKey([]), str(event.check_name)
                if event.passed:
                    passed[key].add(name)
                else:
                    failed[key].append(name)
            yield event
    finally:
        for key in built:
            unchecked = expected[key] - passed[key]
            if unchecked:
                context.log.error(
                    f"Mart {key.to_user_string()} NOT published (the previous version stays):"
                    f" its tests {sorted(unchecked)} did not pass"
                    + (f" (failed: {sorted(failed[key])})" if failed[key] else "")
                )
                continue
            model = marts[key]
            destination = mart_file(lake, PUBLISHED_MARTS, dbt_project_name, model)
            publish_file(lake, mart_file(lake, STAGED_MARTS, dbt_project_name, model), destination)
            shown = lake.display(*mart_parts(PUBLISHED_MARTS, dbt_project_name, model))
            context.log.info(f"Mart {key.to_user_string()} published: {shown}")
