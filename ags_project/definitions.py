"""Code location ``ags_project``: built by the shared factory from ``dbt_submodules/ags_dbt``."""

import dagster as dg

from data_platform.factory import location_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions of the ``ags_project`` code location, built when the location loads."""
    return location_definitions("ags_project")
