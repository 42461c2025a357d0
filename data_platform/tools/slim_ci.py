"""Slim CI: on a merge request, build and test only what changed (dbt's ``state:modified+``).

``python -m data_platform.tools.slim_ci --state prod-manifests [--project ags]`` compares every dbt
project with the production manifest kept by the last pipeline of ``main``
(``prod-manifests/<dbt project folder>/manifest.json``, written by ``--save-state``). The
selection is dbt's own: ``dbt build --select state:modified+ --state <dir>`` (a changed comment
counts: dbt compares a checksum of the raw SQL); without a production manifest (first pipeline,
expired artifact, new project), ``dbt build`` of everything, and the log says why.

**Parents.** A merge-request job starts with an empty lake and an empty DuckDB warehouse, and
dbt's deferral (``--defer --state``) cannot help: it would point the selected models at the
production relations, which live in the production DuckDB files and lake, out of CI's reach. So
the *unmodified* ancestors of the selection are built first, untested (production tested them):
``dbt build --select @state:modified --exclude state:modified+ --exclude-resource-type test``
(``@`` adds every ancestor of the selection's members, tests included, to the selection; the
exclusion leaves the ancestors). The raw files their sources read are landed first
(:mod:`data_platform.raw`). The report (``--report``) lists both sets.

**What dbt lacks** is the only hand-written part: dbt sees one project, and the projects are
joined by published marts (a dbt source with ``meta.published_by``, read from the publisher's
Parquet file). A modified published mart selects its readers in the other projects
(``source:<source>.<table>+``), and a mart read by another project's selection or parents is a
parent in its publisher (``+<mart>``). Projects are selected in the order of
:data:`data_platform.locations.LOCATIONS` (publishers first), their parents in the reverse order.

**Paths.** dbt renders the lake path into every source (``external_location``), so a manifest
parsed with another ``DATA_PLATFORM_LAKE_ROOT`` would make every source, hence every model, look
modified. Both the production manifests (``--save-state``) and the merge-request run therefore
parse and run dbt with the relative defaults of ``profiles.yml`` (``../../.local/lake`` and
``../../.local/warehouse`` from each project folder, i.e. ``<repo>/.local/``), into
``target/slim_ci`` so that the manifests Dagster loads are never overwritten.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_platform.lake import LAKE_ROOT_ENV
from data_platform.locations import LOCATIONS, CodeLocation, find_location
from data_platform.raw import land_files, resolve_raw_files
from data_platform.settings import (
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

UNTESTED = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


class SlimCiError(RuntimeError):
    """Slim CI cannot proceed: a dbt command failed or the CI environment is incomplete."""


@dataclass
class ProjectPlan:
    """What slim CI does for one dbt project: two dbt selections, and what they list.

    Attributes:
        location: the code location of the dbt project.
        mode: ``slim`` (``state:modified+``), ``full`` (everything) or ``parents-only`` (not
            requested with ``--project``: only the parents other projects need).
        state: folder of the production manifest compared with (slim mode only).
        reason: why the build is slim or full, in words.
        roots: what changed, as dbt selectors: ``state:modified`` and the published marts read
            from modified marts of other projects (``source:<source>.<table>``).
        marts: names of this project's models that other projects' plans read.
        selected: the nodes ``dbt ls`` lists for the selection (models, tests, sources, ...).
        parents: the nodes it lists for the parents (no tests).
    """

    location: CodeLocation
    mode: str
    state: Path | None
    reason: str
    roots: list[str] = field(default_factory=list)
    marts: set[str] = field(default_factory=set)
    selected: list[dict[str, Any]] = field(default_factory=list, repr=False)
    parents: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def selector(self) -> list[str]:
        """The ``--select`` values of the selection: each root and its children."""
        return [f"{root}+" for root in self.roots]

    def selection_args(self) -> list[str] | None:
        """Return the dbt arguments selecting what is built and tested, or ``None`` (nothing)."""
        if self.mode == "full":
            return []
        if self.mode == "slim":
            return ["--select", *self.selector, "--state", str(self.state)]
        return None

    def parent_args(self) -> list[str] | None:
        """Return the dbt arguments selecting the untested parents, or ``None`` (none)."""
        select = [f"@{root}" for root in self.roots] + [f"+{mart}" for mart in sorted(self.marts)]
        if self.mode == "full" or not select:
            return None
        exclude = ["--exclude", *self.selector, "--state", str(self.state)] if self.roots else []
        return ["--select", *select, *UNTESTED, *exclude]

    def report(self) -> dict[str, Any]:
        """Return the plan as JSON-serialisable data (the ``--report`` file has one per project)."""
        return {
            "dbt_project": self.location.dbt_project,
            "mode": self.mode,
            "reason": self.reason,
            "state": str(self.state) if self.state else None,
            "selector": self.selector,
            "selected_models": names(self.selected),
            "selected_tests": len(names(self.selected, "test")),
            "parent_models": names(self.parents),
            "parent_seeds": names(self.parents, "seed"),
        }


def names(nodes: list[dict[str, Any]], resource_type: str = "model") -> list[str]:
    """Return the sorted names of the ``dbt ls`` nodes of one resource type."""
    return sorted(node["name"] for node in nodes if node["resource_type"] == resource_type)


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
    command = [dbt_executable(), *args, "--target-path", TARGET_PATH, "--profiles-dir", "."]
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


def list_nodes(location: CodeLocation, args: Sequence[str]) -> list[dict[str, Any]]:
    """Return the nodes ``dbt ls`` selects with ``args`` (name, resource_type, config, ...).

    Raises:
        SlimCiError: dbt cannot parse the project or the selection.
    """
    output = run_dbt(location, ["ls", "--quiet", *args, "--output", "json"], capture=True)
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def save_state(destination: Path, locations: Sequence[CodeLocation] = LOCATIONS) -> list[Path]:
    """Write the production manifests: ``<destination>/<project folder>/manifest.json``.

    Run on ``main`` (the ``prod_manifests`` job); the manifests are parsed as the merge
    request's are, so that only real changes differ.

    Returns:
        The manifest files written.

    Raises:
        SlimCiError: a project cannot be parsed.
    """
    written = []
    for location in locations:
        run_dbt(location, ["parse", "--quiet"])
        target = destination / location.dbt_project_dir.name / "manifest.json"
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
    replaced by ``destination``. Hand-written because the CI image has no curl and no GitLab
    client; urllib and zipfile do the work.

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
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped, tempfile.TemporaryDirectory() as tmp:
        zipped.extractall(tmp)  # which keeps every member inside tmp
        for top in Path(tmp).iterdir():  # the archive's top folder, prod-manifests/
            shutil.copytree(top, destination, dirs_exist_ok=True)
    print(f"[slim_ci] extracted the production manifests of {ref!r} into {destination}")
    return True


def _published_by(source: Mapping[str, Any]) -> str | None:
    """Return the dbt project publishing a source (``meta.published_by``), if any."""
    return resource_meta(source).get("published_by")


def plan_slim_ci(
    state_dir: Path | None, projects: Sequence[str] | None = None
) -> list[ProjectPlan]:
    """Decide, for every dbt project, what a merge-request pipeline builds (see the module doc).

    Args:
        state_dir: folder of the production manifests (``<project folder>/manifest.json``), or
            ``None`` to build everything.
        projects: dbt project names, project folders or location names to build (all by
            default); the others only build the parents other projects need.

    Returns:
        One plan per registered location, publishers first.

    Raises:
        KeyError: a name of ``projects`` is not a registered project.
        SlimCiError: a project cannot be parsed or listed.
    """
    wanted = {find_location(name).name for name in projects} if projects else None
    state_dir = state_dir.resolve() if state_dir else None  # dbt runs in each project folder
    plans: dict[str, ProjectPlan] = {}  # by dbt project name, as meta.published_by says it
    for location in LOCATIONS:
        folder = state_dir / location.dbt_project_dir.name if state_dir else None
        manifest = folder / "manifest.json" if folder else "--state not given"
        if wanted is not None and location.name not in wanted:
            plan = ProjectPlan(location, "parents-only", None, "not requested (--project)")
        elif folder and (folder / "manifest.json").is_file():
            plan = ProjectPlan(location, "slim", folder, f"state:modified+ against {manifest}")
            # Readers of a modified published mart, as production declares them (a source the
            # merge request adds is new, hence selected by state:modified).
            production = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            plan.roots = ["state:modified"] + [
                f"source:{source['source_name']}.{source['name']}"
                for source in production["sources"].values()
                if (publisher := _published_by(source)) is not None
                and publisher in plans
                and source["name"] in names(plans[publisher].selected)
            ]
        else:
            reason = f"full build: no production manifest ({manifest})"
            plan = ProjectPlan(location, "full", None, reason)
        if (args := plan.selection_args()) is not None:
            plan.selected = list_nodes(location, args)
        plans[location.dbt_project] = plan

    # Parents, readers before publishers: a published mart that a reader's selection or parents
    # read is a parent in its publisher.
    for plan in reversed(plans.values()):
        args = plan.parent_args()
        plan.parents = list_nodes(plan.location, args) if args else []
        for node in plan.selected + plan.parents:
            publisher_plan = plans.get(_published_by(node) or "")
            if node["resource_type"] == "source" and publisher_plan:
                publisher_plan.marts.add(node["name"])
    return list(plans.values())


def execute(plan: ProjectPlan) -> None:
    """Run one project's plan: land raw files, build its parents, build and test its selection.

    Raises:
        SlimCiError: a dbt command failed.
        data_platform.raw.RawFileError: a raw file is missing or malformed.
    """
    if not (plan.selected or plan.parents):
        return
    project_dir = plan.location.dbt_project_dir
    (project_dir / RELATIVE_LAKE / "marts" / plan.location.dbt_project).resolve().mkdir(
        parents=True, exist_ok=True
    )
    (project_dir / RELATIVE_WAREHOUSE).resolve().mkdir(parents=True, exist_ok=True)
    entries = [
        entry
        for node in plan.selected + plan.parents
        if node["resource_type"] == "source"
        for entry in resource_meta(node).get("raw_files") or []
    ]
    if entries:
        lake = (project_dir / RELATIVE_LAKE).resolve()
        landed = land_files(resolve_raw_files(entries), OPEN_DATA_DIR, lake)
        print(f"[slim_ci] {plan.location.dbt_project}: landed {len(landed)} raw file(s)")
    for args, nodes in ((plan.parent_args(), plan.parents), (plan.selection_args(), plan.selected)):
        if args is not None and nodes:
            run_dbt(plan.location, ["build", *args])


def describe(plan: ProjectPlan) -> str:
    """Return one line saying what slim CI does for a project, and why."""
    models = names(plan.selected)
    parents = names(plan.parents) + names(plan.parents, "seed")
    text = f"{plan.location.dbt_project}: {plan.mode} ({plan.reason})"
    if plan.mode != "parents-only":
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
