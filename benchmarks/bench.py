"""Measure the platform's factory against stock dagster-dbt and plain dbt: ``make bench``.

For each size N (synthetic projects of :mod:`benchmarks.generate`, under ``.local/bench/``) and
each repetition, interleaved, every variant runs in its own process:

* ``load``: build the definitions and their repository snapshot (what a code server sends),
  platform (:func:`data_platform.factory.definitions_of`) vs stock ``@dbt_assets`` with the
  default ``DagsterDbtTranslator`` on the same manifest;
* ``materialize`` (the first size only): materialize every asset in process, platform vs stock
  vs a plain ``dbt build``;
* ``prepare``: prepare the manifest of the unchanged project as ``make prepare`` does
  (the platform's preparer: skipped when the project and its settings are unchanged) vs a plain
  ``dbt parse``.

The table shows medians of CPU (user + sys of the process and its children, from ``wait4``),
wall time and peak RSS (the largest single process), and the platform's ratios. The figures go
to ``.local/bench/results-<git sha>.json`` to compare two commits. Hand-written glue: pytest-
benchmark and asv time functions inside one process, not separate processes side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.generate import PROJECT, write_project

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".local" / "bench"


def stock_target(project: Path) -> Path:
    """Return the target folder of stock dagster-dbt and plain dbt, beside the project.

    Each keeps its own dbt partial parsing state, the platform its own in ``target/`` (its
    profile, target and ``--vars`` differ); outside the project, so that it is not one of the
    project's files the platform's preparation hashes.
    """
    return project.parent / f"{project.name}_stock_target"


SETUP = """import sys
from pathlib import Path
import dagster as dg
"""
PLATFORM = """from data_platform.factory import definitions_of
from data_platform.locations import CodeLocation
defs = definitions_of(CodeLocation(sys.argv[2], "Benchmark"), Path(sys.argv[1]))
"""
STOCK = """from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
project = DbtProject(
    project_dir=sys.argv[1], profiles_dir=sys.argv[1], target_path=sys.argv[3]
)
@dbt_assets(manifest=project.manifest_path, project=project)
def stock(context, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
defs = dg.Definitions(assets=[stock], resources={"dbt": DbtCliResource(project_dir=project)})
"""
SNAPSHOT = """from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value
print(len(serialize_value(RepositorySnap.from_def(defs.get_repository_def()))))
"""
MATERIALIZE = """assert defs.resolve_implicit_global_asset_job_def().execute_in_process().success
"""
PREPARE = """import sys
from pathlib import Path
from data_platform.dbt_profile import DbtSettings, is_prepared
settings = DbtSettings.from_environment(sys.argv[2])
if not is_prepared(Path(sys.argv[1]), settings):  # as make prepare: Dagster only when needed
    from data_platform.factory import platform_dbt_project, prepare
    prepare(platform_dbt_project(Path(sys.argv[1]), settings), settings)
"""


def commands(measure: str, project: Path) -> dict[str, list[str]]:
    """Return the command line of each variant of ``measure`` on the dbt project ``project``."""
    python = [sys.executable, "-c"]
    args, dbt = (
        [str(project), PROJECT, str(stock_target(project))],
        [
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(stock_target(project)),
        ],
    )
    if measure == "load":
        return {
            "platform": [*python, SETUP + PLATFORM + SNAPSHOT, *args],
            "stock": [*python, SETUP + STOCK + SNAPSHOT, *args],
        }
    if measure == "materialize":
        return {
            "platform": [*python, SETUP + PLATFORM + MATERIALIZE, *args],
            "stock": [*python, SETUP + STOCK + MATERIALIZE, *args],
            "dbt": ["dbt", "build", *dbt],
        }
    return {"platform": [*python, PREPARE, *args], "dbt": ["dbt", "parse", *dbt]}


def run(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``command`` in its own process and return what it cost.

    Returns:
        ``cpu`` (user + sys seconds, children included), ``wall`` seconds, ``rss`` (peak of the
        largest process, MiB) and ``snapshot`` (KiB, when the command prints a number).

    Raises:
        RuntimeError: the command failed; its output is in the message.
    """
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if process.returncode:
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}):\n{output[-3000:]}")
    last = output.strip().splitlines()[-1:] or [""]
    figures = {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall, "rss": usage.ru_maxrss / 1024}
    if last[0].isdigit():
        figures["snapshot"] = int(last[0]) / 1024
    return figures


def table(results: dict[str, dict]) -> str:
    """Format the medians and the platform's ratios (to stock, to plain dbt) as one table."""
    header = (
        "measure      N       variant   cpu s   wall s  rss MiB  snap KiB"
        "  cpu/stock  wall/stock  cpu/dbt  wall/dbt"
    )
    lines = [header, "-" * len(header)]
    order = ["load", "materialize", "prepare"]
    for key, variants in sorted(
        results.items(),
        key=lambda item: (order.index(item[0].split(":")[0]), int(item[0].split(":")[1])),
    ):
        measure, size = key.split(":")
        for variant, fig in variants.items():
            ratios = ""
            if variant == "platform":
                for other in ("stock", "dbt"):
                    base = variants.get(other)
                    cells = [f"{fig[m] / base[m]:.2f}" if base else "" for m in ("cpu", "wall")]
                    ratios += (
                        f"  {cells[0]:>9}  {cells[1]:>10}"
                        if other == "stock"
                        else f"  {cells[0]:>7}  {cells[1]:>8}"
                    )
            snap = f"{fig['snapshot']:.0f}" if "snapshot" in fig else ""
            lines.append(
                f"{measure:<12} {size:<7} {variant:<9} {fig['cpu']:>6.2f}  {fig['wall']:>6.2f}"
                f"  {fig['rss']:>7.0f}  {snap:>8}{ratios}".rstrip()
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate the projects, measure every variant interleaved, print the table, write JSON.

    Args:
        argv: ``--sizes`` (default 100 1000 5000), ``--repeat`` (default 3),
            ``--materialize-sizes`` (default: the first size).

    Returns:
        0; a failing command raises :class:`RuntimeError`.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--materialize-sizes", type=int, nargs="*")
    options = parser.parse_args(argv)
    materialize = (
        options.sizes[:1] if options.materialize_sizes is None else options.materialize_sizes
    )
    env = {
        **os.environ,
        "DATA_PLATFORM_WAREHOUSE_DIR": str(OUT / "warehouse"),
        "DATA_PLATFORM_LAKE_ROOT": str(OUT / "lake"),
    }
    (OUT / "lake").mkdir(parents=True, exist_ok=True)  # a set lake root must exist
    projects = {}
    for size in options.sizes:
        projects[size] = OUT / f"project_{size}"
        shutil.rmtree(projects[size], ignore_errors=True)
        shutil.rmtree(stock_target(projects[size]), ignore_errors=True)
        write_project(projects[size], size)
        for command in commands("prepare", projects[size]).values():
            run(command, env)  # the manifests, prepared ahead for each variant
    samples: dict[str, dict[str, list[dict]]] = {}
    for repetition in range(options.repeat):
        for size, project in projects.items():
            measures = ["load", "prepare"] + (["materialize"] if size in materialize else [])
            for measure in measures:
                for variant, command in commands(measure, project).items():
                    figures = run(command, env)
                    samples.setdefault(f"{measure}:{size}", {}).setdefault(variant, []).append(
                        figures
                    )
                    print(
                        f"[{repetition + 1}/{options.repeat}] {measure} N={size} {variant}:",
                        figures,
                        file=sys.stderr,
                    )
    results = {
        key: {
            variant: {m: statistics.median(s[m] for s in runs) for m in runs[0]}
            for variant, runs in variants.items()
        }
        for key, variants in samples.items()
    }
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    path = OUT / f"results-{sha or 'unknown'}.json"
    path.write_text(
        json.dumps({"commit": sha, "repeat": options.repeat, "results": results}, indent=2)
    )
    print(table(results))
    print(f"\nfigures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
