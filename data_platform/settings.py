"""Where the platform keeps its files: the lake (raw files, published marts) and the warehouse.

Both are read from environment variables **when a function is called**, never at import time,
so that a code location can be imported anywhere (CI, the Docker build) without configuration.

* ``DATA_PLATFORM_LAKE_ROOT``: root of the lake, a local folder or an ADLS container
  (:mod:`data_platform.lake`); ``raw/<dataset>/`` holds the landed files,
  ``marts/<dbt project>/`` the published Parquet marts. Default: ``<repo>/.local/lake``.
* ``DATA_PLATFORM_WAREHOUSE_DIR``: folder of the DuckDB files, one per dbt project
  (``<project>.duckdb``). Default: ``<repo>/.local/warehouse``.

The dbt profiles read the same variables, with defaults relative to the dbt project folder that
point at the same place (``../../.local/...``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from data_platform.lake import LAKE_ROOT_ENV as LAKE_ROOT_ENV  # re-exported
from data_platform.lake import prepare_lake

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Root of the monorepo (the folder holding ``workspace.yaml``)."""

OPEN_DATA_DIR = REPO_ROOT / "open_data"
"""Committed open data, copied unchanged from its publishers (see each ``SOURCE.md``)."""

DBT_PROJECTS_DIR = REPO_ROOT / "dbt_submodules"
"""Folder holding one dbt project per code location."""

WAREHOUSE_DIR_ENV = "DATA_PLATFORM_WAREHOUSE_DIR"


def warehouse_dir() -> Path:
    """Return the folder of the DuckDB warehouse files as an absolute path.

    Returns:
        ``$DATA_PLATFORM_WAREHOUSE_DIR`` resolved to an absolute path, or
        ``<repo>/.local/warehouse``.
    """
    return Path(os.environ.get(WAREHOUSE_DIR_ENV) or REPO_ROOT / ".local" / "warehouse").resolve()


def prepare_storage(dbt_project_name: str) -> dict[str, str]:
    """Make the lake and the warehouse ready for a dbt run and export where they are for dbt.

    dbt-duckdb creates neither the folder of its DuckDB file nor that of an ``external``
    model's Parquet file, and an Azure lake must be checked before dbt starts, so this is called
    at run time, right before dbt is invoked (see :func:`data_platform.lake.prepare_lake`).

    Args:
        dbt_project_name: name of the dbt project (``name:`` in ``dbt_project.yml``), e.g. ``ags``.

    Returns:
        The environment variables exported (name -> value), so that the dbt subprocess, which
        inherits ``os.environ``, reads and writes where the raw assets wrote.

    Raises:
        data_platform.lake.LakeError: the lake cannot be reached (missing container, refused
            credentials), named in the message.
    """
    exported = prepare_lake(dbt_project_name)
    warehouse = warehouse_dir()
    warehouse.mkdir(parents=True, exist_ok=True)
    os.environ[WAREHOUSE_DIR_ENV] = str(warehouse)
    return {**exported, WAREHOUSE_DIR_ENV: str(warehouse)}


def dbt_executable() -> str:
    """Return the ``dbt`` of this interpreter's environment, else ``dbt`` from ``PATH``.

    Returns:
        An absolute path beside ``sys.executable`` when the venv has dbt, otherwise ``"dbt"``.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"
