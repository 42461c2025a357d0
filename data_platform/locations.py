"""The platform's code locations: one entry per administration, the single list everything reads.

``workspace.yaml``, the tests and the factory all derive from :data:`LOCATIONS`; adding an
administration starts here (see the README, "Adding an administration").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data_platform.paths import DBT_PROJECTS_DIR

PLATFORM = "data_platform"
"""Identifier of the platform's own location: its package is the shared library itself."""


@dataclass(frozen=True)
class CodeLocation:
    """One Dagster code location built from one dbt project, named by one identifier.

    Every other name of an administration derives from its identifier (``ags`` here) by one
    rule, written down here only:

    * dbt project and asset key prefix: ``<id>`` (``ags``, ``["ags", "fct_walks"]``);
    * code location and Python package: ``<id>_project`` (``ags_project``);
    * dbt project folder: ``dbt_submodules/<id>_dbt`` (``dbt_submodules/ags_dbt``);
    * owner of its assets: ``team:<id>`` (``team:ags``);
    * prefix of its variables: ``<ID>`` (``DATA_PLATFORM_NOTIFY_AGS_NTFY_URL``);
    * compose service of its code server: ``code-<location>`` with ``-`` for ``_``
      (``code-ags-project``, :func:`data_platform.tools.workspaces.code_server_host`).

    The platform's own location (:data:`PLATFORM`) is the one exception: its code location and
    package are ``data_platform``, the shared library.

    Attributes:
        identifier: the administration's identifier, lower-case letters, digits and ``_``
            (``name:`` of its dbt project), e.g. ``ags``.
        administration: the administration générale that owns the location, in words.
    """

    identifier: str
    administration: str

    @property
    def name(self) -> str:
        """Code location name shown in the UI, and its Python package: ``<id>_project``."""
        return PLATFORM if self.identifier == PLATFORM else f"{self.identifier}_project"

    @property
    def dbt_project(self) -> str:
        """Name of the dbt project (``name:`` in ``dbt_project.yml``): the identifier."""
        return self.identifier

    @property
    def owner(self) -> str:
        """Dagster owner of every asset of the location: ``team:<id>``."""
        return f"team:{self.identifier}"

    @property
    def env_prefix(self) -> str:
        """Upper-case form of the identifier, in the names of its variables: ``AGS``."""
        return self.identifier.upper()

    @property
    def dbt_project_dir(self) -> Path:
        """Folder of the location's dbt project: ``dbt_submodules/<id>_dbt``."""
        return DBT_PROJECTS_DIR / f"{self.identifier}_dbt"

    @property
    def module(self) -> str:
        """Python module holding the location's definitions, for ``workspace.yaml``."""
        return f"{self.name}.definitions"


LOCATIONS: tuple[CodeLocation, ...] = (
    CodeLocation(PLATFORM, "Plateforme de données (référentiels partagés)"),
    CodeLocation("ags", "Administration générale du Sport (AGS)"),
    CodeLocation("agaj", "Administration générale de l'Aide à la Jeunesse (AGAJ)"),
)


def get_location(name: str) -> CodeLocation:
    """Return the registered code location called ``name``.

    Raises:
        KeyError: no location of that name is registered in :data:`LOCATIONS`.
    """
    for location in LOCATIONS:
        if location.name == name:
            return location
    known = ", ".join(loc.name for loc in LOCATIONS)
    raise KeyError(f"Unknown code location {name!r}; registered locations: {known}")


def location_of_dbt_project(dbt_project: str) -> CodeLocation:
    """Return the code location that builds the dbt project ``dbt_project``.

    Raises:
        KeyError: no registered location builds that dbt project.
    """
    for location in LOCATIONS:
        if location.dbt_project == dbt_project:
            return location
    raise KeyError(f"No code location builds the dbt project {dbt_project!r}")


def find_location(name: str) -> CodeLocation:
    """Return the code location named by any of its names.

    Args:
        name: the code location (``ags_project``), its dbt project (``ags``) or the dbt
            project's folder under ``dbt_submodules/`` (``ags_dbt``).

    Raises:
        KeyError: no registered location has that name; the message lists the known ones.
    """
    for location in LOCATIONS:
        if name in (location.name, location.dbt_project, location.dbt_project_dir.name):
            return location
    known = ", ".join(f"{loc.dbt_project_dir.name} ({loc.name})" for loc in LOCATIONS)
    raise KeyError(f"Unknown dbt project {name!r}; registered projects: {known}")
