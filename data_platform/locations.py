"""The platform's code locations: one entry per administration, the single list everything reads.

``workspace.yaml``, the tests and the factory all derive from :data:`LOCATIONS`; adding an
administration starts here (see the README, "Adding an administration").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data_platform.settings import DBT_PROJECTS_DIR


@dataclass(frozen=True)
class CodeLocation:
    """One Dagster code location built from one dbt project.

    Attributes:
        name: code location name shown in the Dagster UI and used in ``workspace.yaml``
            (also the Python package holding its ``definitions.py``), e.g. ``ags_project``.
        dbt_project: name of the dbt project (``name:`` in its ``dbt_project.yml``); it prefixes
            every asset key of the location, e.g. ``ags`` -> ``["ags", "fct_walks"]``.
        administration: the administration générale that owns the location, in words.
        owner: Dagster owner of every asset (``team:<name>`` or an e-mail address).
    """

    name: str
    dbt_project: str
    administration: str
    owner: str

    @property
    def dbt_project_dir(self) -> Path:
        """Folder of the location's dbt project: ``dbt_submodules/<dbt_project>_dbt``."""
        return DBT_PROJECTS_DIR / f"{self.dbt_project}_dbt"

    @property
    def module(self) -> str:
        """Python module holding the location's definitions, for ``workspace.yaml``."""
        return f"{self.name}.definitions"


LOCATIONS: tuple[CodeLocation, ...] = (
    CodeLocation(
        name="data_platform",
        dbt_project="data_platform",
        administration="Plateforme de données (référentiels partagés)",
        owner="team:data_platform",
    ),
    CodeLocation(
        name="ags_project",
        dbt_project="ags",
        administration="Administration générale du Sport (AGS)",
        owner="team:ags",
    ),
    CodeLocation(
        name="agaj_project",
        dbt_project="agaj",
        administration="Administration générale de l'Aide à la Jeunesse (AGAJ)",
        owner="team:agaj",
    ),
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
