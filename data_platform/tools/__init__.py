"""The tooling around the platform: command line, slim CI, dbt docs site, workspace files.

Nothing here is imported by a code location: a code server loads only the definitions side of
:mod:`data_platform` (factory, translator, raw assets, lake, sensors).
"""

import functools
import subprocess
from pathlib import Path

from data_platform.settings import dbt_executable


@functools.cache
def install_dbt_packages(project_dir: Path) -> None:
    """Run ``dbt deps`` once per process in a dbt project that declares packages.

    Local packages (``platform_utils``) need no network. The tools that run dbt in a project
    folder with its stewards' profile (slim CI, the docs site) call it first, as the platform's
    preparation does for the runs.

    Raises:
        subprocess.CalledProcessError: dbt deps failed (its output in ``stdout``).
    """
    if (project_dir / "packages.yml").exists() or (project_dir / "dependencies.yml").exists():
        subprocess.run(
            [dbt_executable(), "deps", "--quiet"], cwd=project_dir, check=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
