"""The platform's command line: ``data-platform`` (entry point in ``pyproject.toml``), on typer.

``dbt bump`` moves a dbt project's submodule to a release tag (:func:`bump`, and
``docs/release_flow.md``), ``dbt list`` shows the dbt project of each code location, ``dbt add``
and ``administration add`` add an administration, ``validate`` checks the workspace. Every
command has ``--help``; the long steps print a progress line on stdout, a failure one line on
stderr (:class:`CliError`).

What stays hand-written is the git and dbt glue, which no library offers; the preparation and
the validation run with the code of the repository they change (:func:`run_in_repo`).
"""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
import yaml

from data_platform import locations
from data_platform.locations import LOCATIONS, CodeLocation
from data_platform.settings import REPO_ROOT

BUMP_MESSAGE = "Update dbt submodule {project} to {tag}"
"""Message of the commit made by ``data-platform dbt bump``."""

REGISTRY = Path("data_platform") / "locations.py"
"""The one list of code locations, relative to the repository."""
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception): ")

app = typer.Typer(
    help="Command line of the FWB data platform.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
dbt_app = typer.Typer(help="The dbt projects of the code locations.", no_args_is_help=True)
app.add_typer(dbt_app, name="dbt")
administration_app = typer.Typer(
    help="The administrations: a code location and its dbt project each.", no_args_is_help=True
)
app.add_typer(administration_app, name="administration")
sources_app = typer.Typer(
    help="The sources that read the marts other locations publish.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "administration"
"""Files of a new administration, paths and text with ``${code}`` and ``${name}`` to fill in."""
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


class CliError(RuntimeError):
    """A command cannot proceed; :func:`main` prints the message as one line, exit code 1.

    Hand-written because typer's own click exceptions are private (typer vendors click) and
    Rich would draw them as a multi-line panel, where the release flow wants one line.
    """


def run(
    args: Sequence[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output as text and return it, even on a non-zero exit code."""
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True)


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
    """Return the non-empty lines of ``stderr`` then ``stdout``, uncoloured, cut to 400 chars."""
    text = ANSI_ESCAPE.sub("", result.stderr + "\n" + result.stdout)
    return [line.strip()[:400] for line in text.splitlines() if line.strip()]


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """Return the last line a failed command printed (dbt, git end with the cause) or the code."""
    return (output_lines(result) or [f"exit code {result.returncode}"])[-1]


def exception_line(result: subprocess.CompletedProcess[str]) -> str:
    """Return the first ``<module>.<Name>Error: <message>`` line, else :func:`last_line`.

    Dagster reports the exception that stopped the load first, then its causes and stack.
    """
    found = [line for line in output_lines(result) if EXCEPTION_LINE.match(line)]
    return found[0] if found else last_line(result)


def project_path(location: CodeLocation) -> str:
    """Return the dbt project folder of a location relative to the repository root."""
    return location.dbt_project_dir.relative_to(REPO_ROOT).as_posix()


def is_submodule(repo: Path, path: str) -> bool:
    """Tell whether ``path`` is recorded as a git submodule (a gitlink) in the repo's index."""
    entries = git(repo, "ls-files", "--stage", "--", path).splitlines()
    return any(entry.startswith("160000 ") for entry in entries)


def checked_out_submodule(repo: Path, path: str) -> Path:
    """Return the work tree of the submodule ``path`` of ``repo``, checked to be usable.

    Raises:
        CliError: the folder is missing, is a plain directory, or is a submodule that was never
            initialised (``git submodule update --init``).
    """
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
    return directory


def tag_commit(directory: Path, path: str, tag: str) -> str:
    """Return the commit of a tag of the submodule ``path`` after fetching its remote's tags.

    Raises:
        CliError: the tags cannot be fetched, or the tag does not exist; the message names the
            tag and lists the latest tags.
    """
    typer.echo(f"fetching the tags of {path}...")
    fetched = run(["git", "fetch", "--quiet", "--tags", "origin"], cwd=directory)
    if fetched.returncode != 0:
        raise CliError(f"cannot fetch the tags of {path}: {last_line(fetched)}")
    found = run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}"], directory
    )
    if found.returncode == 0:
        return found.stdout.strip()
    tags = git(directory, "tag", "--list", "--sort=-v:refname").splitlines()
    latest = ", ".join(tags[:5]) or "none"
    raise CliError(f"tag {tag!r} does not exist in {path}; latest tags: {latest}")


def run_in_repo(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <args>`` with the code of ``repo``, not the installed one.

    The subprocess runs in ``repo``, first on ``PYTHONPATH``, with this interpreter's ``bin``
    folder (``dbt``) first on ``PATH`` and a throwaway, empty ``DAGSTER_HOME``.
    """
    with tempfile.TemporaryDirectory(prefix="dagster_home_") as dagster_home:
        (Path(dagster_home) / "dagster.yaml").write_text("{}\n")
        env = dict(os.environ, DAGSTER_HOME=dagster_home)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
        return run([sys.executable, "-m", *args], repo, env)


def prepare_and_validate(repo: Path, location: CodeLocation) -> None:
    """Prepare a location's dbt manifest and validate its definitions, with the repo's code.

    Raises:
        CliError: ``dbt parse`` fails, or ``dagster definitions validate`` fails; the message
            names the step and quotes the error.
    """
    typer.echo(f"preparing the dbt manifest of {project_path(location)} (dbt parse)...")
    prepared = run_in_repo(repo, "data_platform.tools.prepare", location.name)
    if prepared.returncode != 0:
        raise CliError(f"dbt parse of {project_path(location)} failed: {last_line(prepared)}")
    typer.echo(f"validating the definitions of {location.name}...")
    validated = run_in_repo(repo, "dagster", "definitions", "validate", "-m", location.module)
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
    try:
        location = locations.find_location(project)
    except KeyError as error:
        raise CliError(error.args[0]) from error
    path = project_path(location)
    directory = checked_out_submodule(repo, path)
    if git(directory, "status", "--porcelain", "--untracked-files=no"):
        raise CliError(f"{path} has local changes; commit or discard them first")
    previous = git(directory, "rev-parse", "HEAD")
    target = tag_commit(directory, path, tag)
    if target == run(["git", "rev-parse", f"HEAD:{path}"], cwd=repo).stdout.strip():
        return f"HEAD already records {path} at {tag} ({target[:12]}); nothing to commit"
    message = BUMP_MESSAGE.format(project=location.dbt_project_dir.name, tag=tag)

    manifest = directory / "target" / "manifest.json"
    saved = manifest.read_bytes() if manifest.exists() else None
    try:
        typer.echo(f"checking out {tag} ({target[:12]}) in {path}...")
        git(directory, "checkout", "--quiet", "--detach", target)
        prepare_and_validate(repo, location)
        git(repo, "add", "--", path)
        git(repo, "commit", "--quiet", "--message", message, "--", path)
    except BaseException:  # put the index entry, the checkout and the manifest back
        run(["git", "reset", "--quiet", "--", path], cwd=repo)
        run(["git", "checkout", "--quiet", "--detach", previous], cwd=directory)
        if saved is None:
            manifest.unlink(missing_ok=True)
        else:
            manifest.write_bytes(saved)
        raise
    return f"committed {git(repo, 'rev-parse', '--short', 'HEAD')} {message!r}"


def git_toplevel() -> Path:
    """Return the git toplevel of the current directory (the default of ``--repo``).

    Raises:
        CliError: the current directory is not in a git repository.
    """
    return Path(git(Path.cwd(), "rev-parse", "--show-toplevel"))


RepoOption = Annotated[
    Path,
    typer.Option(
        default_factory=git_toplevel,
        resolve_path=True,
        show_default=False,
        help="Platform repository (default: the git toplevel of the current directory).",
    ),
]


@dbt_app.command("bump")
def bump_command(
    project: Annotated[
        str, typer.Argument(help="dbt project folder (ags_dbt) or code location (ags_project).")
    ],
    tag: Annotated[str, typer.Argument(help="Release tag of the dbt repository, e.g. v0.2.0.")],
    repo: RepoOption,
) -> None:
    """Move a dbt submodule to a release tag, validate its location and commit.

    Moves dbt_submodules/PROJECT to TAG, prepares its dbt manifest, validates the location's
    definitions and commits "Update dbt submodule PROJECT to TAG". On failure nothing is
    committed and the submodule is restored.
    """
    typer.echo(bump(repo, project, tag))


@dbt_app.command("list")
def list_command(repo: RepoOption) -> None:
    """List the dbt projects of the code locations and the tag or commit each submodule pins.

    Columns: location, dbt folder, kind (submodule, directory or missing), version (`-` when not
    a submodule).
    """
    for location in LOCATIONS:
        path = project_path(location)
        kind, version = "missing", "-"
        if (repo / path).is_dir():
            kind = "submodule" if is_submodule(repo, path) else "directory"
        if kind == "submodule":
            try:
                version = git(checked_out_submodule(repo, path), "describe", "--tags", "--always")
            except CliError:
                version = "not checked out"
        typer.echo(f"{location.name:<16} {path:<34} {kind:<10} {version}")


def render_template(repo: Path, code: str, name: str, under: str = "") -> None:
    """Write the files of :data:`TEMPLATE` (those under ``under`` only) into ``repo``.

    Paths and text are filled in with :class:`string.Template` (``${code}``, ``${name}``; any
    other ``$`` is left as it is), a ``.tmpl`` suffix dropped.

    Raises:
        CliError: a file to write already exists; nothing is written then.
    """
    values = {"code": code, "name": name}
    files = {
        source: repo
        / string.Template(str(source.relative_to(TEMPLATE)))
        .substitute(values)
        .removesuffix(".tmpl")
        for source in sorted((TEMPLATE / under).rglob("*"))
        if source.is_file()
    }
    for target in files.values():
        if target.exists():
            raise CliError(f"{target.relative_to(repo)} already exists")
    for source, target in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(string.Template(source.read_text()).safe_substitute(values))


def new_location(code: str, name: str) -> CodeLocation:
    """Return the location of identifier ``code``.

    Raises:
        CliError: ``code`` is not lower-case letters, digits and ``_`` (dbt, Python, DNS).
    """
    if not IDENTIFIER.fullmatch(code):
        raise CliError(f"{code!r} cannot be an identifier: use lower-case letters, digits and _")
    return CodeLocation(code, name)


def is_registered(repo: Path, code: str) -> bool:
    """Return whether the repo's ``data_platform/locations.py`` registers identifier ``code``."""
    return f'CodeLocation("{code}",' in (repo / REGISTRY).read_text()


def register(repo: Path, location: CodeLocation) -> None:
    """Add a location to the repo's ``data_platform/locations.py`` and regenerate what derives.

    Raises:
        CliError: the identifier is registered already, or the derived files cannot be
            regenerated.
    """
    path = repo / REGISTRY
    if is_registered(repo, location.identifier):
        raise CliError(f"{location.identifier} is registered already in {path}")
    text = path.read_text()
    entry = f"    CodeLocation({json.dumps(location.identifier)}, "
    entry += f"{json.dumps(location.administration, ensure_ascii=False)}),\n"
    start = text.index("LOCATIONS: tuple[CodeLocation, ...] = (")
    end = text.index("\n)\n", start) + 1
    path.write_text(text[:end] + entry + text[end:])
    typer.echo(f"registered {location.name} in data_platform/locations.py")
    generated = run_in_repo(repo, "data_platform.tools.workspaces")
    if generated.returncode != 0:
        raise CliError(f"the derived files cannot be regenerated: {last_line(generated)}")


def check_workspace(repo: Path, location: CodeLocation) -> None:
    """Validate a new location and the workspace with the repo's code (see :func:`validate`).

    Raises:
        CliError: the location does not load or the workspace check fails.
    """
    prepare_and_validate(repo, location)
    typer.echo("writing the sources of published marts (data-platform sources sync)...")
    synced = run_in_repo(repo, "data_platform.tools.cli", "sources", "sync")
    if synced.returncode != 0:
        raise CliError(f"data-platform sources sync failed: {last_line(synced)}")
    typer.echo("checking the workspace (data-platform validate)...")
    checked = run_in_repo(repo, "data_platform.tools.cli", "validate")
    if checked.returncode != 0:
        raise CliError(f"data-platform validate failed: {'; '.join(output_lines(checked))}")


@administration_app.command("add")
def administration_add(
    code: Annotated[str, typer.Argument(help="Identifier of the administration, e.g. ags.")],
    name: Annotated[str, typer.Option("--name", help="Administration générale ..., in words.")],
    repo: RepoOption,
) -> None:
    """Create a working administration: its dbt project, code location and derived files.

    Writes dbt_submodules/CODE_dbt from the template (version, .cz.toml, .sqlfluff, the shared
    marts as sources, an example raw file, staging model and mart, a README), the package
    CODE_project, its entry in data_platform/locations.py, regenerates every derived file, then
    prepares its manifest and validates it. Nothing is committed.
    """
    location = new_location(code, name)
    render_template(repo, code, name)
    register(repo, location)
    check_workspace(repo, location)
    typer.echo(f"added {location.name} ({project_path(location)}); review and commit")


@dbt_app.command("add")
def dbt_add(
    url: Annotated[str, typer.Argument(help="Git URL of the dbt project's repository.")],
    administration: Annotated[
        str, typer.Option(help="Identifier of the administration; its dbt project's name.")
    ],
    repo: RepoOption,
    name: Annotated[
        str | None, typer.Option(help="Administration générale ..., to register a new one.")
    ] = None,
) -> None:
    """Add an existing dbt project as the git submodule dbt_submodules/ADMINISTRATION_dbt.

    An administration not registered yet gets its package and its entry in
    data_platform/locations.py (--name required). The submodule is added with `git submodule
    add`; its dbt project must be named ADMINISTRATION (checked on a clone first). Then the
    manifest is prepared and the workspace validated. Nothing is committed.
    """
    location = new_location(administration, name or administration)
    path = project_path(location)
    registered = is_registered(repo, administration)
    if not registered and not name:
        raise CliError(f"{administration} is not registered: give --name to register it")
    with tempfile.TemporaryDirectory(prefix="dbt_add_") as clone:
        git(repo, "clone", "--quiet", "--depth", "1", "--", url, clone)
        found = yaml.safe_load((Path(clone) / "dbt_project.yml").read_text()).get("name")
    if found != location.dbt_project:
        raise CliError(
            f"{url} holds the dbt project {found!r}, not {location.dbt_project!r}"
            " (--administration): the name: of its dbt_project.yml must be the identifier"
        )
    typer.echo(f"adding {url} as the submodule {path}...")
    git(repo, "submodule", "add", "--quiet", "--", url, path)
    if not registered:
        render_template(repo, administration, location.administration, "${code}_project")
        register(repo, location)
    check_workspace(repo, location)
    typer.echo(f"added {path} for {location.name}; review and commit")


@app.command("validate")
def validate_command() -> None:
    """Check the workspace as a whole, besides `dagster definitions validate` per location.

    Refuses a dbt project name that differs from its registration, a dbt package missing from
    the repository, an asset key defined by two locations and a source reading a published mart
    that no location defines (data_platform/tools/validate.py). Prepares the manifests missing.
    """
    from data_platform.tools import validate  # builds every location: imported when it runs

    found = validate.problems()
    for problem in found:
        typer.echo(problem, err=True)
    if found:
        raise CliError(f"{len(found)} problem(s) in the workspace (above)")
    typer.echo(f"the workspace of {len(LOCATIONS)} code locations is valid")


@sources_app.command("sync")
def sources_sync() -> None:
    """Write the sources of published marts from their publishers' contracts.

    In each source with meta.published_by, every table takes its description, columns and
    data types from the publisher's model (data_platform/tools/validate.py); the tests written
    in the reader are kept. The locations whose files changed are prepared again.
    """
    from data_platform.tools import validate  # Dagster and dbt: imported when it runs

    for path in validate.sync_sources():
        typer.echo(f"wrote {path.relative_to(REPO_ROOT)}")


def main() -> None:
    """Run ``data-platform`` (the entry point in ``pyproject.toml``).

    Exits with code 0 on success, 2 on a usage error (from typer), 1 on a :class:`CliError`,
    printed on stderr as one line ``data-platform: error: ...``.
    """
    try:
        app(prog_name="data-platform")
    except CliError as error:
        typer.echo(f"data-platform: error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
