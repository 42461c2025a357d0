"""Prepare every code location's dbt manifest ahead: ``python -m data_platform.tools.prepare``.

Used by ``make prepare``, CI and the Docker build, so that only ``dagster dev`` parses dbt
projects at load time.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

from data_platform.factory import prepare_manifest
from data_platform.locations import LOCATIONS


def main(argv: list[str] | None = None) -> int:
    """Prepare the manifests of the named locations (all registered ones by default).

    The ``dbt parse`` of each project runs side by side with the others (each project writes
    only its own ``target/`` folder).

    Args:
        argv: location names; empty or ``None`` means every registered location.

    Returns:
        Process exit code: 0 when every manifest was written.

    Raises:
        KeyError: a name is not a registered location.
        dagster_dbt.errors.DagsterDbtCliRuntimeError: dbt cannot parse a project.
    """
    names = argv or [location.name for location in LOCATIONS]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for name, _ in zip(names, pool.map(prepare_manifest, names), strict=True):
            print(f"prepared dbt manifest of {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
