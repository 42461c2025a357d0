"""Slim CI: on a merge request, build and test only what changed (dbt's ``state:modified+``).

``python -m data_platform.tools.slim_ci --state prod-manifests [--project ags]`` compares every dbt
project with the production manifest kept by the last pipeline of ``main``
(``prod-manifests/<dbt project folder>/manifest.json``, written by ``--save-state``) and:

* when that manifest exists, builds ``state:modified+``: the models whose SQL, configuration or
  properties changed (a comment counts: dbt compares a checksum of the raw SQL) and everything
  downstream, with their tests; the children in *other* projects of a modified published mart
  (a source with ``meta.published_by``) are selected as well (``source:<source>.<table>+``);
* when it does not (first pipeline, expired artifact, new project), builds everything
  (``dbt build``), and says why.

**Parents.** A merge-request job starts with an empty lake and an empty DuckDB warehouse, and
dbt's deferral (``--defer --state``) cannot help: it would point the selected models at the
production relations, which live in the production DuckDB files and lake, out of CI's reach. So
the *unmodified* ancestors of the selection (models, seeds and snapshots, in this project and,
through published marts, in the publisher's) are materialized first from the same code, with
``dbt build --exclude-resource-type test`` (no tests: they did not change and production tested
them), after landing the raw files they read (:mod:`data_platform.raw`). Only the selection is
then built *and tested*: ``dbt build --select state:modified+ --state <dir>``. The report
(``--report``) lists both sets separately.

**Paths.** dbt renders the lake path into every source (``external_location``), so a manifest
parsed with another ``DATA_PLATFORM_LAKE_ROOT`` would make every source, hence every model, look
modified. Both the production manifests (``--save-state``) and the merge-request run therefore
parse and run dbt with the relative defaults of ``profiles.yml`` (``../../.local/lake`` and
``../../.local/warehouse`` from each project folder, i.e. ``<repo>/.local/``), into
``target/slim_ci`` so that the manifests Dagster loads are never overwritten.

Projects are handled in the order of :data:`data_platform.locations.LOCATIONS`, publishers of
marts before their readers.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from data_platform.locations import (
    LOCATIONS,
    CodeLocation,
    find_location,
    location_of_dbt_project,
)
from data_platform.raw import land_files, resolve_raw_files
from data_platform.settings import (
    LAKE_ROOT_ENV,
    OPEN_DATA_DIR,
    WAREHOUSE_DIR_ENV,
    dbt_executable,
)
from data_platform.translator import resource_meta

RELATIVE_LAKE = "../../.local/lake"
"""Lake root as ``profiles.yml`` and the sources default it, relative to a dbt project folder."""

RELATIVE_WAREHOUSE = "../../.local/warehouse"
"""Warehouse folder as ``profiles.yml`` defaults it, relative to a dbt project folder."""

TARGET_PATH = "target/slim_ci"
"""dbt target path of slim CI (relative to each project folder)."""

STATE_JOB = "prod_manifests"
"""The job of ``main`` whose artifact holds the production manifests (``.gitlab-ci.yml``)."""

MATERIALIZED_TYPES = ("model", "seed", "snapshot")


class SlimCiError(RuntimeError):
    """Slim CI cannot proceed: a dbt command failed or the CI environment is incomplete."""


@dataclass
class ProjectPlan:
    """What slim CI does for one dbt project.

    Attributes:
        location: the code location of the dbt project.
        build: whether the project's selection is built and tested (``--project`` may exclude
            it; its parents may still be materialized for another project).
        state: folder of the production manifest compared with, or ``None`` (full build).
        reason: why the build is slim or full, in words.
        selector: the ``--select`` arguments of ``dbt build`` (empty: the whole project).
        selected: unique ids of every node the build selects (models, seeds, tests, ...).
        parents: unique ids of the unmodified models, seeds and snapshots materialized first.
        manifest: the project's freshly parsed manifest.
    """

    location: CodeLocation
    build: bool
    state: Path | None
    reason: str
    selector: list[str] = field(default_factory=list)
    selected: set[str] = field(default_factory=set)
    parents: set[str] = field(default_factory=set)
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def mode(self) -> str:
        """``slim`` (``state:modified+``), ``full`` (everything) or ``parents-only``."""
        if not self.build:
            return "parents-only"
        return "slim" if self.state is not None else "full"

    def names(self, unique_ids: Iterable[str], resource_type: str = "model") -> list[str]:
        """Return the sorted names of the nodes of one resource type among ``unique_ids``."""
        nodes = self.manifest.get("nodes", {})
        return sorted(
            nodes[uid]["name"]
            for uid in unique_ids
            if uid in nodes and nodes[uid]["resource_type"] == resource_type
        )

    def report(self) -> dict[str, Any]:
        """Return the plan as JSON-serialisable data (the ``--report`` file has one per project)."""
        return {
            "dbt_project": self.location.dbt_project,
            "mode": self.mode,
            "reason": self.reason,
            "state": str(self.state) if self.state else None,
            "selector": self.selector,
            "selected_models": self.names(self.selected) if self.build else [],
            "selected_tests": len(self.names(self.selected, "test")) if self.build else 0,
            "parent_models": self.names(self.parents),
            "parent_seeds": self.names(self.parents, "seed"),
        }


def state_folder(location: CodeLocation) -> str:
    """Return the folder name of a project in a state directory: its dbt project folder name."""
    return location.dbt_project_dir.name


def dbt_environment() -> dict[str, str]:
    """Return the environment of every dbt command of slim CI (relative lake and warehouse)."""
    return {
        **os.environ,
        LAKE_ROOT_ENV: RELATIVE_LAKE,
        WAREHOUSE_DIR_ENV: RELATIVE_WAREHOUSE,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": os.environ.get("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
    }


def run_dbt(location: CodeLocation, args: Sequence[str], *, capture: bool = False) -> str:
    """Run one dbt command in a project folder, with slim CI's environment and target path.

    Args:
        location: the code location whose dbt project runs the command.
        args: the dbt arguments, e.g. ``["build", "--select", "state:modified+"]``.
        capture: return the standard output instead of streaming it.

    Returns:
        The standard output when ``capture`` is set, else an empty string.

    Raises:
        SlimCiError: dbt exited with a non-zero code (the message names the command).
    """
    command = [
        dbt_executable(),
        *args,
        "--target-path",
        TARGET_PATH,
        "--profiles-dir",
        ".",
    ]
    print(f"[slim_ci] {location.dbt_project}$ {' '.join(command[1:])}", flush=True)
    result = subprocess.run(
        command,
        cwd=location.dbt_project_dir,
        env=dbt_environment(),
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = f":\n{result.stdout}" if capture else ""
        raise SlimCiError(
            f"dbt {args[0]} failed in {location.dbt_project_dir} (exit {result.returncode}){detail}"
        )
    return result.stdout if capture else ""


def parse_project(location: CodeLocation) -> dict[str, Any]:
    """Parse a dbt project (``dbt parse``) with slim CI's environment and return its manifest.

    Raises:
        SlimCiError: dbt cannot parse the project.
    """
    run_dbt(location, ["parse", "--quiet"])
    return _read_manifest(location)


def _read_manifest(location: CodeLocation) -> dict[str, Any]:
    path = location.dbt_project_dir / TARGET_PATH / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def save_state(destination: Path, locations: Sequence[CodeLocation] = LOCATIONS) -> list[Path]:
    """Write the production manifests: ``<destination>/<project folder>/manifest.json``.

    Run on ``main`` (the ``prod_manifests`` job); the manifests are parsed as
    :func:`plan_slim_ci` parses the merge request's, so that only real changes differ.

    Args:
        destination: state folder to fill (created when missing).
        locations: the code locations whose projects are parsed (all by default).

    Returns:
        The manifest files written.

    Raises:
        SlimCiError: a project cannot be parsed.
    """
    written = []
    for location in locations:
        parse_project(location)
        target = destination / state_folder(location) / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(location.dbt_project_dir / TARGET_PATH / "manifest.json", target)
        print(f"[slim_ci] saved the manifest of {location.dbt_project} to {target}")
        written.append(target)
    return written


def download_state(
    destination: Path,
    *,
    job: str = STATE_JOB,
    ref: str = "main",
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Download the production manifests kept by the last ``job`` of ``ref`` (GitLab API).

    ``GET $CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/<ref>/download?job=<job>`` with
    the header ``JOB-TOKEN: $CI_JOB_TOKEN``; the archive's top folder (``prod-manifests/``) is
    replaced by ``destination``.

    Args:
        destination: folder to extract into (created when missing).
        job: name of the job that keeps the manifests.
        ref: branch whose latest successful pipeline is used.
        environ: the CI variables (``os.environ`` by default).

    Returns:
        True when the manifests were extracted; False on HTTP 404 (no such artifact: never
        produced, or expired), after which slim CI builds everything.

    Raises:
        SlimCiError: a CI variable is missing, or the API answered another error.
    """
    environ = os.environ if environ is None else environ
    missing = [
        name for name in ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_JOB_TOKEN") if not environ.get(name)
    ]
    if missing:
        raise SlimCiError(f"cannot download the production manifests: {', '.join(missing)} unset")
    url = (
        f"{environ['CI_API_V4_URL'].rstrip('/')}/projects/{environ['CI_PROJECT_ID']}/jobs/artifacts/"
        f"{urllib.parse.quote(ref, safe='')}/download?job={urllib.parse.quote(job)}"
    )
    request = urllib.request.Request(url, headers={"JOB-TOKEN": environ["CI_JOB_TOKEN"]})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (CI API)
            archive = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            print(f"[slim_ci] no artifact of job {job!r} on {ref!r} (HTTP 404): full build")
            return False
        raise SlimCiError(f"cannot download {url}: HTTP {error.code} {error.reason}") from error
    destination.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        for member in zipped.infolist():
            parts = PurePosixPath(member.filename).parts[1:]
            if member.is_dir() or not parts or ".." in parts:
                continue
            target = destination.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zipped.read(member))
    print(f"[slim_ci] extracted the production manifests of {ref!r} into {destination}")
    return True


def ancestors(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> set[str]:
    """Return every ancestor (sources included) of ``unique_ids`` in a manifest's parent map."""
    parent_map = manifest.get("parent_map", {})
    seen: set[str] = set()
    stack = list(unique_ids)
    while stack:
        for parent in parent_map.get(stack.pop(), []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _executable_nodes(manifest: Mapping[str, Any]) -> set[str]:
    return {
        uid
        for uid, node in manifest.get("nodes", {}).items()
        if node["resource_type"] in (*MATERIALIZED_TYPES, "test")
    } | set(manifest.get("unit_tests", {}))


def _published_sources(manifest: Mapping[str, Any], unique_ids: Iterable[str]):
    """Yield ``(source node, publisher location)`` for the published marts among ``unique_ids``."""
    sources = manifest.get("sources", {})
    for uid in unique_ids:
        publisher = resource_meta(sources[uid]).get("published_by") if uid in sources else None
        if publisher:
            yield sources[uid], location_of_dbt_project(publisher)


def _select_modified(plan: ProjectPlan, published_changes: list[str]) -> None:
    """Fill the selection of a slim plan with ``dbt ls`` (``state:modified+`` and more)."""
    plan.selector = ["state:modified+", *published_changes]
    output = run_dbt(
        plan.location,
        ["ls", "--quiet", "--select", *plan.selector, "--state", str(plan.state)]
        + ["--output", "json", "--output-keys", "unique_id"],
        capture=True,
    )
    plan.manifest = _read_manifest(plan.location)
    plan.selected = {
        json.loads(line)["unique_id"] for line in output.splitlines() if line.startswith("{")
    } & _executable_nodes(plan.manifest)


def plan_slim_ci(
    state_dir: Path | None, projects: Sequence[str] | None = None
) -> list[ProjectPlan]:
    """Decide, for every dbt project, what a merge-request pipeline builds (see the module doc).

    Args:
        state_dir: folder of the production manifests (``<project folder>/manifest.json``), or
            ``None`` to build everything.
        projects: dbt project names, project folders or location names to build (all by
            default); the others are only parsed, and may have parents to materialize.

    Returns:
        One plan per registered location, publishers first.

    Raises:
        KeyError: a name of ``projects`` is not a registered project.
        SlimCiError: a project cannot be parsed or listed.
    """
    wanted = {find_location(name).name for name in projects} if projects else None
    state_dir = state_dir.resolve() if state_dir else None  # dbt runs in each project folder
    plans: dict[str, ProjectPlan] = {}
    for location in LOCATIONS:
        build = wanted is None or location.name in wanted
        manifest_path = state_dir / state_folder(location) / "manifest.json" if state_dir else None
        if not build:
            plan = ProjectPlan(location, False, None, "not requested (--project)")
        elif manifest_path is not None and manifest_path.is_file():
            plan = ProjectPlan(
                location, True, manifest_path.parent, f"state:modified+ against {manifest_path}"
            )
        else:
            where = manifest_path or "--state not given"
            plan = ProjectPlan(
                location, True, None, f"full build: no production manifest ({where})"
            )
        if plan.mode == "slim":
            # Readers of a selected published mart, as the production manifest declares them
            # (a source added by the merge request is selected as new by state:modified).
            production = json.loads(manifest_path.read_text(encoding="utf-8"))
            changed = [
                f"source:{source['source_name']}.{source['name']}+"
                for source, publisher in _published_sources(production, production["sources"])
                if publisher.name in plans
                and f"model.{publisher.dbt_project}.{source['name']}"
                in plans[publisher.name].selected
            ]
            _select_modified(plan, changed)
        elif plan.mode == "full":
            plan.manifest = parse_project(location)
            plan.selected = _executable_nodes(plan.manifest)
        plans[location.name] = plan

    # Parents, readers before publishers: what a selection (or a reader's parents) reads. A
    # project that is not built is parsed only when a reader needs some of its marts.
    for plan in reversed(list(plans.values())):
        if not plan.manifest:
            if not plan.parents:
                continue
            plan.manifest = parse_project(plan.location)
        upstream = ancestors(plan.manifest, plan.selected | plan.parents)
        plan.parents |= {
            uid for uid in upstream - plan.selected if uid.split(".")[0] in MATERIALIZED_TYPES
        }
        for source, publisher in _published_sources(plan.manifest, upstream):
            publisher_plan = plans[publisher.name]
            mart = f"model.{publisher.dbt_project}.{source['name']}"
            if mart not in publisher_plan.selected:
                publisher_plan.parents.add(mart)
    return list(plans.values())


def land_raw_files(plan: ProjectPlan) -> dict[str, int]:
    """Land the raw files read by a plan's selection and parents into slim CI's lake.

    Returns:
        Records per landed file (see :func:`data_platform.raw.land_files`).

    Raises:
        data_platform.raw.RawFileError: a raw file is missing or malformed.
    """
    sources = plan.manifest.get("sources", {})
    patterns = sorted(
        {
            pattern
            for uid in ancestors(plan.manifest, plan.selected | plan.parents)
            if uid in sources
            for pattern in resource_meta(sources[uid]).get("raw_files") or []
        }
    )
    if not patterns:
        return {}
    lake = (plan.location.dbt_project_dir / RELATIVE_LAKE).resolve()
    return land_files(resolve_raw_files(patterns), OPEN_DATA_DIR, lake)


def execute(plan: ProjectPlan) -> None:
    """Run one project's plan: land raw files, materialize its parents, build its selection.

    Raises:
        SlimCiError: a dbt command failed.
        data_platform.raw.RawFileError: a raw file is missing or malformed.
    """
    if not plan.parents and not (plan.build and plan.selected):
        return
    project_dir = plan.location.dbt_project_dir
    (project_dir / RELATIVE_LAKE / "marts" / plan.location.dbt_project).resolve().mkdir(
        parents=True, exist_ok=True
    )
    (project_dir / RELATIVE_WAREHOUSE).resolve().mkdir(parents=True, exist_ok=True)
    landed = land_raw_files(plan)
    if landed:
        print(f"[slim_ci] {plan.location.dbt_project}: landed {len(landed)} raw file(s)")
    nodes = plan.manifest.get("nodes", {})
    if plan.parents:
        selection = sorted("fqn:" + ".".join(nodes[uid]["fqn"]) for uid in plan.parents)
        run_dbt(
            plan.location,
            ["build", "--select", *selection]
            + ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
        )
    if plan.mode == "full":
        run_dbt(plan.location, ["build"])
    elif plan.mode == "slim" and plan.selected:
        run_dbt(plan.location, ["build", "--select", *plan.selector, "--state", str(plan.state)])


def describe(plan: ProjectPlan) -> str:
    """Return one line saying what slim CI does for a project, and why."""
    models = plan.names(plan.selected) if plan.build else []
    parents = plan.names(plan.parents) + plan.names(plan.parents, "seed")
    text = f"{plan.location.dbt_project}: {plan.mode} ({plan.reason})"
    if plan.build:
        text += f"; {len(models)} model(s) built and tested: {', '.join(models) or 'none'}"
    return text + f"; {len(parents)} unmodified parent(s) materialized first"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m data_platform.tools.slim_ci --state DIR [--project X] ...``.

    Args:
        argv: the arguments (``sys.argv[1:]`` by default).

    Returns:
        Process exit code: 0 on success, 1 when a dbt command or the download failed.
    """
    parser = argparse.ArgumentParser(
        prog="python -m data_platform.tools.slim_ci", description=__doc__.split("\n")[0]
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--save-state", type=Path, metavar="DIR", help="write the production manifests"
    )
    action.add_argument(
        "--download-state", type=Path, metavar="DIR", help="download them (GitLab API)"
    )
    parser.add_argument(
        "--state", type=Path, metavar="DIR", help="folder of the production manifests"
    )
    parser.add_argument("--project", action="append", help="dbt project to build (repeatable)")
    parser.add_argument("--plan-only", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the plan as JSON")
    parser.add_argument("--job", default=STATE_JOB, help="job keeping the manifests (download)")
    parser.add_argument("--ref", default="main", help="branch of that job (download)")
    args = parser.parse_args(argv)
    try:
        if args.save_state:
            save_state(args.save_state)
            return 0
        if args.download_state:
            download_state(args.download_state, job=args.job, ref=args.ref)
            return 0
        plans = plan_slim_ci(args.state, args.project)
        for plan in plans:
            print(f"[slim_ci] {describe(plan)}", flush=True)
        if args.report:
            args.report.write_text(json.dumps([p.report() for p in plans], indent=2) + "\n")
        if not args.plan_only:
            for plan in plans:
                execute(plan)
    except SlimCiError as error:
        print(f"[slim_ci] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
