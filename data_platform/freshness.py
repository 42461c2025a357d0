"""Freshness policies of the raw and mart assets, shown on each asset in the Dagster UI.

The platform uses Dagster's freshness policies (:class:`dagster.FreshnessPolicy`, which
superseded freshness checks in Dagster 1.12): they are not asset checks, so they add nothing to
a run and never fail one; the daemon evaluates them (``freshness: enabled: true`` in
``dagster.yaml``) and the UI shows each asset as *Fresh*, *Warning* or *Failing*.

The rule (see the README, "Notifications, freshness and logs"):

* **marts** are rebuilt every day: warning after 24 h without a materialization, failing after
  26 h (a day plus the time a full run of a location takes, with a margin);
* **raw** files are landed at least once a week (their publishers update them yearly at most):
  warning after 7 days, failing after 8 days.

Staging and intermediate models have no policy of their own: they are rebuilt by the same runs
as the marts, whose policy already reports a stale chain.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

MART_POLICY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=24)
)
"""Marts: a daily rebuild, failing after 26 h."""

RAW_POLICY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=8), warn_window=timedelta(days=7)
)
"""Raw files: landed weekly, failing after 8 days."""

POLICIES: dict[str, dg.FreshnessPolicy] = {"marts": MART_POLICY, "raw": RAW_POLICY}
"""Freshness policy per layer (the ``layer`` tag the translator and the raw assets set)."""


def with_freshness_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Return ``spec`` with the freshness policy of its layer, if its layer has one.

    Args:
        spec: an asset spec tagged with ``layer`` (``raw``, ``staging``, ``marts``, ...).

    Returns:
        The spec with :data:`POLICIES` ``[layer]`` as its freshness policy, or unchanged.
    """
    policy = POLICIES.get(spec.tags.get("layer", ""))
    if policy is None:
        return spec
    return spec.replace_attributes(freshness_policy=policy)


def apply_freshness_policies(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Attach the layer's freshness policy to every raw and mart asset of ``assets``.

    Args:
        assets: assets definitions (raw assets, dbt multi-assets).

    Returns:
        New assets definitions, the same assets with their policies.
    """
    return [asset.map_asset_specs(with_freshness_policy) for asset in assets]
