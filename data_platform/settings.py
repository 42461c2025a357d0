"""Where the platform keeps its files, as a Dagster resource: the lake and the DuckDB warehouse.

:class:`PlatformStorage` is the one declaration of both settings. Every code location gets it
as the ``storage`` resource (the UI lists it with its values): the raw assets land their files
through it and the dbt assets pass it to dbt explicitly (``--vars``; the target of the
platform's own profile, :mod:`data_platform.dbt_profile`), so nothing is written to the process
environment for dbt to inherit.

* ``DATA_PLATFORM_LAKE_ROOT``: root of the lake, a local folder or an ADLS container
  (:mod:`data_platform.lake`); ``raw/<dataset>/`` holds the landed files,
  ``marts/<dbt project>/`` the published Parquet marts. Default: ``<repo>/.local/lake``.
* ``DATA_PLATFORM_WAREHOUSE_DIR``: folder of the DuckDB files, one per dbt project
  (``<project>.duckdb``). Default: ``<repo>/.local/warehouse``.

Both are read when the definitions are built (an unset variable means the default), never at
import time, so that a code location can be imported anywhere (CI, the Docker build) without
configuration. The platform's dbt profile reads them as ``--vars`` only; the sources of the dbt
projects, and the stewards' own profiles when they run dbt by hand, read the same names as
``--vars`` or as environment variables, with defaults relative to the dbt project folder that
point at the same place (``../../.local/...``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from pydantic import Field

from data_platform import environment as env
from data_platform.dbt_profile import DbtSettings, warehouse_path
from data_platform.lake import LAKE_ROOT_ENV, Lake, parse_lake_root, prepare_lake

# Re-exported: many modules read them here.
from data_platform.paths import DBT_PROJECTS_DIR as DBT_PROJECTS_DIR
from data_platform.paths import DEFAULT_WAREHOUSE_DIR as DEFAULT_WAREHOUSE_DIR
from data_platform.paths import OPEN_DATA_DIR as OPEN_DATA_DIR
from data_platform.paths import REPO_ROOT as REPO_ROOT

WAREHOUSE_DIR_ENV = env.WAREHOUSE_DIR.name


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
        return warehouse_path(self.warehouse_dir)

    def dbt_settings(self, dbt_project_name: str) -> DbtSettings:
        """Return the target and ``--vars`` of dbt on this lake and warehouse.

        Args:
            dbt_project_name: name of the dbt project (``name:`` in ``dbt_project.yml``).

        Raises:
            data_platform.lake.LakeError: the lake root is not a usable path or URL.
        """
        return DbtSettings.of(dbt_project_name, self.lake_root, self.warehouse_dir)

    def dbt_arguments(self, dbt_project_name: str) -> list[str]:
        """Make the lake and the warehouse ready for a dbt run and return dbt's arguments.

        dbt-duckdb creates neither the folder of its DuckDB file nor that of an ``external``
        model's Parquet file, and an Azure lake must be checked before dbt starts.

        Args:
            dbt_project_name: name of the dbt project (``name:`` in ``dbt_project.yml``),
                e.g. ``ags``.

        Returns:
            ``["--vars", <JSON>]`` (:meth:`DbtSettings.vars_arguments`): ``lake_root``
            (canonical), ``warehouse_dir`` (absolute), ``marts_root`` (where dbt writes the
            marts until their tests pass, :mod:`data_platform.publish`) and, for an Azure lake,
            the storage account named in its URL, if any; the same as the manifest's
            preparation in the same environment, so dbt keeps its partial parsing. The target
            is the dbt resource's (:data:`data_platform.dbt_profile.ADLS_TARGET` for an Azure
            lake).

        Raises:
            data_platform.lake.LakeError: the lake cannot be reached (missing container,
                refused credentials), named in the message.
        """
        settings = self.dbt_settings(dbt_project_name)
        prepare_lake(settings.lake, dbt_project_name)
        settings.warehouse.mkdir(parents=True, exist_ok=True)
        return settings.vars_arguments()


def dbt_executable() -> str:
    """Return the ``dbt`` of this interpreter's environment, else ``dbt`` from ``PATH``.

    Returns:
        An absolute path beside ``sys.executable`` when the venv has dbt, otherwise ``"dbt"``.
    """
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"
