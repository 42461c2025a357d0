"""Copies of the platform for tests that must change files, and a clean environment to run them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT


def copy_platform(destination: Path) -> Path:
    """Copy the code, workspace and dbt projects (with their manifests) to the new folder
    ``destination`` and return it: every location loads from it."""
    destination.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".venv", ".local", "__pycache__", "logs", "*.duckdb")
    shutil.copy(REPO_ROOT / "workspace.yaml", destination / "workspace.yaml")
    for name in ["open_data", "dbt_submodules", *[location.name for location in LOCATIONS]]:
        shutil.copytree(REPO_ROOT / name, destination / name, ignore=ignore)
    return destination


def snapshot_worktree(destination: Path, *, commit: bool = False) -> Path:
    """Copy the working tree's tracked and untracked files (not the ignored ones: no virtualenv,
    no prepared manifest, as in a fresh clone) to ``destination`` and return it; with ``commit``,
    it is also a git repository with one commit on ``main`` (gitlab-ci-local reads the jobs' git
    context from it)."""
    listing = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]
    names = subprocess.run(listing, cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, names.decode().split("\0")):
        if (REPO_ROOT / name).is_file():  # a tracked file deleted in the working tree is left out
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, destination / name)
    if commit:
        git = ["git", "-c", "user.name=CI test", "-c", "user.email=ci@example.org"]
        for args in ("init -q -b main", "add -A", "commit -q -m snapshot"):
            subprocess.run([*git, *args.split()], cwd=destination, check=True)
    return destination


def clean_environment() -> dict[str, str]:
    """Return this process's environment without what would leak into a nested run.

    Drops pytest-cov's subprocess hooks, pytest options, the active virtual environment and the
    session's lake and warehouse; puts uv's folder on PATH.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COV_CORE_", "PYTEST_", "DATA_PLATFORM_"))
        and name not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    venv = Path(sys.executable).parent
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if Path(entry) != venv]
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    env["PATH"] = os.pathsep.join([str(Path(uv).parent), *path])
    return env
