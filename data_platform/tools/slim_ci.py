"""Slim CI: on a merge request, build and test only what changed (dbt's ``state:modified+``).

``python -m data_platform.tools.slim_ci --state prod-manifests [--project ags]`` runs, in each
dbt project, ``dbt build --select state:modified+ --state <production manifest folder>`` (the
manifests of ``main``, written by ``--save-state``, fetched by ``--download-state``); without a
production manifest, ``dbt build`` of everything. ``docs/ci.md`` ("Slim CI") tells the flow.

The merge request's lake and warehouse are empty and ``--defer`` cannot reach the production
DuckDB files, so the unmodified ancestors are built first, untested, with dbt's own selectors
(``@state:modified`` minus ``state:modified+``), after landing the raw files their sources read.

Hand-written is only what dbt lacks: dbt sees one project, and the projects are joined by
published marts (a source with ``meta.published_by``). A modified mart selects its readers in
the other projects (``source:<source>.<table>+``); a mart that a reader's selection or parents
read is a parent in its publisher (``+<mart>``). dbt runs with the relative lake and warehouse
defaults of ``profiles.yml`` (the variables unset), into ``target/slim_ci``: dbt renders the lake
path into every source, so manifests parsed with another path would differ everywhere.
"""

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

from data_platform.lake import DEFAULT_LOCAL_LAKE, LAKE_ROOT_ENV
from data_platform.locations import LOCATIONS, CodeLocation, find_location
from data_platform.raw import land_files, resolve_raw_files
from data_platform.settings import (
    DEFAULT_WAREHOUSE_DIR,
    OPEN_DATA_DIR,
    WAREHOUSE_DIR_ENV,
    dbt_executable,
)
from data_platform.tools import install_dbt_packages
from data_platform.translator import resource_meta

TARGET_PATH = "target/slim_ci"
STATE_JOB = "prod_manifests"
"""The job of ``main`` whose artifact holds the production manifests (``.gitlab-ci.yml``)."""
UNTESTED = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


class SlimCiError(RuntimeError):
    """Slim CI cannot proceed: a dbt command failed or the CI environment is incomplete."""


@dataclass
class ProjectPlan:
    """What slim CI does in one dbt project.

    ``mode`` is ``slim`` (``state:modified+`` against the manifest in ``state``), ``full`` or
    ``parents-only`` (not requested with ``--project``: only what other projects read), and
    ``reason`` says why. ``roots`` are what changed, as selectors: ``state:modified`` and the
    sources reading a modified mart of another project; ``marts`` the models other projects
    read; ``selected`` and ``parents`` the nodes ``dbt ls`` lists for both builds.
    """

    location: CodeLocation
    mode: str
    reason: str
    state: Path | None = None
    roots: list[str] = field(default_factory=list)
    marts: set[str] = field(default_factory=set)
    selected: list[dict[str, Any]] = field(default_factory=list, repr=False)
    parents: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def args(self, parents: bool = False) -> list[str] | None:
        """Return dbt's arguments selecting the parents or the selection, ``None`` for nothing."""
        state = ["--state", str(self.state)] if self.state else []
        children = [f"{root}+" for root in self.roots]
        if not parents:
            return {"full": [], "slim": ["--select", *children, *state]}.get(self.mode)
        select = [f"@{root}" for root in self.roots] + [f"+{mart}" for mart in sorted(self.marts)]
        if self.mode == "full" or not select:
            return None
        exclude = ["--exclude", *children, *state] if self.roots else []
        return ["--select", *select, *UNTESTED, *exclude]

    def report(self) -> dict[str, Any]:
        """Return the plan as JSON-serialisable data (the ``--report`` file has one per project)."""
        return {
            "dbt_project": self.location.dbt_project,
            "mode": self.mode,
            "reason": self.reason,
            "selector": self.args(),
            "selected_models": names(self.selected),
            "selected_tests": len(names(self.selected, "test")),
            "parent_models": names(self.parents),
            "parent_seeds": names(self.parents, "seed"),
        }


def names(nodes: list[dict[str, Any]], resource_type: str = "model") -> list[str]:
    """Return the sorted names of the ``dbt ls`` nodes of one resource type."""
    return sorted(node["name"] for node in nodes if node["resource_type"] == resource_type)


def run_dbt(location: CodeLocation, args: Sequence[str], *, capture: bool = False) -> str:
    """Run dbt in a project folder (relative lake and warehouse, ``target/slim_ci``).

    Returns the standard output when ``capture`` is set (else dbt's output streams) or ``""``;
    raises :class:`SlimCiError` when dbt fails.
    """
    install_dbt_packages(location.dbt_project_dir)
    env = {k: v for k, v in os.environ.items() if k not in {LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV}}
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    command = [dbt_executable(), *args, "--target-path", TARGET_PATH, "--profiles-dir", "."]
    print(f"[slim_ci] {location.dbt_project}$ {' '.join(command[1:])}", flush=True)
    result = subprocess.run(
        command,
        cwd=location.dbt_project_dir,
        env=env,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    if result.returncode != 0:
        detail = f":\n{result.stdout}" if capture else ""
        raise SlimCiError(f"dbt {args[0]} failed in {location.dbt_project_dir}{detail}")
    return result.stdout or ""


def list_nodes(location: CodeLocation, args: Sequence[str]) -> list[dict[str, Any]]:
    """Return the nodes ``dbt ls`` selects with ``args`` (raises :class:`SlimCiError`)."""
    output = run_dbt(location, ["ls", "--quiet", *args, "--output", "json"], capture=True)
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def save_state(destination: Path) -> None:
    """Write ``<destination>/<project folder>/manifest.json`` (raises :class:`SlimCiError`).

    Run on ``main``; parsed as the merge request's are, so that only real changes differ.
    """
    for location in LOCATIONS:
        run_dbt(location, ["parse", "--quiet"])
        target = destination / location.dbt_project_dir.name / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(location.dbt_project_dir / TARGET_PATH / "manifest.json", target)


def download_state(
    destination: Path, *, ref: str = "main", environ: Mapping[str, str] = os.environ
) -> bool:
    """Extract the last :data:`STATE_JOB` artifact of ``ref`` into ``destination``; tell if found.

    ``GET $CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/<ref>/download?job=<job>`` with
    ``JOB-TOKEN: $CI_JOB_TOKEN`` (the CI variables of ``environ``, ``os.environ`` by default); the
    archive's top folder becomes ``destination``. Hand-written: the CI image has no curl and no
    GitLab client. Returns False on HTTP 404 (no such artifact: slim CI then builds all); raises
    :class:`SlimCiError` when a CI variable is missing or the API answers another error.
    """
    needed = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_JOB_TOKEN")
    if missing := [name for name in needed if not environ.get(name)]:
        raise SlimCiError(f"cannot download the production manifests: {', '.join(missing)} unset")
    url = (
        f"{environ['CI_API_V4_URL'].rstrip('/')}/projects/{environ['CI_PROJECT_ID']}/jobs/artifacts/"
        f"{urllib.parse.quote(ref, safe='')}/download?job={urllib.parse.quote(STATE_JOB)}"
    )
    request = urllib.request.Request(url, headers={"JOB-TOKEN": environ["CI_JOB_TOKEN"]})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (CI API)
            archive = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            print(f"[slim_ci] no artifact of job {STATE_JOB!r} on {ref!r} (HTTP 404): full build")
            return False
        raise SlimCiError(f"cannot download {url}: HTTP {error.code} {error.reason}") from error
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped, tempfile.TemporaryDirectory() as tmp:
        zipped.extractall(tmp)  # which keeps every member inside tmp
        for top in Path(tmp).iterdir():  # the archive's top folder, prod-manifests/
            shutil.copytree(top, destination, dirs_exist_ok=True)
    return True


def plan_slim_ci(state_dir: Path | None, projects: Sequence[str] = ()) -> list[ProjectPlan]:
    """Return one plan per location, publishers first (see the module doc).

    ``state_dir`` holds the production manifests (``None``: build all); ``projects`` names the
    projects to build (default: all; the others build only what other projects read). Raises
    ``KeyError`` for an unregistered project, :class:`SlimCiError` when dbt fails.
    """
    wanted = {find_location(name).name for name in projects}
    plans: dict[str, ProjectPlan] = {}  # by dbt project name, as meta.published_by says it
    for location in LOCATIONS:
        state = (state_dir / location.dbt_project_dir.name).resolve() if state_dir else None
        if wanted and location.name not in wanted:
            plan = ProjectPlan(location, "parents-only", "not requested (--project)")
        elif state and (state / "manifest.json").is_file():
            plan = ProjectPlan(location, "slim", f"state:modified+ against {state}", state)
            # Readers of a modified published mart, as production declares them.
            sources = json.loads((state / "manifest.json").read_text())["sources"].values()
            plan.roots = ["state:modified"] + [
                f"source:{source['source_name']}.{source['name']}"
                for source in sources
                if (publisher := plans.get(resource_meta(source).get("published_by", "")))
                and source["name"] in names(publisher.selected)
            ]
        else:
            plan = ProjectPlan(location, "full", f"no production manifest ({state})")
        if (args := plan.args()) is not None:
            plan.selected = list_nodes(location, args)
        plans[location.dbt_project] = plan
    for plan in reversed(plans.values()):  # readers first: their marts are their publishers'
        args = plan.args(parents=True)
        plan.parents = list_nodes(plan.location, args) if args else []
        for node in plan.selected + plan.parents:
            publisher = plans.get(resource_meta(node).get("published_by", ""))
            if node["resource_type"] == "source" and publisher:
                publisher.marts.add(node["name"])
    return list(plans.values())


def execute(plan: ProjectPlan) -> None:
    """Land the raw files the plan reads, build its parents, then build and test its selection.

    Raises :class:`SlimCiError` (dbt failed) or :class:`data_platform.raw.RawFileError`.
    """
    (DEFAULT_LOCAL_LAKE / "marts" / plan.location.dbt_project).mkdir(parents=True, exist_ok=True)
    DEFAULT_WAREHOUSE_DIR.mkdir(parents=True, exist_ok=True)
    entries = [
        entry
        for node in plan.selected + plan.parents
        if node["resource_type"] == "source"
        for entry in resource_meta(node).get("raw_files") or []
    ]
    if entries:
        land_files(resolve_raw_files(entries), OPEN_DATA_DIR, DEFAULT_LOCAL_LAKE)
    for args, selected in ((plan.args(parents=True), plan.parents), (plan.args(), plan.selected)):
        if args is not None and selected:
            run_dbt(plan.location, ["build", *args])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (``--help``); returns 0, or 1 when a dbt command or the download failed."""
    parser = argparse.ArgumentParser(prog="python -m data_platform.tools.slim_ci")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--save-state", type=Path, metavar="DIR", help="write prod manifests")
    action.add_argument("--download-state", type=Path, metavar="DIR", help="download them")
    parser.add_argument("--state", type=Path, metavar="DIR", help="folder of prod manifests")
    parser.add_argument("--project", action="append", default=[], help="project to build")
    parser.add_argument("--plan-only", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the plan as JSON")
    args = parser.parse_args(argv)
    try:
        if args.save_state:
            save_state(args.save_state)
        elif args.download_state:
            download_state(args.download_state)
        else:
            plans = plan_slim_ci(args.state, args.project)
            for plan in plans:
                print(f"[slim_ci] {json.dumps(plan.report())}", flush=True)
            if args.report:
                args.report.write_text(json.dumps([p.report() for p in plans], indent=2) + "\n")
            for plan in [] if args.plan_only else plans:
                execute(plan)
    except SlimCiError as error:
        print(f"[slim_ci] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
