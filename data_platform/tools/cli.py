"""The platform's command line: ``data-platform`` (entry point in ``pyproject.toml``).

``data-platform dbt bump <project> <tag>`` moves a dbt project's git submodule
(``dbt_submodules/<project>``) to a release tag of the steward's repository, prepares its dbt
manifest, validates the code location's definitions and commits ``Update dbt submodule
<project> to <tag>``. Any failure restores the submodule and its manifest, leaves the index and
``HEAD`` as they were and prints a one-line error. ``data-platform dbt list`` shows every code
location with its dbt project and, for a submodule, the tag or commit checked out.

The preparation and the validation run in subprocesses whose working directory and
``PYTHONPATH`` are the repository, so that the code of that repository (not the installed one)
builds the definitions. See ``docs/release_flow.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from data_platform import locations
from data_platform.locations import LOCATIONS, CodeLocation
from data_platform.settings import REPO_ROOT

BUMP_MESSAGE = "Update dbt submodule {project} to {tag}"
"""Message of the commit made by ``data-platform dbt bump``."""

LATEST_TAGS_SHOWN = 5
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception): ")


class CliError(RuntimeError):
    """A command cannot proceed; the message is printed as is, without a traceback."""


def run(
    args: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run a command and capture its output (it never raises on a non-zero exit code).

    Args:
        args: the command and its arguments.
        cwd: working directory.
        env: environment of the command (the current one when ``None``).
        timeout: seconds before the command is killed.

    Returns:
        The completed process, with ``stdout`` and ``stderr`` as text.
    """
    return subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def git(repo: Path, *args: str) -> str:
    """Run ``git -C <repo> <args>`` and return its standard output, stripped.

    Raises:
        CliError: git exits with a non-zero code; the message holds git's own error line.
    """
    result = run(["git", "-C", str(repo), *args], cwd=repo)
    if result.returncode != 0:
        raise CliError(f"git {' '.join(args)} failed in {repo}: {last_line(result)}")
    return result.stdout.strip()


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Return the non-empty lines of a command's ``stderr`` then ``stdout``, without colours."""
    text = ANSI_ESCAPE.sub("", result.stderr + "\n" + result.stdout)
    return [line.strip() for line in text.splitlines() if line.strip()]


def shorten(line: str, limit: int = 400) -> str:
    """Return ``line`` cut to ``limit`` characters."""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """Return the last non-empty line a failed command printed (dbt and git end with the cause).

    Returns:
        That line, at most 400 characters long, or ``exit code <n>`` when nothing was printed.
    """
    return shorten((output_lines(result) or [f"exit code {result.returncode}"])[-1])


def exception_line(result: subprocess.CompletedProcess[str]) -> str:
    """Return the first ``<module>.<Name>Error: <message>`` line of a Python error report.

    Dagster reports the exception that stopped the load first, then its causes and stack.

    Returns:
        That line, at most 400 characters long, else :func:`last_line`.
    """
    for line in output_lines(result):
        if EXCEPTION_LINE.match(line):
            return shorten(line)
    return last_line(result)


def find_location(project: str) -> CodeLocation:
    """Return the code location of a dbt project named by folder, location or dbt name.

    Args:
        project: ``ags_dbt`` (folder under ``dbt_submodules/``), ``ags_project`` (code
            location) or ``ags`` (``name:`` of the dbt project).

    Returns:
        The registered code location.

    Raises:
        CliError: no registered location matches, listing the known projects.
    """
    try:
        return locations.find_location(project)
    except KeyError as error:
        raise CliError(error.args[0]) from error


def default_repo() -> Path:
    """Return the git toplevel of the current directory.

    Raises:
        CliError: the current directory is not in a git repository.
    """
    return Path(git(Path.cwd(), "rev-parse", "--show-toplevel"))


def project_path(location: CodeLocation) -> str:
    """Return the dbt project folder of a location relative to the repository root."""
    return location.dbt_project_dir.relative_to(REPO_ROOT).as_posix()


def is_submodule(repo: Path, path: str) -> bool:
    """Tell whether ``path`` is recorded as a git submodule (a gitlink) in the repo's index."""
    entries = git(repo, "ls-files", "--stage", "--", path).splitlines()
    return any(entry.startswith("160000 ") for entry in entries)


@dataclass(frozen=True)
class Submodule:
    """A dbt project checked out as a git submodule of the platform repository.

    Attributes:
        repo: root of the platform repository.
        path: folder of the submodule, relative to ``repo`` (``dbt_submodules/ags_dbt``).
    """

    repo: Path
    path: str

    @property
    def directory(self) -> Path:
        """Absolute folder of the submodule's work tree."""
        return self.repo / self.path

    @classmethod
    def of(cls, repo: Path, location: CodeLocation) -> Submodule:
        """Return the submodule holding a location's dbt project, checked to be usable.

        Raises:
            CliError: the folder is missing, is a plain directory, or is a submodule that was
                never initialised (``git submodule update --init``).
        """
        path = project_path(location)
        directory = repo / path
        if not directory.is_dir():
            raise CliError(f"{path} does not exist in {repo}")
        if not is_submodule(repo, path):
            raise CliError(f"{path} is a plain directory, not a submodule (in {repo})")
        toplevel = run(["git", "rev-parse", "--show-toplevel"], cwd=directory)
        if toplevel.returncode != 0 or Path(toplevel.stdout.strip()) != directory.resolve():
            raise CliError(
                f"{path} is a submodule that is not checked out;"
                f" run `git submodule update --init {path}` first"
            )
        return cls(repo=repo, path=path)

    def head(self) -> str:
        """Return the commit checked out in the submodule."""
        return git(self.directory, "rev-parse", "HEAD")

    def describe(self) -> str:
        """Return the tag checked out (``v0.2.0``), else ``<tag>-<n>-g<sha>`` or a short sha."""
        return git(self.directory, "describe", "--tags", "--always")

    def tag_commit(self, tag: str) -> str:
        """Return the commit of a tag after fetching the remote's tags.

        Raises:
            CliError: the tags cannot be fetched, or the tag does not exist; the message names
                the tag and lists the latest tags.
        """
        fetched = run(["git", "fetch", "--quiet", "--tags", "origin"], cwd=self.directory)
        if fetched.returncode != 0:
            raise CliError(f"cannot fetch the tags of {self.path}: {last_line(fetched)}")
        found = run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}"],
            cwd=self.directory,
        )
        if found.returncode == 0:
            return found.stdout.strip()
        tags = git(self.directory, "tag", "--list", "--sort=-v:refname").splitlines()
        latest = ", ".join(tags[:LATEST_TAGS_SHOWN]) or "none"
        raise CliError(f"tag {tag!r} does not exist in {self.path}; latest tags: {latest}")

    def checkout(self, commit: str) -> None:
        """Check out ``commit`` (detached) in the submodule.

        Raises:
            CliError: git refuses (local changes in the way, for example).
        """
        git(self.directory, "checkout", "--quiet", "--detach", commit)


def subprocess_env(repo: Path, dagster_home: Path) -> dict[str, str]:
    """Return the environment of the preparation and validation subprocesses.

    Args:
        repo: platform repository, put first on ``PYTHONPATH`` so that its code is imported.
        dagster_home: an empty folder for the throwaway Dagster instance of the validation.

    Returns:
        The current environment plus ``PYTHONPATH``, ``DAGSTER_HOME`` and this interpreter's
        ``bin`` folder first on ``PATH`` (where ``dbt`` is installed).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env["PATH"]]))
    env["DAGSTER_HOME"] = str(dagster_home)
    return env


def prepare_and_validate(repo: Path, location: CodeLocation) -> None:
    """Prepare a location's dbt manifest and validate its definitions, with the repo's code.

    Args:
        repo: platform repository (working directory of both subprocesses).
        location: the code location whose dbt project was just checked out.

    Raises:
        CliError: ``dbt parse`` fails, or ``dagster definitions validate`` fails; the message
            names the step and quotes the error.
    """
    with tempfile.TemporaryDirectory(prefix="dagster_home_") as dagster_home:
        (Path(dagster_home) / "dagster.yaml").write_text("{}\n")
        env = subprocess_env(repo, Path(dagster_home))
        prepared = run(
            [sys.executable, "-m", "data_platform.tools.prepare", location.name], cwd=repo, env=env
        )
        if prepared.returncode != 0:
            raise CliError(f"dbt parse of {project_path(location)} failed: {last_line(prepared)}")
        validated = run(
            [sys.executable, "-m", "dagster", "definitions", "validate", "-m", location.module],
            cwd=repo,
            env=env,
        )
        if validated.returncode != 0:
            raise CliError(
                f"the definitions of {location.name} do not load: {exception_line(validated)}"
            )


def bump(repo: Path, project: str, tag: str) -> str:
    """Move a dbt project's submodule to a release tag and commit it, or change nothing.

    Args:
        repo: root of the platform repository.
        project: dbt project folder (``ags_dbt``), code location (``ags_project``) or dbt
            project name (``ags``).
        tag: release tag of the dbt repository, e.g. ``v0.2.0``.

    Returns:
        A one-line summary of what was done (the commit made, or that the tag was already
        recorded).

    Raises:
        CliError: unknown project, plain directory instead of a submodule, unknown tag, local
            changes in the submodule, failing ``dbt parse`` or failing definitions. The
            submodule, its manifest, the index and ``HEAD`` are then as they were.
    """
    location = find_location(project)
    submodule = Submodule.of(repo, location)
    name = location.dbt_project_dir.name
    if git(submodule.directory, "status", "--porcelain", "--untracked-files=no"):
        raise CliError(f"{submodule.path} has local changes; commit or discard them first")
    previous = submodule.head()
    target = submodule.tag_commit(tag)
    recorded = run(["git", "rev-parse", f"HEAD:{submodule.path}"], cwd=repo).stdout.strip()
    if target == recorded:
        return f"HEAD already records {submodule.path} at {tag} ({target[:12]}); nothing to commit"
    message = BUMP_MESSAGE.format(project=name, tag=tag)

    manifest = submodule.directory / "target" / "manifest.json"
    with tempfile.TemporaryDirectory(prefix="manifest_") as backup_dir:
        backup = Path(backup_dir) / "manifest.json"
        if manifest.exists():
            shutil.copy2(manifest, backup)
        try:
            submodule.checkout(target)
            prepare_and_validate(repo, location)
            git(repo, "add", "--", submodule.path)
            git(repo, "commit", "--quiet", "--message", message, "--", submodule.path)
        except BaseException:
            restore(submodule, previous, manifest, backup)
            raise
    return f"committed {git(repo, 'rev-parse', '--short', 'HEAD')} {message!r}"


def restore(submodule: Submodule, previous: str, manifest: Path, backup: Path) -> None:
    """Put the submodule, its index entry and its manifest back as they were before a bump.

    Args:
        submodule: the submodule being bumped.
        previous: the commit it had checked out.
        manifest: its ``target/manifest.json``.
        backup: the copy of that manifest taken before the bump (absent when there was none).
    """
    run(["git", "reset", "--quiet", "--", submodule.path], cwd=submodule.repo)
    run(["git", "checkout", "--quiet", "--detach", previous], cwd=submodule.directory)
    if backup.exists():
        shutil.copy2(backup, manifest)
    else:
        manifest.unlink(missing_ok=True)


def list_projects(repo: Path) -> list[dict[str, str]]:
    """Describe every code location's dbt project in a repository.

    Args:
        repo: root of the platform repository.

    Returns:
        One mapping per location: ``location``, ``path`` (``dbt_submodules/<project>``),
        ``kind`` (``submodule``, ``directory`` or ``missing``) and ``version`` (the tag or
        commit checked out for a submodule, else ``-``).
    """
    rows = []
    for location in LOCATIONS:
        path = project_path(location)
        kind, version = "missing", "-"
        if (repo / path).is_dir():
            kind = "submodule" if is_submodule(repo, path) else "directory"
        if kind == "submodule":
            try:
                version = Submodule.of(repo, location).describe()
            except CliError:
                version = "not checked out"
        rows.append({"location": location.name, "path": path, "kind": kind, "version": version})
    return rows


def parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``data-platform``."""
    main_parser = argparse.ArgumentParser(
        prog="data-platform", description="Command line of the FWB data platform."
    )
    groups = main_parser.add_subparsers(dest="group", required=True)
    dbt = groups.add_parser("dbt", help="the dbt projects of the code locations")
    commands = dbt.add_subparsers(dest="command", required=True)

    bump_parser = commands.add_parser(
        "bump",
        help="move a dbt submodule to a release tag, validate its location and commit",
        description=(
            "Move dbt_submodules/<project> to <tag>, prepare its dbt manifest, validate the"
            " location's definitions and commit 'Update dbt submodule <project> to <tag>'."
            " On failure nothing is committed and the submodule is restored."
        ),
    )
    bump_parser.add_argument(
        "project", help="dbt project folder (ags_dbt) or code location (ags_project)"
    )
    bump_parser.add_argument("tag", help="release tag of the dbt repository, e.g. v0.2.0")
    list_parser = commands.add_parser("list", help="list the dbt projects and their versions")
    for command in (bump_parser, list_parser):
        command.add_argument(
            "--repo", type=Path, help="platform repository (default: git toplevel of the cwd)"
        )
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``data-platform`` with the given arguments.

    Args:
        argv: command-line arguments without the program name (``sys.argv[1:]`` if ``None``).

    Returns:
        Process exit code: 0 on success, 1 on an error (printed on stderr as
        ``data-platform: error: ...``), 2 on a usage error (from argparse).
    """
    arguments = parser().parse_args(argv)
    try:
        repo = (arguments.repo or default_repo()).resolve()
        if arguments.command == "bump":
            print(bump(repo, arguments.project, arguments.tag))
        else:
            for row in list_projects(repo):
                print(f"{row['location']:<16} {row['path']:<34} {row['kind']:<10} {row['version']}")
    except CliError as error:
        print(f"data-platform: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
