"""Where the platform keeps its files: the lake (raw files, published marts) and the warehouse.

Both are read from environment variables **when a function is called**, never at import time,
so that a code location can be imported anywhere (CI, the Docker build) without configuration.

* ``DATA_PLATFORM_LAKE_ROOT``: root of the lake; ``raw/<dataset>/`` holds the landed files,
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

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Root of the monorepo (the folder holding ``workspace.yaml``)."""

OPEN_DATA_DIR = REPO_ROOT / "open_data"
"""Committed open data, copied unchanged from its publishers (see each ``SOURCE.md``)."""

DBT_PROJECTS_DIR = REPO_ROOT / "dbt_submodules"
"""Folder holding one dbt project per code location."""

LAKE_ROOT_ENV = "DATA_PLATFORM_LAKE_ROOT"
WAREHOUSE_DIR_ENV = "DATA_PLATFORM_WAREHOUSE_DIR"


def lake_root() -> Path:
    """Return the lake root as an absolute path.

    Returns:
        ``$DATA_PLATFORM_LAKE_ROOT`` resolved to an absolute path, or ``<repo>/.local/lake``.
    """
    return Path(os.environ.get(LAKE_ROOT_ENV) or REPO_ROOT / ".local" / "lake").resolve()


def warehouse_dir() -> Path:
    """Return the folder of the DuckDB warehouse files as an absolute path.

    Returns:
        ``$DATA_PLATFORM_WAREHOUSE_DIR`` resolved to an absolute path, or
        ``<repo>/.local/warehouse``.
    """
    return Path(os.environ.get(WAREHOUSE_DIR_ENV) or REPO_ROOT / ".local" / "warehouse").resolve()


def prepare_storage(dbt_project_name: str) -> dict[str, str]:
    """Create the folders a dbt run writes to and export their absolute paths for dbt.

    dbt-duckdb neither creates the folder of its DuckDB file nor the folder of an ``external``
    model's Parquet file, so this is called at run time, right before dbt is invoked.

    Args:
        dbt_project_name: name of the dbt project (``name:`` in ``dbt_project.yml``), e.g. ``ags``.

    Returns:
        The environment variables exported (name -> absolute path), so that the dbt subprocess,
        which inherits ``os.environ``, writes where the raw assets wrote.
    """
    lake, warehouse = lake_root(), warehouse_dir()
    (lake / "marts" / dbt_project_name).mkdir(parents=True, exist_ok=True)
    warehouse.mkdir(parents=True, exist_ok=True)
    exported = {LAKE_ROOT_ENV: str(lake), WAREHOUSE_DIR_ENV: str(warehouse)}
    os.environ.update(exported)
    return exported


def dbt_executable() -> str:
    """Return the ``dbt`` of this interpreter's environment, else ``dbt`` from ``PATH``.

    Returns:
        An absolute path beside ``sys.executable`` when the venv has dbt, otherwise ``"dbt"``.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"
