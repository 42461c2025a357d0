"""A throwaway PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` in a temporary folder.

The server binaries are Debian's (``/usr/lib/postgresql/<version>/bin``). PostgreSQL refuses to
run as root, so when the tests run as root the cluster belongs to the ``postgres`` system user
(created by Debian's postgresql-common) and the commands run through ``runuser``.
"""

import os
import shutil
import subprocess
import tempfile
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
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
        }

    def dagster_env(self) -> dict[str, str]:
        """Return the ``DAGSTER_POSTGRES_*`` variables read by the production ``dagster.yaml``."""
        return {
            "DAGSTER_POSTGRES_HOST": self.host,
            "DAGSTER_POSTGRES_PORT": str(self.port),
            "DAGSTER_POSTGRES_USER": self.user,
            "DAGSTER_POSTGRES_PASSWORD": self.password,
            "DAGSTER_POSTGRES_DB": self.database,
        }


def postgres_bin_dir() -> Path | None:
    """Return the folder of the newest installed PostgreSQL server binaries, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


@contextmanager
def throwaway_postgres(database: str = "dagster"):
    """Start a PostgreSQL cluster in a temporary folder and yield its :class:`PostgresServer`.

    The folder is made with :func:`tempfile.mkdtemp` (not under pytest's ``tmp_path``, whose
    parents only root may enter) and removed when the server stops.

    Raises:
        RuntimeError: no PostgreSQL server binaries are installed.
        subprocess.CalledProcessError: initdb, pg_ctl or createdb failed.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    workdir = Path(tempfile.mkdtemp(prefix="platform-postgres-"))
    data, sockets = workdir / "data", workdir / "sockets"
    sockets.mkdir(exist_ok=True)
    password_file = workdir / "password"
    password = os.urandom(12).hex()
    password_file.write_text(password)
    if as_root:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(password_file, "postgres")
        workdir.chmod(0o755)
    port = free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    run(
        str(bin_dir / "initdb"),
        "-D", str(data),
        "-U", "dagster",
        "--auth=scram-sha-256",
        f"--pwfile={password_file}",
        "-E", "UTF8",
    )  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(workdir / "log"),
        "-w",
        "start",
    )
    try:
        env = {**os.environ, "PGPASSWORD": password}
        subprocess.run(
            [*prefix, "env", f"PGPASSWORD={password}", str(bin_dir / "createdb"),
             "-h", "127.0.0.1", "-p", str(port), "-U", "dagster", database],
            check=True, capture_output=True, text=True, env=env,
        )  # fmt: skip
        yield PostgresServer("127.0.0.1", port, "dagster", password, database)
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
