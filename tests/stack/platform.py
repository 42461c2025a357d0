"""Copies of the platform for tests that must change files (a broken manifest, for example).

* :func:`copy_platform`: the code and the dbt projects with their prepared manifests, enough for
  every location to load;
* :func:`snapshot_worktree`: the working tree as git sees it (no ignored file: no virtualenv, no
  prepared manifest), as a fresh clone would be;
* :func:`clean_environment`: this process's environment minus what must not leak into a nested
  run of the platform's commands.
"""

import os
import shutil
import subprocess
import sys
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


def snapshot_worktree(destination: Path, *, commit: bool = False) -> Path:
    """Copy the working tree as it is now (tracked and untracked files, not the ignored ones).

    Args:
        destination: folder to create.
        commit: also make it a git repository with one commit on ``main`` (gitlab-ci-local
            reads the jobs' git context from it).

    Returns:
        ``destination``.
    """
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    destination.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    if commit:
        git = ["git", "-c", "user.name=CI test", "-c", "user.email=ci@example.org"]
        subprocess.run([*git, "init", "-q", "-b", "main"], cwd=destination, check=True)
        subprocess.run([*git, "add", "-A"], cwd=destination, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "snapshot"], cwd=destination, check=True)
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
    path = [
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if Path(entry) != Path(sys.executable).parent
    ]
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    env["PATH"] = os.pathsep.join([str(Path(uv).parent), *path])
    return env
