"""Code location ``agaj_project``: built by the shared factory from ``dbt_submodules/agaj_dbt``."""

import dagster as dg

from data_platform.factory import location_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions of the ``agaj_project`` code location, built when the location loads."""
    return location_definitions("agaj_project")
