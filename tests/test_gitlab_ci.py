"""GitLab CI/CD: the pipeline is valid, gitlab-ci-local lists and runs its jobs, slim CI is slim.

* ``.gitlab-ci.yml`` (and ``ci/dbt-project.gitlab-ci.yml`` when present) validate against
  GitLab's CI schema;
* ``gitlab-ci-local --list`` shows the expected jobs for a push on main, a merge request and a
  tag, with one parallel ``test`` job per tier of the suite (``test: [fast]`` ...);
* the ``lint``, ``validate`` and ``test: [fast]`` jobs run with ``gitlab-ci-local
  --force-shell-executor`` in a git clone of the working tree as it is now (uncommitted files
  included), and the test job writes its JUnit and Cobertura reports;
* slim CI (``data_platform.tools.slim_ci``) on a one-model change builds and tests that model
  and its children only, materializing the unmodified parents first, and builds everything when no
  production manifest exists.

gitlab-ci-local is installed with npm into ``.local/node`` (git-ignored) on first use; it needs
``node``, ``npm`` and ``rsync`` (Debian packages, installed by ``.ci/run``). Without node or npm
its tests skip, unless ``PLATFORM_REQUIRE_NODE=1`` (set by ``.ci/run``), which makes that a
failure.
"""

import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from data_platform.locations import LOCATIONS
from data_platform.settings import REPO_ROOT
from data_platform.tools import slim_ci
from tests.stack.gitlab_ci_local import gcl, listed_jobs
from tests.stack.platform import clean_environment, snapshot_worktree

PIPELINE = REPO_ROOT / ".gitlab-ci.yml"
DBT_PROJECT_PIPELINE = REPO_ROOT / "ci" / "dbt-project.gitlab-ci.yml"
BIN = Path(sys.executable).parent
# The tiers of the suite, one parallel job each (`parallel: matrix` over TIER in .gitlab-ci.yml).
TIERS = ["fast", "slow", "azurite", "stack", "browser", "containers"]
TEST_JOBS = [f"test: [{tier}]" for tier in TIERS]  # gitlab-ci-local's names of the matrix jobs

CHANGED_MODEL = "stg_adeps__walks_2022"
CHANGED_MODEL_PATH = "dbt_submodules/ags_dbt/models/staging/adeps/stg_adeps__walks_2022.sql"
# The model and its children (ags' walks branch), as the production manifest's child_map says.
EXPECTED_SLIM_MODELS = [
    "dim_walk_organisers",
    "fct_walks",
    "fct_walks_per_commune",
    "int_walk_entites_resolved",
    "int_walks_located",
    "int_walks_unioned",
    "stg_adeps__walks_2022",
]


def test_pipelines_validate_against_the_gitlab_ci_schema():
    files = [PIPELINE] + ([DBT_PROJECT_PIPELINE] if DBT_PROJECT_PIPELINE.exists() else [])
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sonar_project_properties_point_at_the_reports():
    properties = dict(
        line.split("=", 1)
        for line in (REPO_ROOT / "sonar-project.properties").read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    assert properties["sonar.python.coverage.reportPaths"] == "coverage.xml"
    assert properties["sonar.python.xunit.reportPath"] == "junit.xml"
    for folder in properties["sonar.sources"].split(","):
        assert (REPO_ROOT / folder).is_dir(), folder


# --------------------------------------------------------------------------- gitlab-ci-local --
@pytest.fixture(scope="module")
def ci_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # gitlab-ci-local copies files with rsync; apt may still be installing it.
    deadline = time.monotonic() + 300
    while not shutil.which("rsync"):
        if time.monotonic() > deadline:
            pytest.fail("gitlab-ci-local needs rsync (apt-get install rsync)")
        time.sleep(5)
    return snapshot_worktree(tmp_path_factory.mktemp("gitlab-ci") / "repo", commit=True)


def running_jobs(executable: Path, clone: Path, *variables: str) -> dict[str, str]:
    """Return ``{job: when}`` of the jobs gitlab-ci-local would run, given some variables."""
    options = [option for variable in variables for option in ("--variable", variable)]
    jobs = listed_jobs(executable, clone, *options)
    return {name: when for name, when in jobs.items() if when != "never"}


def test_gitlab_ci_local_lists_the_jobs_of_each_pipeline(gitlab_ci_local, ci_clone):
    # One test job per tier, and no other test job (every test runs in exactly one of them).
    listing = gcl(gitlab_ci_local, ci_clone, "--list")
    assert listing.returncode == 0, listing.stdout
    listed = re.findall(r"^(test(?::\s*\[[^\]]*\])?)\s{2,}", listing.stdout, re.MULTILINE)
    assert listed == TEST_JOBS, listing.stdout

    checks = {"build", "validate", "lint", "sonar", *TEST_JOBS}
    main = running_jobs(gitlab_ci_local, ci_clone)
    assert set(main) == checks | {"prod_manifests", "deploy_dev", "pages"}
    feature = running_jobs(gitlab_ci_local, ci_clone, "CI_COMMIT_BRANCH=feature/new-mart")
    assert set(feature) == checks | {"deploy_dev"}
    # A merge-request pipeline has no CI_COMMIT_BRANCH.
    merge_request = running_jobs(
        gitlab_ci_local, ci_clone, "CI_PIPELINE_SOURCE=merge_request_event", "CI_COMMIT_BRANCH="
    )
    assert "slim_ci" in merge_request and "prod_manifests" not in merge_request
    assert not {"deploy_dev", "deploy_staging", "deploy_prod", "pages"} & set(merge_request)
    tag = running_jobs(gitlab_ci_local, ci_clone, "CI_COMMIT_TAG=v1.2.0", "CI_COMMIT_BRANCH=")
    assert tag["deploy_staging"] == "on_success" and tag["deploy_prod"] == "manual"
    assert "deploy_dev" not in tag and "pages" not in tag


def uv_variables() -> list[str]:
    """Share this machine's uv cache with the jobs (no download), hard-linked into their venv."""
    cache = subprocess.run(
        [shutil.which("uv", path=clean_environment()["PATH"]) or "uv", "cache", "dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return ["--variable", f"UV_CACHE_DIR={cache}", "--variable", "UV_LINK_MODE=hardlink"]


def run_job(executable: Path, clone: Path, job: str, *variables: str) -> str:
    options = [option for variable in variables for option in ("--variable", variable)]
    result = gcl(executable, clone, "--force-shell-executor", *uv_variables(), *options, job)
    assert result.returncode == 0, f"job {job} failed:\n{result.stdout[-6000:]}"
    assert re.search(rf"PASS\s+{re.escape(job)}(?!\S)", result.stdout), result.stdout[-3000:]
    return result.stdout


@pytest.mark.slow
def test_lint_validate_and_test_jobs_pass_with_the_shell_executor(gitlab_ci_local, ci_clone):
    run_job(gitlab_ci_local, ci_clone, "lint")
    output = run_job(gitlab_ci_local, ci_clone, "validate")
    for location in LOCATIONS:
        assert f"dagster definitions validate -m {location.module}" in output

    # The fast tier's job runs a quick subset here (the whole suite would run this test again):
    # the raw-file tests on the local lake only, so neither Azurite nor PostgreSQL is needed. The
    # -k expression has no space: it survives the job's unquoted $PYTEST_ARGS.
    output = run_job(
        gitlab_ci_local, ci_clone, "test: [fast]", "PYTEST_ARGS=tests/test_raw.py -k not(azurite)"
    )
    assert 'pytest -m "not (slow or azurite or stack or browser or containers)"' in output
    assert re.search(r"^.*TOTAL.*\s(\d+(?:\.\d+)?)%", output, re.MULTILINE), output[-3000:]
    assert re.search(r"\b\d+ passed, \d+ deselected\b", output), output[-3000:]
    assert "[azurite]" not in output and "azurite-blob" not in output
    for folder in (ci_clone, ci_clone / "test-artifacts" / "reports" / "fast"):
        junit = ET.parse(folder / "junit.xml").getroot()
        suite = junit if junit.tag == "testsuite" else junit.find("testsuite")
        assert int(suite.get("tests")) > 0 and int(suite.get("failures")) == 0
        assert int(suite.get("errors")) == 0
        assert int(suite.get("skipped")) == 0
        coverage = ET.parse(folder / "coverage.xml").getroot()
        assert coverage.tag == "coverage" and float(coverage.get("line-rate")) > 0


# ----------------------------------------------------------------------------------- slim CI --
def test_download_state_extracts_the_artifact_and_tolerates_404(tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("prod-manifests/ags_dbt/manifest.json", '{"nodes": {}}')
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append((self.path, self.headers.get("JOB-TOKEN")))
            found = "/artifacts/main/" in self.path
            self.send_response(200 if found else 404)
            self.end_headers()
            if found:
                self.wfile.write(archive.getvalue())

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    environ = {
        "CI_API_V4_URL": f"http://127.0.0.1:{server.server_port}/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_JOB_TOKEN": "token",
    }
    try:
        assert slim_ci.download_state(tmp_path / "state", environ=environ)
        assert (tmp_path / "state" / "ags_dbt" / "manifest.json").read_text() == '{"nodes": {}}'
        assert requests[0] == (
            "/api/v4/projects/42/jobs/artifacts/main/download?job=prod_manifests",
            "token",
        )
        assert not slim_ci.download_state(tmp_path / "none", ref="release", environ=environ)
        assert not (tmp_path / "none").exists()
    finally:
        server.shutdown()
    with pytest.raises(slim_ci.SlimCiError, match="CI_JOB_TOKEN"):
        slim_ci.download_state(tmp_path / "x", environ={**environ, "CI_JOB_TOKEN": ""})


def descendants(manifest: dict, unique_id: str) -> set[str]:
    children, stack = set(), [unique_id]
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child not in children:
                children.add(child)
                stack.append(child)
    return children


def slim(copy: Path, *args: str) -> dict[str, dict]:
    """Run ``python -m data_platform.tools.slim_ci`` in ``copy``; return its report per project."""
    report = copy / "slim-ci.json"
    report.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "data_platform.tools.slim_ci", *args, "--report", str(report)],
        cwd=copy,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=3600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    print(result.stdout)
    if not report.exists():  # --save-state writes no report
        return {}
    return {plan["dbt_project"]: plan for plan in json.loads(report.read_text())}


@pytest.mark.slow
def test_slim_ci_builds_a_changed_model_and_its_children_only(tmp_path):
    copy = snapshot_worktree(tmp_path / "repo")
    slim(copy, "--save-state", "prod-manifests")
    production = json.loads((copy / "prod-manifests/ags_dbt/manifest.json").read_text())

    # No production manifest: everything is selected.
    full = slim(copy, "--state", "no-such-dir", "--project", "ags", "--plan-only")["ags"]
    every_model = sorted(
        node["name"] for node in production["nodes"].values() if node["resource_type"] == "model"
    )
    assert full["mode"] == "full" and full["selected_models"] == every_model

    # One model changed (a comment is enough: dbt compares the raw SQL's checksum).
    with (copy / CHANGED_MODEL_PATH).open("a") as handle:
        handle.write("-- changed by a merge request\n")
    plans = slim(copy, "--state", "prod-manifests", "--project", "ags")
    ags = plans["ags"]
    changed = f"model.ags.{CHANGED_MODEL}"
    downstream = {changed} | descendants(production, changed)
    expected = sorted(production["nodes"][uid]["name"] for uid in downstream if "model." in uid)
    assert ags["mode"] == "slim"
    assert ags["selected_models"] == expected == EXPECTED_SLIM_MODELS
    assert ags["selected_tests"] == len({uid for uid in downstream if uid.startswith("test.")})
    # Parents are materialized (not tested): the other walks snapshot, the seeds, and the
    # reference marts published by data_platform.
    assert "stg_adeps__walks_2024" in ags["parent_models"]
    assert not set(ags["parent_models"]) & set(ags["selected_models"])
    # Only the shared marts the walks branch reads, with their own parents.
    assert "dim_communes" in plans["data_platform"]["parent_models"]
    assert "map_nis_codes" not in plans["data_platform"]["parent_models"]
    assert plans["data_platform"]["mode"] == plans["agaj"]["mode"] == "parents-only"
    assert plans["agaj"]["parent_models"] == []

    marts = copy / ".local" / "lake" / "marts" / "ags"
    assert {path.stem for path in marts.glob("*.parquet")} == {
        "dim_walk_organisers",
        "fct_walks",
        "fct_walks_per_commune",
    }
