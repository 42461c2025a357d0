"""Real git repositories for the release-flow tests: a steward's dbt repo and the platform.

Every git and commitizen command runs with a throwaway identity and without the user's global
or system git configuration (``GIT_CONFIG_GLOBAL=/dev/null``), so nothing outside the temporary
folders is read or changed.
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
    """Return an environment with a local git identity and no global or system git config."""
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="Steward Test",
        GIT_AUTHOR_EMAIL="steward@example.org",
        GIT_COMMITTER_NAME="Steward Test",
        GIT_COMMITTER_EMAIL="steward@example.org",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    return env


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd`` with :func:`git_env`; raise with its output when it fails."""
    result = subprocess.run(
        args, cwd=cwd, env=git_env(), capture_output=True, text=True, timeout=900
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def git(cwd: Path, *args: str) -> str:
    """Run ``git <args>`` in ``cwd`` and return its stripped output."""
    return run(["git", *args], cwd).stdout.strip()


def cz_bump(work: Path) -> str:
    """Release with commitizen (``cz bump --yes``) and return the new version."""
    run([str(BIN / "cz"), "bump", "--yes"], work)
    return run([str(BIN / "cz"), "version", "--project"], work).stdout.strip()


def commit_all(work: Path, message: str) -> str:
    """Stage everything in ``work``, commit it with ``message`` and return the commit."""
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "--message", message)
    return git(work, "rev-parse", "HEAD")


@dataclass(frozen=True)
class DbtRepo:
    """A steward's dbt repository: a bare remote and a work clone that pushes to it.

    Attributes:
        remote: the bare repository (what GitLab would host).
        work: a clone of it where the steward commits and releases.
    """

    remote: Path
    work: Path

    def release(self) -> str:
        """Release with commitizen, push the branch and the tag; return the tag (``v0.2.0``)."""
        version = cz_bump(self.work)
        git(self.work, "push", "--quiet", "--follow-tags", "origin", "main")
        return f"v{version}"


def dbt_repo(project: str, root: Path) -> DbtRepo:
    """Publish a copy of ``dbt_submodules/<project>`` as a dbt repository with a first release.

    Args:
        project: folder of the dbt project under ``dbt_submodules/``, e.g. ``ags_dbt``.
        root: folder to create the bare remote (``<project>.git``) and the work clone in.

    Returns:
        The repository, whose ``main`` holds the project and its first release tag.
    """
    remote, work = root / f"{project}.git", root / f"{project}_work"
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(root, "clone", "--quiet", str(remote), str(work))
    shutil.copytree(
        REPO_ROOT / "dbt_submodules" / project,
        work,
        ignore=shutil.ignore_patterns(*DBT_REPO_IGNORES),
        dirs_exist_ok=True,
    )
    (work / ".gitignore").write_text("".join(f"{name}\n" for name in DBT_REPO_IGNORES))
    commit_all(work, f"feat: {project} dbt project, moved out of the platform monorepo")
    repo = DbtRepo(remote=remote, work=work)
    repo.release()
    return repo


def platform_repo(destination: Path, submodules: dict[str, Path]) -> Path:
    """Build a platform repository whose dbt projects are given as real git submodules.

    Args:
        destination: folder to create (a copy of the platform, see ``copy_platform``).
        submodules: dbt project folder (``ags_dbt``) -> its remote; each replaces the plain
            directory ``dbt_submodules/<project>``.

    Returns:
        ``destination``, a git repository with one commit on ``main``.
    """
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
    """Build a platform repository whose dbt projects are plain directories, not submodules.

    It holds what ``data-platform dbt bump`` looks at before it refuses a plain directory: the
    dbt project folder of every registered location (with its ``dbt_project.yml``), committed.

    Args:
        destination: folder to create; must not exist.

    Returns:
        ``destination``, a git repository with one commit on ``main``.
    """
    destination.mkdir(parents=True)
    git(destination, "init", "--quiet", "--initial-branch=main")
    for location in LOCATIONS:
        folder = destination / location.dbt_project_dir.relative_to(REPO_ROOT)
        folder.mkdir(parents=True)
        shutil.copy(location.dbt_project_dir / "dbt_project.yml", folder / "dbt_project.yml")
    commit_all(destination, "Platform with its dbt projects as plain directories")
    return destination


def release_files_repo(project: str, destination: Path) -> Path:
    """Build a git repository holding only the release files of a dbt project, not released yet.

    Args:
        project: folder of the dbt project under ``dbt_submodules/``, e.g. ``ags_dbt``.
        destination: folder to create; must not exist.

    Returns:
        ``destination``, with :data:`RELEASE_FILES` committed as ``feat:`` on ``main`` and no tag.
    """
    destination.mkdir(parents=True)
    git(destination, "init", "--quiet", "--initial-branch=main")
    for name in RELEASE_FILES:
        shutil.copy(REPO_ROOT / "dbt_submodules" / project / name, destination / name)
    commit_all(destination, f"feat: {project} release files")
    return destination
