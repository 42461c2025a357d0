"""The sensor that picks up new raw data: it watches each raw dataset where it arrives, the lake.

``<project>_raw_files`` (one per location, :func:`raw_files_sensor`) lists, on every tick, the lake
files matching each raw asset's ``meta.raw_files`` patterns under ``<lake>/raw/`` (a local folder,
or the ADLS container through adlfs) and their fingerprint (:func:`data_platform.raw.fingerprint`:
SHA-256 of the content, a blob's Content-MD5 or ETag). A file that is new, or whose fingerprint
differs both from the one the sensor handled last (kept in its cursor) and from the one the raw
asset recorded when it last materialized, and is the same at two ticks in a row
(:func:`settled_changes`: not read while being written), requests that raw asset's materialization,
tagged with the files that arrived (the raw asset checks them in the lake instead of landing
``open_data/`` over them). The automation conditions then rebuild what is downstream, in every
location. An unchanged file requests nothing; a file the raw asset landed itself requests nothing
either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import dagster as dg

from data_platform.locations import CodeLocation
from data_platform.raw import ARRIVED_TAG, lake_fingerprints, recorded
from data_platform.settings import PlatformStorage


def settled_changes(
    current: Mapping[str, str], state: Mapping[str, Mapping[str, str]] | None,
    landed: Mapping[str, str],
) -> tuple[list[str], dict[str, dict[str, str]]]:  # fmt: skip
    """Return the files that arrived or changed and have settled, and the sensor's new state.

    A file counts once its fingerprint is the same at two ticks in a row (it is no longer being
    written: a file copied in place, read half written, differs from the whole file at the next
    tick), differs from the last fingerprint handled for it, and differs from what the raw asset
    recorded. This is the "minimum file age" rule of file watchers (Apache NiFi's ``ListFile``),
    applied to content fingerprints rather than modification times; files delivered whole
    (written, then renamed) are picked up one tick later than they arrive.

    Args:
        current: ``{lake path: fingerprint}`` now.
        state: what the previous tick returned for this asset, ``{"seen": {...}, "handled":
            {...}}``; ``None`` on the sensor's first tick (or a cursor of an older format): then
            nothing is requested, and what the raw asset recorded (else the current files) is
            the baseline.
        landed: ``{lake path: fingerprint}`` the raw asset recorded at its last materialization.

    Returns:
        The settled, changed lake paths (sorted) and the state to keep in the cursor.
    """
    if state is None or "seen" not in state:
        return [], {"seen": dict(current), "handled": dict(landed or current)}
    seen, handled = state["seen"], dict(state["handled"])
    changed = sorted(
        path
        for path, print_ in current.items()
        if print_ == seen.get(path) and print_ not in (handled.get(path), landed.get(path))
    )
    handled.update((path, current[path]) for path in changed)
    return changed, {"seen": dict(current), "handled": handled}


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
        A sensor targeting the raw assets; its cursor is ``{asset key: state}`` (JSON), the state
        of :func:`settled_changes`.
    """

    @dg.sensor(
        name=f"{location.dbt_project}_raw_files",
        asset_selection=list(raw_patterns),
        default_status=default_status,
        minimum_interval_seconds=interval,
        description=(
            f"Watches the raw files of {location.name} in the lake (by content hash) and"
            " materializes a raw asset when one of its files is new or changed."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, storage: PlatformStorage) -> dg.SensorResult:
        lake = storage.lake()
        cursor: dict[str, dict[str, dict[str, str]]] = (
            json.loads(context.cursor) if context.cursor else {}
        )
        requests = []
        for key, patterns in raw_patterns.items():
            name = key.to_user_string()
            current = lake_fingerprints(lake, patterns)
            event = context.instance.get_latest_materialization_event(key)
            landed = recorded(event.asset_materialization if event else None, "fingerprints")
            changed, cursor[name] = settled_changes(current, cursor.get(name), landed)
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
