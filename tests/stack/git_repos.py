"""Real git repositories for the release-flow tests: a steward's dbt repo and the platform.

Every git and commitizen command runs with a throwaway identity and without the user's global
or system git configuration (``GIT_CONFIG_GLOBAL=/dev/null``), so nothing outside the temporary
folders is read or changed. Plain ``git`` calls: the tests compare its output (hashes, messages)
as a user reads it, and commitizen, which commits too, needs the same environment anyway.
"""

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT
from tests.stack.platform import copy_platform

BIN = Path(sys.executable).parent
"""The virtual environment's ``bin`` folder (``cz``, ``dbt``, ``data-platform``)."""

DBT_REPO_IGNORES = ("target", "dbt_packages", "logs", ".user.yml", "*.duckdb", "__pycache__")
RELEASE_FILES = (".cz.toml", "dbt_project.yml")
"""What commitizen reads and writes in a dbt project (besides the ``CHANGELOG.md`` it creates)."""


def git_env() -> dict[str, str]:
    """Return this process's environment with a throwaway git identity, no global or system git
    configuration, and ``BIN`` first on ``PATH``."""
    identity = {"NAME": "Steward Test", "EMAIL": "steward@example.org"}
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env |= {f"GIT_{role}_{key}": value for role in ("AUTHOR", "COMMITTER")
            for key, value in identity.items()}  # fmt: skip
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd`` with a throwaway git identity and ``BIN`` first on ``PATH``.

    Raises:
        AssertionError: ``check`` is set and it exited non-zero (its output is in the message).
    """
    result = subprocess.run(
        args, cwd=cwd, env=git_env(), capture_output=True, text=True, timeout=900
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str) -> str:
    """Run ``git <args>`` in ``cwd`` and return its stripped output (see :func:`run`)."""
    return run(["git", *args], cwd).stdout.strip()


def commit_all(work: Path, message: str) -> str:
    """Stage everything in ``work``, commit it with ``message`` and return the commit."""
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "--message", message)
    return git(work, "rev-parse", "HEAD")


def new_repo(destination: Path, files: dict[str, Path], message: str) -> Path:
    """Create the repository ``destination`` with ``files`` (path -> source) committed on main."""
    destination.mkdir(parents=True)
    git(destination, "init", "--quiet", "--initial-branch=main")
    for name, source in files.items():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination / name)
    commit_all(destination, message)
    return destination


@dataclass(frozen=True)
class DbtRepo:
    """A steward's dbt repository: a bare ``remote`` (GitLab's) and the steward's ``work`` clone."""

    remote: Path
    work: Path

    def release(self) -> str:
        """Release with commitizen, push the branch and the tag; return the tag (``v0.2.0``)."""
        run([str(BIN / "cz"), "bump", "--yes"], self.work)
        version = run([str(BIN / "cz"), "version", "--project"], self.work).stdout.strip()
        git(self.work, "push", "--quiet", "--follow-tags", "origin", "main")
        return f"v{version}"


def dbt_repo(project: str, root: Path) -> DbtRepo:
    """Publish ``dbt_submodules/<project>`` as ``root/<project>.git`` (cloned to
    ``root/<project>_work``): ``main`` holds the project and its first release tag."""
    remote, work = root / f"{project}.git", root / f"{project}_work"
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(root, "clone", "--quiet", str(remote), str(work))
    ignore = shutil.ignore_patterns(*DBT_REPO_IGNORES)
    shutil.copytree(REPO_ROOT / "dbt_submodules" / project, work, ignore=ignore, dirs_exist_ok=True)
    (work / ".gitignore").write_text("".join(f"{name}\n" for name in DBT_REPO_IGNORES))
    commit_all(work, f"feat: {project} dbt project, moved out of the platform monorepo")
    repo = DbtRepo(remote=remote, work=work)
    repo.release()
    return repo


def platform_repo(destination: Path, submodules: dict[str, Path]) -> Path:
    """Build a copy of the platform in ``destination``, one commit on ``main``, whose
    ``dbt_submodules/<project>`` are git submodules of ``submodules`` (project -> remote)."""
    copy_platform(destination)
    shutil.copy(REPO_ROOT / ".gitignore", destination / ".gitignore")
    git(destination, "init", "--quiet", "--initial-branch=main")
    for project, remote in submodules.items():
        path = f"dbt_submodules/{project}"
        shutil.rmtree(destination / path)
        add = ["-c", "protocol.file.allow=always", "submodule", "add", "--quiet"]
        git(destination, *add, str(remote), path)
    commit_all(destination, "Platform with its dbt projects as submodules")
    return destination


def plain_platform_repo(destination: Path) -> Path:
    """Build a platform repository whose dbt projects are plain directories (their
    ``dbt_project.yml``, what ``data-platform dbt bump`` reads before it refuses them)."""
    projects = [location.dbt_project_dir / "dbt_project.yml" for location in LOCATIONS]
    files = {str(path.relative_to(REPO_ROOT)): path for path in projects}
    return new_repo(destination, files, "Platform with its dbt projects as plain directories")


def release_files_repo(project: str, destination: Path) -> Path:
    """Build a repository of the :data:`RELEASE_FILES` of a dbt project (``feat:``, no tag)."""
    files = {name: REPO_ROOT / "dbt_submodules" / project / name for name in RELEASE_FILES}
    return new_repo(destination, files, f"feat: {project} release files")
