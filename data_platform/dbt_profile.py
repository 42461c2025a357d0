"""The platform's one dbt connection profile, and what every dbt invocation of a project shares.

A dbt project needs no ``profiles.yml`` of its own to run in the platform (its stewards may keep
one to run dbt by hand, see the README): the platform writes its own profile, from the one
definition of :func:`profile_text`, into ``<project>/target/platform_profile/profiles.yml``
and runs dbt with ``--profile platform`` and a target of its own, :data:`LOCAL_TARGET` for a
local lake or :data:`ADLS_TARGET` for an Azure one, whatever the project's own profile and
targets are called. The profile reads the paths from ``--vars`` (``warehouse_dir``,
``lake_root``), which the platform always passes: the DuckDB file
``<warehouse>/<dbt project>.duckdb`` and the published marts ``<lake>/marts/<dbt project>/``.

dbt parses a project again in full whenever its ``--vars``, ``--profile``, ``--target`` or
the rendered connection differ from those of the parse its ``partial_parse.msgpack`` comes from
(``ManifestLoader.is_partial_parsable`` in dbt-core). :class:`DbtSettings` is the one place
those are decided: the manifest's preparation (``make prepare``, ``dagster dev``) and every run
use it, so each run keeps dbt's partial parsing. :func:`preparation_state` hashes all that
decides a manifest, and :func:`is_prepared` compares it with the hash stored beside
``manifest.json``, so that ``make prepare`` skips an unchanged project.

This module imports neither Dagster nor dbt (``make prepare`` on unchanged projects reads it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from data_platform.environment import LAKE_ROOT, WAREHOUSE_DIR
from data_platform.lake import STAGED_MARTS, Lake, parse_lake_root
from data_platform.paths import DEFAULT_WAREHOUSE_DIR

PROFILE = "platform"
"""Name of the platform's profile, passed as ``--profile`` (it overrides ``dbt_project.yml``)."""

LOCAL_TARGET = "platform"
"""Target of a run on a local lake."""

ADLS_TARGET = "platform_adls"
"""Target of a run on an Azure Data Lake Storage lake: DuckDB reads and writes ``abfs://``."""

TARGET_PATH = Path("target")
"""dbt's target folder in a project (``DbtProject.target_path``): manifest, profile, stamp."""

PROFILES_DIR = TARGET_PATH / "platform_profile"
"""Folder of the platform's ``profiles.yml``, relative to a dbt project."""

STAMP = "platform_preparation.sha256"
"""File beside ``manifest.json``: the :func:`preparation_state` the manifest was prepared in."""

SKIPPED = frozenset({"target", "logs", ".git", "__pycache__", ".user.yml"})
"""Names of the files and folders of a dbt project that never change its manifest."""


def profile_text(dbt_project_name: str) -> str:
    """Return the platform's ``profiles.yml`` for one dbt project: the one definition.

    Args:
        dbt_project_name: ``name:`` of the project (``ags``); names its DuckDB file and the
            folder of its published marts.

    Returns:
        YAML with the profile :data:`PROFILE` and its targets :data:`LOCAL_TARGET` and
        :data:`ADLS_TARGET`; the paths come from ``--vars`` at each invocation. The ADLS target
        registers adlfs with DuckDB (dbt-duckdb's ``filesystems``), with the account named in
        the lake's URL, else adlfs's own ``AZURE_STORAGE_*`` variables.
    """
    local = (
        "      type: duckdb\n"
        f"      path: \"{{{{ var('warehouse_dir') }}}}/{dbt_project_name}.duckdb\"\n"
        # dbt writes the marts into the lake's staging folder; data_platform.publish publishes
        # each one once its tests passed (write, audit, publish).
        "      external_root: \"{{ var('marts_root') }}\"\n"
        "      threads: 2\n"
    )
    account = "{{ var('azure_storage_account_name', env_var('AZURE_STORAGE_ACCOUNT_NAME', '')) }}"
    return (
        f"# Written by the platform (data_platform/dbt_profile.py) for the dbt project"
        f" {dbt_project_name}; do not edit.\n"
        f"{PROFILE}:\n"
        f"  target: {LOCAL_TARGET}\n"
        "  outputs:\n"
        f"    {LOCAL_TARGET}:\n{local}"
        f"    {ADLS_TARGET}:\n{local}"
        "      filesystems:\n"
        "        - fs: abfs\n"
        f'          account_name: "{account}"\n'
    )


def write_profile(project_dir: Path, dbt_project_name: str) -> Path:
    """Write the platform's profile of a dbt project, unless it is already there.

    Args:
        project_dir: the dbt project's folder.
        dbt_project_name: its ``name:``.

    Returns:
        The folder holding ``profiles.yml`` (``--profiles-dir``).

    Raises:
        OSError: the project's ``target/`` folder cannot be written.
    """
    folder = Path(project_dir) / PROFILES_DIR
    path = folder / "profiles.yml"
    text = profile_text(dbt_project_name)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        folder.mkdir(parents=True, exist_ok=True)
        # Atomic: the code server and the run workers may write it at once.
        temporary = folder / f".profiles.yml.{os.getpid()}"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    return folder


def warehouse_path(warehouse_dir: str) -> Path:
    """Return the folder of the DuckDB files: ``warehouse_dir``, or the default, absolute."""
    return Path(warehouse_dir or DEFAULT_WAREHOUSE_DIR).resolve()


@dataclass(frozen=True)
class DbtSettings:
    """What every dbt invocation of one dbt project in the platform shares: target and vars.

    Attributes:
        dbt_project_name: ``name:`` of the dbt project, e.g. ``ags``.
        lake: the lake its sources read and its marts are published to.
        warehouse: the folder of its DuckDB file (absolute).
    """

    dbt_project_name: str
    lake: Lake
    warehouse: Path

    @classmethod
    def of(cls, dbt_project_name: str, lake_root: str, warehouse_dir: str) -> DbtSettings:
        """Return the settings of a lake root and a warehouse folder as users write them.

        The one rule from the two settings to dbt's target and ``--vars``, used when a location
        loads (:meth:`from_environment`) and when a run starts
        (:meth:`data_platform.settings.PlatformStorage.dbt_settings`): the same values give the
        same settings, so a run keeps the manifest's partial parsing.

        Args:
            dbt_project_name: ``name:`` of the dbt project, e.g. ``ags``.
            lake_root: a local folder or an ``abfs://`` URL; empty: the default lake.
            warehouse_dir: the folder of the DuckDB files; empty: the default warehouse.

        Raises:
            data_platform.lake.LakeError: the lake root is not a usable path or URL.
        """
        return cls(
            dbt_project_name, parse_lake_root(lake_root or None), warehouse_path(warehouse_dir)
        )

    @classmethod
    def from_environment(cls, dbt_project_name: str) -> DbtSettings:
        """Return the settings of ``DATA_PLATFORM_LAKE_ROOT`` and ``_WAREHOUSE_DIR`` now (``of``).

        Raises:
            data_platform.lake.LakeError: the lake root is not a usable path or URL.
        """
        lake_root, warehouse_dir = (os.environ.get(v.name, "") for v in (LAKE_ROOT, WAREHOUSE_DIR))
        return cls.of(dbt_project_name, lake_root, warehouse_dir)

    @property
    def target(self) -> str:
        """The platform's target: :data:`ADLS_TARGET` for an Azure lake, else the local one."""
        return ADLS_TARGET if self.lake.is_remote else LOCAL_TARGET

    @property
    def variables(self) -> dict[str, str]:
        """The ``--vars`` of dbt: ``lake_root``, ``warehouse_dir``, ``marts_root`` and the account.

        ``lake_root`` is canonical, ``warehouse_dir`` absolute; ``azure_storage_account_name``
        is the account an Azure lake's URL names, if any; ``marts_root`` is where dbt writes the
        marts until their tests pass (:data:`~data_platform.lake.STAGED_MARTS`).
        """
        variables = {
            "lake_root": self.lake.root,
            "warehouse_dir": str(self.warehouse),
            "marts_root": self.lake.path(STAGED_MARTS, self.dbt_project_name),
        }
        account = self.lake.account() if self.lake.is_remote else None
        if account:
            variables["azure_storage_account_name"] = account
        return variables

    def vars_arguments(self) -> list[str]:
        """Return ``["--vars", <JSON>]``, the same for the preparation and every run."""
        return ["--vars", json.dumps(self.variables, sort_keys=True)]

    def parse_arguments(self) -> list[str]:
        """Return the arguments of the manifest's preparation: ``parse --quiet --vars ...``."""
        return ["parse", "--quiet", *self.vars_arguments()]


def preparation_state(project_dir: Path, settings: DbtSettings) -> str:
    """Hash what decides a project's prepared manifest.

    Args:
        project_dir: the dbt project's folder.
        settings: the settings of the preparation.

    Returns:
        The SHA-256 of the dbt-core version, the platform's profile, the profile and target
        names, the ``--vars``, and every file of the project (path and content) but those of
        :data:`SKIPPED`; installed packages (``dbt_packages``, local ones through their links)
        included.
    """
    digest = hashlib.sha256()
    for part in (
        version("dbt-core"),
        profile_text(settings.dbt_project_name),
        PROFILE,
        settings.target,
        *settings.vars_arguments(),
    ):
        digest.update(part.encode() + b"\0")
    root = Path(project_dir)
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = sorted(name for name in subfolders if name not in SKIPPED)
        for name in sorted(files):
            if name in SKIPPED:
                continue
            path = Path(folder, name)
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def is_prepared(project_dir: Path, settings: DbtSettings) -> bool:
    """Tell whether the project's manifest was prepared from its files and settings as they are.

    Returns:
        True when ``target/manifest.json`` exists and the stamp beside it holds the current
        :func:`preparation_state`.
    """
    target = Path(project_dir) / TARGET_PATH
    stamp = target / STAMP
    if not (target / "manifest.json").exists() or not stamp.exists():
        return False
    return stamp.read_text(encoding="utf-8").strip() == preparation_state(project_dir, settings)


def record_preparation(project_dir: Path, settings: DbtSettings) -> None:
    """Store the current :func:`preparation_state` beside a manifest just prepared."""
    stamp = Path(project_dir) / TARGET_PATH / STAMP
    stamp.write_text(preparation_state(project_dir, settings) + "\n", encoding="utf-8")
