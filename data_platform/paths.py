"""The repository's own folders, as constants (no import of Dagster: read by light tools too).

:mod:`data_platform.settings` re-exports them for the modules that already read them there.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Root of the monorepo (the folder holding ``workspace.yaml``)."""

OPEN_DATA_DIR = REPO_ROOT / "open_data"
"""Committed open data, copied unchanged from its publishers (see each ``SOURCE.md``)."""

DBT_PROJECTS_DIR = REPO_ROOT / "dbt_submodules"
"""Folder holding one dbt project per code location."""

DEFAULT_WAREHOUSE_DIR = REPO_ROOT / ".local" / "warehouse"
"""Folder of the DuckDB files when ``DATA_PLATFORM_WAREHOUSE_DIR`` is unset."""
