"""The sensor that picks up new raw data: it watches each raw dataset where it arrives, the lake.

``<project>_raw_files`` (one per location, :func:`raw_files_sensor`) lists, on every tick, the
lake files matching each raw asset's ``meta.raw_files`` patterns under ``<lake>/raw/`` (a local
folder, or the ADLS container through adlfs) and their fingerprint
(:func:`data_platform.raw.fingerprint`: SHA-256 of the content, or the blob's ETag). A file that
is new, or whose fingerprint differs both from the one the sensor saw last (kept in its cursor)
and from the one the raw asset recorded when it last materialized, requests that raw asset's
materialization, tagged with the files that arrived (the raw asset checks them in the lake
instead of landing ``open_data/`` over them). The automation conditions then rebuild what is
downstream, in every location. An unchanged file requests nothing; a file the raw asset landed
itself requests nothing either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import dagster as dg

from data_platform.locations import CodeLocation
from data_platform.raw import ARRIVED_TAG, lake_fingerprints, recorded
from data_platform.settings import PlatformStorage


def changed_files(
    current: Mapping[str, str], seen: Mapping[str, str] | None, landed: Mapping[str, str]
) -> list[str]:
    """Return the files that arrived or changed, sorted.

    Args:
        current: ``{lake path: fingerprint}`` now.
        seen: what the sensor saw at its previous tick for this asset; ``None`` on its first
            tick (then only a difference from ``landed`` counts, and only if anything was
            recorded).
        landed: what the raw asset recorded at its last materialization.

    Returns:
        The lake paths whose fingerprint differs from both ``seen`` and ``landed``.
    """
    if seen is None:
        if not landed:  # nothing to compare with: the current files are the baseline
            return []
        seen = landed
    return sorted(
        path
        for path, print_ in current.items()
        if print_ != seen.get(path) and print_ != landed.get(path)
    )


def raw_files_sensor(
    location: CodeLocation,
    raw_patterns: Mapping[dg.AssetKey, Sequence[str]],
    default_status: dg.DefaultSensorStatus,
    interval: int,
) -> dg.SensorDefinition:
    """Return the sensor ``<project>_raw_files`` of a location.

    Args:
        location: the code location.
        raw_patterns: each raw asset's key and its ``meta.raw_files`` patterns.
        default_status: RUNNING when automation is on.
        interval: seconds between two ticks.

    Returns:
        A sensor targeting the raw assets; its cursor is ``{asset key: {lake path: fingerprint}}``
        (JSON).
    """

    @dg.sensor(
        name=f"{location.dbt_project}_raw_files",
        asset_selection=list(raw_patterns),
        default_status=default_status,
        minimum_interval_seconds=interval,
        description=(
            f"Watches the raw files of {location.name} in the lake (content hash or ETag) and"
            " materializes a raw asset when one of its files is new or changed."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, storage: PlatformStorage) -> dg.SensorResult:
        lake = storage.lake()
        cursor: dict[str, dict[str, str]] = json.loads(context.cursor) if context.cursor else {}
        requests = []
        for key, patterns in raw_patterns.items():
            name = key.to_user_string()
            current = lake_fingerprints(lake, patterns)
            event = context.instance.get_latest_materialization_event(key)
            landed = recorded(event.asset_materialization if event else None, "fingerprints")
            changed = changed_files(current, cursor.get(name), landed)
            cursor[name] = current
            if changed:
                state = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()
                context.log.info(f"{name}: new or changed in the lake: {', '.join(changed)}")
                requests.append(
                    dg.RunRequest(
                        run_key=f"{name}:{state[:16]}",
                        asset_selection=[key],
                        tags={ARRIVED_TAG: json.dumps(changed)},
                    )
                )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return _sensor
