"""Raw assets: land the committed open data files in the lake, where dbt reads them.

A dbt source table that lists ``meta.raw_files`` (paths relative to ``open_data/``, globs
allowed) gets one raw asset with the same asset key as the dbt source. Materializing it checks
that every file parses in its own format (JSON, CSV) and only then copies the files, each
through a temporary file and an atomic rename: a malformed file raises a clear error naming it
and leaves what the lake already holds untouched.
"""

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from data_platform.lake import Lake, LakeError, redact
from data_platform.locations import CodeLocation
from data_platform.settings import OPEN_DATA_DIR, PlatformStorage
from data_platform.translator import PlatformDbtTranslator, resource_meta


class RawFileError(ValueError):
    """A raw file is missing or cannot be parsed in its declared format."""


def count_records(path: Path) -> int:
    """Parse one raw file and return its number of records.

    JSON: the length of the top-level list, or of the first list found among the keys
    ``records`` (Opendatasoft API v1) and ``facts`` (Statbel extract), or 1 for another object.
    CSV: the number of rows after the header line (every row must have the header's number of
    fields; files without a header count every row).

    Args:
        path: file to parse (``.json`` or ``.csv``).

    Returns:
        Number of records in the file.

    Raises:
        RawFileError: the file cannot be decoded or parsed, naming the file and the reason.
    """
    try:
        if path.suffix == ".json":
            with path.open(encoding="utf-8") as handle:
                document = json.load(handle)
            if isinstance(document, list):
                return len(document)
            for key in ("records", "facts"):
                if isinstance(document.get(key), list):
                    return len(document[key])
            return 1
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                rows = csv.reader(handle)
                width = None
                count = 0
                for line_number, row in enumerate(rows, start=1):
                    if width is None:
                        width = len(row)
                    elif row and len(row) != width:
                        raise RawFileError(
                            f"Raw file {path}: line {line_number} has {len(row)} fields,"
                            f" the first line has {width}"
                        )
                    count += 1
                return count
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as error:
        raise RawFileError(f"Raw file {path} cannot be parsed: {error}") from error
    raise RawFileError(f"Raw file {path}: unsupported format {path.suffix!r} (json or csv)")


def resolve_raw_files(patterns: list[str], open_data_dir: Path = OPEN_DATA_DIR) -> list[Path]:
    """Expand ``meta.raw_files`` patterns into existing files under ``open_data_dir``.

    Raises:
        RawFileError: a pattern matches no file (naming the pattern and the folder searched).
    """
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(open_data_dir.glob(pattern))
        if not matches:
            raise RawFileError(f"Raw file pattern {pattern!r} matches no file in {open_data_dir}")
        files.extend(matches)
    return files


def land_files(files: list[Path], open_data_dir: Path, lake: Lake | Path) -> dict[str, int]:
    """Validate every file, then copy each to ``<lake>/raw/<path relative to open_data_dir>``.

    The dataset's ``SOURCE.md`` and licence files (at the top of its folder,
    ``open_data_dir/<dataset>/``) travel with the data. Nothing is written before every file has
    parsed and the lake has been reached. Each copy replaces its target atomically: a local file
    through a temporary file and a rename, an Azure blob by its single upload (a block blob is
    committed whole or not at all).

    Args:
        files: files under ``open_data_dir``.
        open_data_dir: root the paths are taken relative to.
        lake: the lake (a local folder may be given as a path).

    Returns:
        Records per landed file, keyed by the lake-relative path.

    Raises:
        RawFileError: a file cannot be parsed; the lake is left as it was.
        LakeError: the lake cannot be reached or written (missing container, refused
            credentials), naming the lake path; files already landed are left as they were.
    """
    if isinstance(lake, Path):
        lake = Lake(str(lake.resolve()))
    records = {str(path.relative_to(open_data_dir)): count_records(path) for path in files}
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
        patterns = resource_meta(source).get("raw_files")
        if not patterns:
            continue
        key = translator.get_asset_key(source)
        description = source.get("description") or source.get("source_description") or ""
        assets.append(_raw_asset(key, list(patterns), description, translator, source, location))
    return assets


def _raw_asset(
    key: dg.AssetKey,
    patterns: list[str],
    description: str,
    translator: PlatformDbtTranslator,
    source: Mapping[str, Any],
    location: CodeLocation,
) -> dg.AssetsDefinition:
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
    )
    def _land(
        context: dg.AssetExecutionContext, storage: PlatformStorage
    ) -> dg.MaterializeResult[None]:
        lake = storage.lake()
        files = resolve_raw_files(patterns)
        landed = land_files(files, OPEN_DATA_DIR, lake)
        context.log.info(f"Landed {len(landed)} file(s) in {lake.display('raw')}")
        return dg.MaterializeResult(
            metadata={
                "files": len(landed),
                "records": sum(landed.values()),
                "records_per_file": dg.MetadataValue.json(landed),
                "lake_path": dg.MetadataValue.path(
                    lake.display("raw", Path(patterns[0]).parent.as_posix())
                ),
            }
        )

    return _land
