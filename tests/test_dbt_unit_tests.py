"""dbt unit tests (``unit_tests:`` YAML): they exist, they pass, and they fail when a rule breaks.

dbt reads the column types of a ``format: dict``/``csv`` input from the input's relation, so the
direct parents of a unit-tested model must exist. One ``dbt build --empty`` per project creates
them in a throwaway warehouse (zero-row views and tables, zero-row Parquet marts in a throwaway
lake whose ``raw/`` is a copy of ``open_data/``) and runs the unit tests in the same invocation:
dbt never applies ``--empty`` to a unit test's inputs. data_platform is built first, since the
other projects read its marts; those Parquet sources are given as ``format: sql``, which needs
no relation. The builds run once per session, whichever pytest-xdist worker asks first.
"""

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from data_platform.locations import LOCATIONS, CodeLocation, location_of_dbt_project
from data_platform.settings import LAKE_ROOT_ENV, OPEN_DATA_DIR, WAREHOUSE_DIR_ENV, dbt_executable
from tests.stack.session import once_per_session

# the rules that must keep a unit test, named ut_<model>__<rule>: (dbt project, model, rule)
EXPECTED_RULES = [
    ("data_platform", "int_nis_codes_resolved", "merger_crosswalk"),
    ("data_platform", "bridge_postcodes_communes", "shared_postcodes"),
    ("ags", "int_basketball_matches_deduplicated", "match_code"),
    ("ags", "dim_walk_organisers", "present_in_both"),
    ("data_platform", "dim_communes", "fwb_territory"),
]

PUBLISHER = "data_platform"  # the project whose Parquet marts the other projects read


@dataclass(frozen=True)
class DbtRun:
    """One dbt invocation: its exit code, its console output and its target folder."""

    returncode: int
    output: str
    target: Path

    @classmethod
    def load(cls, target: Path) -> "DbtRun":
        returncode = int((target / "returncode").read_text())
        return cls(returncode, (target / "output.txt").read_text(), target)

    def save(self) -> None:
        (self.target / "returncode").write_text(str(self.returncode))
        (self.target / "output.txt").write_text(self.output)

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.target / name).read_text())

    def unit_test_statuses(self) -> dict[str, str]:
        results = self.artifact("run_results.json")["results"]
        return {
            result["unique_id"].rsplit(".", 1)[-1]: result["status"]
            for result in results
            if result["unique_id"].startswith("unit_test.")
        }

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_dbt(project_dir: Path, args: list[str], env: dict[str, str], target: Path) -> DbtRun:
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
        "--log-level-file",
        "none",  # the console output is kept; the debug log would cost CPU
        "--no-use-colors",
    ]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    return DbtRun(result.returncode, result.stdout + result.stderr, target)


def dbt_env(folder: Path) -> dict[str, str]:
    """Environment of the dbt processes: the throwaway lake and warehouse under ``folder``."""
    return {
        **os.environ,
        LAKE_ROOT_ENV: str(folder / "lake"),
        WAREHOUSE_DIR_ENV: str(folder / "warehouse"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def build_projects(folder: Path, env: dict[str, str]) -> None:
    """``dbt build --empty`` of every project (unit tests included), data_platform first."""
    shutil.copytree(OPEN_DATA_DIR, folder / "lake" / "raw")
    (folder / "warehouse").mkdir()
    for location in LOCATIONS:
        (folder / "lake" / "marts" / location.dbt_project).mkdir(parents=True)

    def build(location: CodeLocation) -> None:
        # the publisher builds every mart the others read; the others only their unit-tested
        # models and the ancestors of these
        selection = [] if location.dbt_project == PUBLISHER else ["--select", "+test_type:unit"]
        args = ["build", "--empty", *selection, "--exclude", "test_type:data"]
        run_dbt(location.dbt_project_dir, args, env, folder / "target" / location.name).save()

    publisher = location_of_dbt_project(PUBLISHER)
    readers = [location for location in LOCATIONS if location != publisher]
    build(publisher)
    with ThreadPoolExecutor(max_workers=max(len(readers), 1)) as pool:
        list(pool.map(build, readers))


@dataclass(frozen=True)
class Builds:
    env: dict[str, str]
    runs: dict[str, DbtRun]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    folder = once_per_session(
        tmp_path_factory,
        "dbt_unit_tests",
        lambda folder: build_projects(folder, dbt_env(folder)),
    )
    runs = {loc.name: DbtRun.load(folder / "target" / loc.name) for loc in LOCATIONS}
    return Builds(dbt_env(folder), runs)


@pytest.mark.parametrize("location", LOCATIONS, ids=lambda location: location.name)
def test_unit_tests_pass(builds: Builds, location: CodeLocation) -> None:
    run = builds.runs[location.name]
    assert run.returncode == 0, run.tail()
    declared = {test["name"] for test in run.artifact("manifest.json")["unit_tests"].values()}
    assert declared, f"{location.dbt_project} declares no unit test"
    assert run.unit_test_statuses() == dict.fromkeys(declared, "pass"), run.tail()


def test_expected_unit_tests_exist(builds: Builds) -> None:
    found: dict[str, tuple[str, str]] = {}
    for location in LOCATIONS:
        unit_tests = builds.runs[location.name].artifact("manifest.json")["unit_tests"]
        assert unit_tests, f"{location.dbt_project} declares no unit test"
        for test in unit_tests.values():
            assert test["name"].startswith(f"ut_{test['model']}__"), test["name"]
            assert test["given"] and test["expect"]["rows"], test["name"]
            found[test["name"]] = (test["package_name"], test["model"])
    expected = {f"ut_{model}__{rule}": (project, model) for project, model, rule in EXPECTED_RULES}
    assert {name: found.get(name) for name in expected} == expected


def test_broken_rule_fails_its_unit_test(builds: Builds, tmp_path: Path) -> None:
    # ags without its deduplication on the match code: every row of a match is kept
    location = location_of_dbt_project("ags")
    project = tmp_path / location.dbt_project_dir.name
    shutil.copytree(
        location.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    model = project / "models/intermediate/basketball/int_basketball_matches_deduplicated.sql"
    sql = model.read_text()
    assert sql.count("where row_rank = 1") == 1
    model.write_text(sql.replace("where row_rank = 1", ""))
    # the build's parse, reused (same profile, same files but one): one model is parsed again;
    # the build's warehouse holds the parents the unit tests read their column types from
    target = tmp_path / "target"
    target.mkdir()
    built = builds.runs[location.name].target
    shutil.copy2(built / "partial_parse.msgpack", target / "partial_parse.msgpack")

    run = run_dbt(project, ["test", "--select", "test_type:unit"], builds.env, target)

    broken = "ut_int_basketball_matches_deduplicated__match_code"
    assert run.returncode != 0, run.tail()
    assert f"Failure in unit_test {broken}" in run.output, run.tail()
    statuses = run.unit_test_statuses()
    assert statuses.pop(broken) == "fail"
    assert statuses and set(statuses.values()) == {"pass"}, statuses  # the other rules still hold
