"""A throwaway PostgreSQL server for the tests: ``pg_ctl initdb`` and ``pg_ctl start``.

The server binaries are Debian's (``/usr/lib/postgresql/<version>/bin``). PostgreSQL refuses to
run as root, so when the tests run as root the cluster belongs to the ``postgres`` system user
(created by Debian's postgresql-common) and ``pg_ctl`` runs through ``runuser``: that is why
pytest-postgresql, which runs ``pg_ctl`` as the current user, does not serve here.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.stack.processes import free_port


@dataclass(frozen=True)
class PostgresServer:
    """Connection settings of a running throwaway server (TCP on 127.0.0.1)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    def dsn(self) -> dict[str, str | int]:
        """Return psycopg2's connection keywords for this server's database."""
        return {"host": self.host, "port": self.port, "user": self.user,
                "password": self.password, "dbname": self.database}  # fmt: skip

    def dagster_env(self) -> dict[str, str]:
        """Return the ``DAGSTER_POSTGRES_*`` variables read by the production ``dagster.yaml``."""
        values = {"HOST": self.host, "PORT": self.port, "USER": self.user,
                  "PASSWORD": self.password, "DB": self.database}  # fmt: skip
        return {f"DAGSTER_POSTGRES_{name}": str(value) for name, value in values.items()}


@contextmanager
def throwaway_postgres(database: str = "dagster") -> Iterator[PostgresServer]:
    """Start a PostgreSQL cluster in a temporary folder and yield its :class:`PostgresServer`.

    The folder is made with :func:`tempfile.mkdtemp` (not under pytest's ``tmp_path``, whose
    parents only root may enter) and removed when the server stops.

    Raises:
        RuntimeError: no PostgreSQL server binaries are installed.
        subprocess.CalledProcessError: initdb, pg_ctl or createdb failed.
    """
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    pg_ctl = found[0] if found else shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    workdir = Path(tempfile.mkdtemp(prefix="platform-postgres-"))
    server = PostgresServer("127.0.0.1", free_port(), "dagster", secrets.token_hex(12), database)
    (workdir / "password").write_text(server.password)
    prefix = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
        shutil.chown(workdir / "password", "postgres")
    cluster = [*prefix, str(pg_ctl), "--pgdata", str(workdir / "data")]
    initdb = f"-U dagster --auth=scram-sha-256 --pwfile={workdir / 'password'} -E UTF8"
    options = f"-h 127.0.0.1 -p {server.port} -k {workdir} -c fsync=off"
    subprocess.run([*cluster, "initdb", "-o", initdb], check=True, capture_output=True)
    start = [*cluster, "-o", options, "-l", str(workdir / "log"), "-w", "start"]
    subprocess.run(start, check=True, capture_output=True)
    try:
        createdb = [
            str(Path(pg_ctl).parent / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
        ]
        env = {**os.environ, "PGPASSWORD": server.password}
        subprocess.run(
            [*createdb, "-U", "dagster", database], check=True, capture_output=True, env=env
        )
        yield server
    finally:
        subprocess.run([*cluster, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
