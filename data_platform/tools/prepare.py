"""Prepare the code locations' dbt manifests ahead (``make prepare``, CI, the Docker build).

``python -m data_platform.tools.prepare [location ...]`` (every registered location by default)
runs dagster-dbt's preparer (``dbt parse``) of each project side by side (each project writes
only its own ``target/``), so that only ``dagster dev`` parses dbt projects at load time. A name
that is not a registered location raises ``KeyError``; a project dbt cannot parse raises
``dagster_dbt.errors.DagsterDbtCliRuntimeError``.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

from data_platform.factory import prepare_manifest
from data_platform.locations import LOCATIONS

if __name__ == "__main__":
    names = sys.argv[1:] or [location.name for location in LOCATIONS]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for name, _ in zip(names, pool.map(prepare_manifest, names), strict=True):
            print(f"prepared dbt manifest of {name}")
