"""Prepare every code location's dbt manifest ahead of time: ``python -m data_platform.prepare``.

Used by ``make prepare``, CI and the Docker build, so that only ``dagster dev`` parses dbt
projects at load time.
"""

import sys

from data_platform.factory import prepare_manifest
from data_platform.locations import LOCATIONS


def main(argv: list[str] | None = None) -> int:
    """Prepare the manifests of the named locations (all registered ones by default).

    Args:
        argv: location names; empty or ``None`` means every registered location.

    Returns:
        Process exit code: 0 when every manifest was written.
    """
    names = argv or [location.name for location in LOCATIONS]
    for name in names:
        prepare_manifest(name)
        print(f"prepared dbt manifest of {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
