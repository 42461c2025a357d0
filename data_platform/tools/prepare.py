"""Prepare the code locations' dbt manifests ahead (``make prepare``, CI, the Docker build).

``python -m data_platform.tools.prepare [location ...]`` (every registered location by default)
prepares each project whose files or settings changed since its manifest was prepared
(:func:`data_platform.dbt_profile.is_prepared`: a hash stored beside ``manifest.json``), with
dagster-dbt's preparer (``dbt deps`` if needed, ``dbt parse`` with the platform's profile,
target and ``--vars``, as the runs use them, so that each run keeps dbt's partial parsing), side
by side (each project writes only its own ``target/``); so only ``dagster dev`` parses dbt
projects at load time. Unchanged projects cost no import of Dagster nor dbt: well under a second.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

from data_platform.dbt_profile import DbtSettings, is_prepared
from data_platform.locations import LOCATIONS, get_location


def main(names: list[str]) -> None:
    """Prepare the manifests of the locations ``names`` that are not up to date.

    Raises:
        KeyError: a name is not a registered location.
        dagster_dbt.errors.DagsterDbtCliRuntimeError: dbt cannot parse a project.
    """
    stale = []
    for location in map(get_location, names):
        settings = DbtSettings.from_environment(location.dbt_project)
        if is_prepared(location.dbt_project_dir, settings):
            print(f"dbt manifest of {location.name} is up to date")
        else:
            stale.append(location.name)
    if not stale:
        return
    from data_platform.factory import prepare_manifest  # Dagster and dbt: only when needed

    with ThreadPoolExecutor(max_workers=len(stale)) as pool:
        for name, _ in zip(stale, pool.map(prepare_manifest, stale), strict=True):
            print(f"prepared dbt manifest of {name}")


if __name__ == "__main__":
    main(sys.argv[1:] or [location.name for location in LOCATIONS])
