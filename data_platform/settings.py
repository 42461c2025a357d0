"""Where the platform keeps its files, as a Dagster resource: the lake and the DuckDB warehouse.

:class:`PlatformStorage` is the one declaration of both settings. Every code location gets it
as the ``storage`` resource (the UI lists it with its values): the raw assets land their files
through it and the dbt assets pass it to dbt explicitly (``--vars``, ``--target``), so nothing
is written to the process environment for dbt to inherit.

* ``DATA_PLATFORM_LAKE_ROOT``: root of the lake, a local folder or an ADLS container
  (:mod:`data_platform.lake`); ``raw/<dataset>/`` holds the landed files,
  ``marts/<dbt project>/`` the published Parquet marts. Default: ``<repo>/.local/lake``.
* ``DATA_PLATFORM_WAREHOUSE_DIR``: folder of the DuckDB files, one per dbt project
  (``<project>.duckdb``). Default: ``<repo>/.local/warehouse``.

Both are read when the definitions are built (an unset variable means the default), never at
import time, so that a code location can be imported anywhere (CI, the Docker build) without
configuration. The dbt profiles read the same names, as ``--vars`` from Dagster or as environment
variables when dbt is run by hand, with defaults relative to the dbt project folder that point at
the same place (``../../.local/...``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import dagster as dg
from pydantic import Field

from data_platform import environment as env
from data_platform.lake import LAKE_ROOT_ENV, STAGED_MARTS, Lake, parse_lake_root, prepare_lake

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Root of the monorepo (the folder holding ``workspace.yaml``)."""

OPEN_DATA_DIR = REPO_ROOT / "open_data"
"""Committed open data, copied unchanged from its publishers (see each ``SOURCE.md``)."""

DBT_PROJECTS_DIR = REPO_ROOT / "dbt_submodules"
"""Folder holding one dbt project per code location."""

WAREHOUSE_DIR_ENV = env.WAREHOUSE_DIR.name
DEFAULT_WAREHOUSE_DIR = REPO_ROOT / ".local" / "warehouse"


class PlatformStorage(dg.ConfigurableResource):  # type: ignore[type-arg]  # generic in its value; used as is
    """The lake and the DuckDB warehouse of a code location (resource key ``storage``).

    Attributes:
        lake_root: a local path or an ``abfs://`` URL; empty: ``<repo>/.local/lake``.
        warehouse_dir: folder of the DuckDB files; empty: ``<repo>/.local/warehouse``.
    """

    lake_root: str = Field(
        default="",
        description=f"Root of the lake ({LAKE_ROOT_ENV}): a local folder or an abfs:// URL.",
    )
    warehouse_dir: str = Field(
        default="",
        description=f"Folder of the DuckDB files, one per dbt project ({WAREHOUSE_DIR_ENV}).",
    )

    @classmethod
    def from_environment(cls) -> PlatformStorage:
        """Return the resource bound to the variables that are set now (the others: defaults).

        A set variable is bound as :class:`dagster.EnvVar`, so the run reads its value where it
        runs (code server, run worker) and the UI shows the variable's name.
        """
        fields = {"lake_root": env.LAKE_ROOT, "warehouse_dir": env.WAREHOUSE_DIR}
        settings = {field: variable.setting() for field, variable in fields.items()}
        return cls(**{field: setting for field, setting in settings.items() if setting})

    def lake(self) -> Lake:
        """Return the lake.

        Raises:
            data_platform.lake.LakeError: the root is not a usable path or URL.
        """
        return parse_lake_root(self.lake_root or None)

    def warehouse(self) -> Path:
        """Return the folder of the DuckDB files, as an absolute path."""
        return Path(self.warehouse_dir or DEFAULT_WAREHOUSE_DIR).resolve()

    def dbt_arguments(self, dbt_project_name: str) -> list[str]:
        """Make the lake and the warehouse ready for a dbt run and return dbt's arguments.

        dbt-duckdb creates neither the folder of its DuckDB file nor that of an ``external``
        model's Parquet file, and an Azure lake must be checked before dbt starts.

        Args:
            dbt_project_name: name of the dbt project (``name:`` in ``dbt_project.yml``),
                e.g. ``ags``.

        Returns:
            ``["--vars", <JSON>]`` with ``lake_root`` (canonical), ``warehouse_dir``
            (absolute) and ``marts_root`` (where dbt writes the marts: the staging folder of
            :data:`~data_platform.lake.STAGED_MARTS`), which the dbt profiles and sources
            read, and for an Azure lake ``--target adls`` and the storage account named in its
            URL, if any.

        Raises:
            data_platform.lake.LakeError: the lake cannot be reached (missing container,
                refused credentials), named in the message.
        """
        lake = self.lake()
        prepare_lake(lake, dbt_project_name)
        warehouse = self.warehouse()
        warehouse.mkdir(parents=True, exist_ok=True)
        variables = {
            "lake_root": lake.root,
            "warehouse_dir": str(warehouse),
            # dbt writes the marts here; data_platform.publish publishes them once tested.
            "marts_root": lake.path(STAGED_MARTS, dbt_project_name),
        }
        target: list[str] = []
        if lake.is_remote:
            target = ["--target", "adls"]
            account = lake.account()
            if account:
                variables["azure_storage_account_name"] = account
        return ["--vars", json.dumps(variables), *target]


def dbt_executable() -> str:
    """Return the ``dbt`` of this interpreter's environment, else ``dbt`` from ``PATH``.

    Returns:
        An absolute path beside ``sys.executable`` when the venv has dbt, otherwise ``"dbt"``.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"
