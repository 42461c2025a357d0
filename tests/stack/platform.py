"""Copies of the platform for tests that must change files (a broken manifest, for example)."""

import shutil
from pathlib import Path

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT


def copy_platform(destination: Path) -> Path:
    """Copy the code, the workspace and the dbt projects (with their prepared manifests).

    Args:
        destination: folder to create; must not exist.

    Returns:
        ``destination``, a working directory from which every location loads.
    """
    destination.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".venv", ".local", "__pycache__", "logs", "*.duckdb")
    for name in ["workspace.yaml", "open_data", *[location.name for location in LOCATIONS]]:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy(source, destination / name)
    shutil.copytree(REPO_ROOT / "dbt_submodules", destination / "dbt_submodules", ignore=ignore)
    return destination
