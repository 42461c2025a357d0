"""Code location ``data_platform``: the shared reference data (communes, NIS codes, population)."""

import dagster as dg

from data_platform.factory import location_definitions
from data_platform.retention import retention_definitions


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions of the ``data_platform`` code location, built when the location loads."""
    return dg.Definitions.merge(location_definitions("data_platform"), retention_definitions())
