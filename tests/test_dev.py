"""`make dev`, the README's command that runs the platform, as an engineer runs it.

One smoke test: the UI answers, every code location of ``data_platform/locations.py`` is loaded
with its sensors and schedules stopped (automation is off by default), and the dbt docs are
served beside it. It starts ``make dev`` itself (Dagster's ``dagster dev``
on the repository's ``workspace.yaml``) in a snapshot of the working tree, as a fresh clone is
(``make dev`` installs the virtualenv, ``dagster dev`` parses each dbt project on the fly,
without touching the manifests that the other tests read), on free ports, a throwaway Dagster
home, lake and warehouse, and the session's docs site (already built, so ``--build-if-stale``
serves it as is).
"""

import os
import signal
import subprocess
import urllib.request

import pytest

from data_platform.locations import LOCATIONS
from data_platform.retention import purge_old_runs_schedule
from data_platform.settings import LAKE_ROOT_ENV, WAREHOUSE_DIR_ENV
from tests.stack import graphql
from tests.stack.platform import clean_environment, snapshot_worktree
from tests.stack.processes import free_port, wait_for_http

pytestmark = pytest.mark.stack

NAMES = [location.name for location in LOCATIONS]
AUTOMATIONS_QUERY = """query { workspaceOrError { ... on Workspace { locationEntries {
  locationOrLoadError { ... on RepositoryLocation { repositories {
    sensors { name sensorState { status } } schedules { name scheduleState { status } } } } } } } }
  runsOrError { ... on Runs { results { runId } } } }"""


def test_make_dev_serves_the_ui_with_every_location_and_the_dbt_docs(tmp_path, dbt_docs_site):
    checkout = snapshot_worktree(tmp_path / "checkout")
    port, docs_port = free_port(), free_port()
    env = clean_environment() | {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        LAKE_ROOT_ENV: str(tmp_path / "lake"),
        WAREHOUSE_DIR_ENV: str(tmp_path / "warehouse"),
    }
    # A busy CI machine (the other tiers run beside this one) may take longer than dagster
    # dev's default 180 s to load a location; the throwaway instance allows 600 s.
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "lake").mkdir()  # a set lake root must exist (data_platform.lake.Lake.check)
    (tmp_path / "dagster_home" / "dagster.yaml").write_text(
        "code_servers:\n  local_startup_timeout: 600\n"
    )
    log = tmp_path / "make-dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "dev", f"DAGSTER_PORT={port}", f"DBT_DOCS_PORT={docs_port}",
             f"DBT_DOCS_DIR={dbt_docs_site}"],
            cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/server_info", process, log, timeout=600)
        statuses = graphql.wait_for_locations(url, NAMES, timeout=600)
        assert {name: statuses[name]["loaded"] for name in NAMES} == dict.fromkeys(NAMES, True), (
            statuses
        )
        # Automation is off under make dev: its sensors and schedules declared, stopped; no run.
        answer = graphql.query(url, AUTOMATIONS_QUERY)
        states = {
            automation["name"]: (automation.get("sensorState") or automation["scheduleState"])[
                "status"
            ]
            for entry in answer["workspaceOrError"]["locationEntries"]
            for repository in entry["locationOrLoadError"]["repositories"]
            for automation in repository["sensors"] + repository["schedules"]
        }
        automations = {
            f"{location.dbt_project}_{kind}": "STOPPED"
            for location in LOCATIONS
            for kind in ("automation", "raw_files", "daily")
        }
        assert {name: states.get(name) for name in automations} == automations, states
        # What runs builds no data: the notification sensors (reading run statuses) and the
        # nightly purge of old runs (data_platform/retention.py).
        running = {name for name, status in states.items() if status == "RUNNING"}
        maintenance = {name for name in running if name.startswith("notify_")}
        assert running - maintenance == {purge_old_runs_schedule.name}, sorted(
            running - maintenance
        )
        assert answer["runsOrError"]["results"] == []
        with urllib.request.urlopen(f"http://127.0.0.1:{docs_port}/index.html", timeout=30) as page:
            index = page.read().decode()
        for location in LOCATIONS:
            assert f'href="{location.dbt_project}/index.html"' in index
        assert "wrote " not in log.read_text(errors="replace"), "an up-to-date site was rebuilt"
    except (AssertionError, TimeoutError) as error:
        tail = log.read_text(errors="replace")[-4000:]
        raise AssertionError(f"{error}\n--- make dev (last lines)\n{tail}") from error
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
