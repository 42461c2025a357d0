"""The production stack as processes: PostgreSQL, one code server per location, webserver, daemon.

Real and local: a throwaway PostgreSQL cluster, the production ``dagster.yaml``, a gRPC workspace
generated from the list of locations, and the GraphQL API the UI uses. It runs from a copy of
the platform (a test may break a manifest) on the lake and warehouse it is given; the session
fixture ``process_stack`` (``tests/conftest.py``) starts it once for the stack and browser tiers.
Hand-written glue: ``dagster dev`` runs no code server per location on PostgreSQL, and
pytest-postgresql runs ``pg_ctl`` as the current user, which PostgreSQL refuses when it is root.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from data_platform.locations import LOCATIONS
from data_platform.settings import LAKE_ROOT_ENV, REPO_ROOT, WAREHOUSE_DIR_ENV
from data_platform.tools.workspaces import grpc_workspace, render
from data_platform.translator import DBT_DOCS_URL_ENV
from tests.stack.platform import copy_platform
from tests.stack.processes import free_port, stop_process, wait_for_http, wait_until

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server on 127.0.0.1:``port``: user ``dagster``, and the database
    ``postgres`` that ``initdb`` creates (a throwaway cluster needs no other)."""

    port: int
    password: str
    pg_ctl: list[str] = field(default_factory=list)  # pg_ctl --pgdata <cluster>, as its owner
    start_options: list[str] = field(default_factory=list)

    def start(self) -> None:
        """Start the cluster (``pg_ctl start``) and wait until it accepts connections."""
        subprocess.run([*self.pg_ctl, *self.start_options, "-w", "start"], check=True,
                       capture_output=True)  # fmt: skip

    def stop(self) -> None:
        """Stop the cluster as a restart does (``pg_ctl stop -m fast``: sessions are ended)."""
        subprocess.run([*self.pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True)

    def dsn(self) -> dict[str, str | int]:
        """Return psycopg2's connection keywords for the database."""
        return {"host": "127.0.0.1", "port": self.port, "user": "dagster",
                "password": self.password, "dbname": "postgres"}  # fmt: skip

    def run_log_contains(self, run_id: str, text: str) -> bool:
        """Whether any event of ``run_id`` in the instance's event log contains ``text``."""
        import psycopg2

        with psycopg2.connect(**self.dsn()) as connection, connection.cursor() as cursor:
            cursor.execute(
                "select count(*) from event_logs where run_id = %s and event like %s",
                (run_id, f"%{text}%"),
            )
            return cursor.fetchone()[0] > 0

    def dagster_env(self) -> dict[str, str]:
        """Return the ``DAGSTER_POSTGRES_*`` variables read by the production ``dagster.yaml``
        (``HOST``, ``PORT``, ``USER``, ``PASSWORD``, ``DB``: the keys of :meth:`dsn`)."""
        dsn = self.dsn().items()
        return {f"DAGSTER_POSTGRES_{key.upper().removesuffix('NAME')}": str(v) for key, v in dsn}


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster and yield its :class:`PostgresServer`.

    Its folder is a :func:`tempfile.mkdtemp` (pytest's ``tmp_path`` has parents only root may
    enter: as root, ``pg_ctl`` runs as the ``postgres`` user through ``runuser``).

    Raises:
        RuntimeError: no PostgreSQL server binaries are installed.
        subprocess.CalledProcessError: initdb or pg_ctl failed.
    """
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    pg_ctl = found[0] if found else shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    workdir = Path(tempfile.mkdtemp(prefix="platform-postgres-"))
    prefix = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
    port = free_port()
    server = PostgresServer(
        port, secrets.token_hex(12), [*prefix, str(pg_ctl), "--pgdata", str(workdir / "data")],
        ["-o", f"-h 127.0.0.1 -p {port} -k {workdir} -c fsync=off", "-l", str(workdir / "log")],
    )  # fmt: skip
    (workdir / "password").write_text(server.password)
    if prefix:
        shutil.chown(workdir / "password", "postgres")
    initdb = f"-U dagster --auth=scram-sha-256 --pwfile={workdir / 'password'} -E UTF8"
    subprocess.run([*server.pg_ctl, "initdb", "-o", initdb], check=True, capture_output=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class ProcessStack:
    """A running stack: its processes (by name), their logs in ``work``, its database."""

    work: Path
    platform: Path
    env: dict
    postgres: PostgresServer
    workspace: Path
    webserver_port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.webserver_port}"

    def start(self, name: str, *command: str) -> None:
        """Start ``BIN/command`` in the platform copy, logging to ``work/<name>.log``."""
        with (self.work / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(BIN / command[0]), *command[1:]], cwd=self.platform, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def stop(self, name: str) -> None:
        stop_process(self.processes.pop(name))

    def start_webserver(self) -> None:
        """Start the webserver and wait until it answers (``TimeoutError`` after 300 s)."""
        port = str(self.webserver_port)
        self.start("webserver", "dagster-webserver", "-h", "127.0.0.1", "-p", port,
                   "-w", str(self.workspace))  # fmt: skip
        log = self.work / "webserver.log"
        wait_for_http(f"{self.url}/server_info", self.processes["webserver"], log, timeout=300)

    def wait_for_code_server(self, name: str, port: int, timeout: float = 600) -> None:
        """Wait until the code server ``name`` on ``port`` answers ``SERVING`` to the gRPC health
        check (as ``dagster api grpc-health-check`` asks, without importing Dagster per poll).

        Raises:
            RuntimeError: the code server exited (its log is in the message).
            TimeoutError: it did not answer ``SERVING`` within ``timeout`` seconds.
        """
        request = health_pb2.HealthCheckRequest(service="DagsterApi")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:

            def serving() -> bool:
                with suppress(grpc.RpcError):
                    answer = health_pb2_grpc.HealthStub(channel).Check(request, timeout=5)
                    return answer.status == health_pb2.HealthCheckResponse.SERVING
                return False

            log = self.work / f"{name}.log"
            wait_until(serving, timeout, name, process=self.processes[name], log=log)

    def logs(self) -> str:
        """Return the tail of every process's log."""
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
            for log in sorted(self.work.glob("*.log"))
        )


@contextmanager
def running_process_stack(
    work: Path, storage: dict[str, Path], docs_url: str
) -> Iterator[ProcessStack]:
    """Start the stack in ``work`` (an empty folder) on ``storage`` (``{"lake": folder,
    "warehouse": folder}``), its assets linking to the dbt docs at ``docs_url``; stop it on exit.

    Raises:
        TimeoutError: a code server or the webserver did not start.
        subprocess.CalledProcessError: the instance migration failed.
    """
    platform = copy_platform(work / "platform")
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    ports = {location.name: free_port() for location in LOCATIONS}
    workspace = work / "workspace.yaml"
    workspace.write_text(render(grpc_workspace(lambda _: "127.0.0.1", lambda loc: ports[loc.name])))
    with throwaway_postgres() as postgres:
        env = {**os.environ, **postgres.dagster_env(), "DAGSTER_HOME": str(home),
               LAKE_ROOT_ENV: str(storage["lake"]), WAREHOUSE_DIR_ENV: str(storage["warehouse"]),
               DBT_DOCS_URL_ENV: docs_url}  # fmt: skip
        stack = ProcessStack(work, platform, env, postgres, workspace, free_port())
        try:
            # As the compose stack's `dagster-migrate` service: the tables exist before the
            # code servers, started together, open the instance.
            migrate = [str(BIN / "dagster"), "instance", "migrate"]
            subprocess.run(migrate, env=env, check=True, timeout=300)
            for location in LOCATIONS:
                stack.start(f"code-server-{location.name}", "dagster", "code-server", "start",
                            "-h", "127.0.0.1", "-p", str(ports[location.name]),
                            "-m", location.module, "--location-name", location.name,
                            "-d", str(platform))  # fmt: skip
            for location in LOCATIONS:
                stack.wait_for_code_server(f"code-server-{location.name}", ports[location.name])
            stack.start("daemon", "dagster-daemon", "run", "-w", str(workspace))
            stack.start_webserver()
            yield stack
        finally:
            for name in list(stack.processes):
                stack.stop(name)
            print(stack.logs())
