"""The production stack as processes: PostgreSQL, one code server per location, webserver, daemon.

Everything is real and local: a throwaway PostgreSQL cluster (initdb, pg_ctl), the production
``dagster.yaml``, a gRPC workspace generated from the list of locations, and the GraphQL API the
UI uses. The stack runs from a copy of the platform so that a manifest can be broken safely.
"""

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest

from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, REPO_ROOT, WAREHOUSE_DIR_ENV
from data_platform.workspaces import grpc_workspace, render
from tests.stack import graphql
from tests.stack.platform import copy_platform
from tests.stack.postgres import PostgresServer, free_port, throwaway_postgres

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("prepared_manifests")]

BIN = Path(sys.executable).parent
NAMES = [location.name for location in LOCATIONS]


@dataclass
class ProcessStack:
    """A running stack: its processes, logs, webserver URL, database and platform copy."""

    work: Path
    platform: Path
    env: dict
    postgres: PostgresServer
    workspace: Path
    webserver_port: int
    processes: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.webserver_port}"

    def start(self, name: str, command: list[str]) -> None:
        log = (self.work / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=self.platform, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_webserver(self) -> None:
        self.start(
            "webserver",
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.webserver_port),
             "-w", str(self.workspace)],
        )  # fmt: skip
        graphql.wait_for_server(self.url)

    def wait_for_code_server(self, port: int, timeout: float = 300) -> None:
        """Wait until the gRPC code server on ``port`` answers its health check."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check = subprocess.run(
                [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port)],
                capture_output=True,
                env=self.env,
            )
            if check.returncode == 0:
                return
            time.sleep(2)
        raise TimeoutError(f"code server on port {port} not healthy after {timeout} s")

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.work.glob("*.log"))
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("process_stack")
    platform = copy_platform(work / "platform")
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    with throwaway_postgres() as postgres:
        env = {
            **os.environ,
            **postgres.dagster_env(),
            "DAGSTER_HOME": str(home),
            LAKE_ROOT_ENV: str(work / "lake"),
            WAREHOUSE_DIR_ENV: str(work / "warehouse"),
        }
        ports = {name: free_port() for name in NAMES}
        workspace = work / "workspace.yaml"
        workspace.write_text(
            render(grpc_workspace(host=lambda _: "127.0.0.1", port=lambda loc: ports[loc.name]))
        )
        running = ProcessStack(work, platform, env, postgres, workspace, free_port())
        try:
            # As the compose stack's `dagster-migrate` service: the tables exist before the
            # code servers, started together, open the instance.
            subprocess.run(
                [str(BIN / "dagster"), "instance", "migrate"], env=env, check=True, timeout=300
            )
            for location in LOCATIONS:
                running.start(
                    f"code-server-{location.name}",
                    [str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1",
                     "-p", str(ports[location.name]), "-m", location.module,
                     "--location-name", location.name, "-d", str(platform)],
                )  # fmt: skip
            for location in LOCATIONS:
                running.wait_for_code_server(ports[location.name])
            running.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)])
            running.start_webserver()
            yield running
        finally:
            for name in list(running.processes):
                running.stop(name)
            print(running.logs())


def test_every_location_loads_from_its_code_server(stack):
    statuses = graphql.wait_for_locations(stack.url, NAMES)
    assert {name: status["loaded"] for name, status in statuses.items()} == dict.fromkeys(
        NAMES, True
    ), statuses


def test_runs_go_through_the_queue_and_succeed(stack):
    graphql.wait_for_locations(stack.url, NAMES)
    for name in ("data_platform", "ags_project"):  # ags reads the shared marts
        run_id = graphql.launch_location_run(stack.url, name)
        status = graphql.wait_for_run(stack.url, run_id)
        assert status == "SUCCESS", f"{name}: {status}\n{stack.logs()}"
        stack.runs[name] = run_id
    # The queue, not the webserver, launched them: the daemon's dequeue left its mark.
    with psycopg2.connect(**_dsn(stack.postgres)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select count(*) from event_logs where run_id = %s and dagster_event_type = %s",
            (stack.runs["ags_project"], "PIPELINE_ENQUEUED"),
        )
        assert cursor.fetchone()[0] == 1


def test_runs_are_read_back_from_postgres_after_a_webserver_restart(stack):
    run_id = stack.runs["ags_project"]
    stack.stop("webserver")
    stack.start_webserver()
    details = graphql.run_details(stack.url, run_id)
    assert details["status"] == "SUCCESS"
    assert {"ags/fct_walks", "ags/fct_basketball_matches"} <= details["materialized"]
    with psycopg2.connect(**_dsn(stack.postgres)) as connection, connection.cursor() as cursor:
        cursor.execute("select status from runs where run_id = %s", (run_id,))
        assert cursor.fetchone() == ("SUCCESS",)


def test_a_broken_location_reports_its_error_and_reloads_once_fixed(stack):
    manifest = stack.platform / "dbt_submodules" / "ags_dbt" / "target" / "manifest.json"
    good = manifest.read_text()
    manifest.write_text(good[:1000])
    try:
        graphql.reload_location(stack.url, "ags_project")
        statuses = graphql.wait_for_locations(stack.url, NAMES)
        assert not statuses["ags_project"]["loaded"]
        assert "Code location 'ags_project'" in statuses["ags_project"]["error"]
        assert "not valid JSON" in statuses["ags_project"]["error"]
        assert statuses["data_platform"]["loaded"] and statuses["agaj_project"]["loaded"]
    finally:
        manifest.write_text(good)
    graphql.reload_location(stack.url, "ags_project")
    statuses = graphql.wait_for_locations(stack.url, NAMES)
    assert all(status["loaded"] for status in statuses.values()), statuses


def _dsn(server: PostgresServer) -> dict:
    return {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "dbname": server.database,
    }
