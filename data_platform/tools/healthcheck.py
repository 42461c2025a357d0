"""Container health checks of the stack: ``python -m data_platform.tools.healthcheck [ROLE]``.

The one image of the platform runs as the Dagster webserver, the daemon or a code server; its
``HEALTHCHECK`` calls this module, which checks the process that the container runs:

* ``webserver``: ``GET http://127.0.0.1:3000/server_info`` answers HTTP 200;
* ``code-server``: ``dagster api grpc-health-check -p 4000`` (the gRPC server is ``SERVING``);
* ``daemon``: ``dagster-daemon liveness-check`` (every daemon wrote a recent heartbeat to the
  instance storage, so this needs the instance's ``DAGSTER_HOME`` and database).

The role is the command-line argument, else ``$DAGSTER_ROLE``, else guessed from the commands of
the container's processes (``dagster-webserver``, ``dagster-daemon``, ``dagster
code-server``/``dagster api grpc``). A container whose command is none of those (a run worker
launched by the ``DockerRunLauncher``) has no server to check and is reported healthy.

Only the standard library is imported here; the Dagster checks run as subprocesses through
Dagster's own command-line tools. The ports can be changed with ``DAGSTER_WEBSERVER_INTERNAL_PORT``
and ``DAGSTER_CODE_SERVER_INTERNAL_PORT`` (defaults 3000 and 4000, as in ``docker-compose.yml``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROLE_ENV = "DAGSTER_ROLE"
ROLES = ("webserver", "daemon", "code-server")
DEFAULT_TIMEOUT = 10.0
"""Seconds one check may take before it counts as failed."""


class HealthCheckError(RuntimeError):
    """The checked service is not healthy; the message says what failed."""


def _port(variable: str, default: int) -> int:
    """Return the integer port in ``$variable``, or ``default`` when unset or empty."""
    value = os.environ.get(variable) or str(default)
    try:
        return int(value)
    except ValueError as error:
        raise HealthCheckError(f"{variable}={value!r} is not a port number") from error


def check_webserver(timeout: float = DEFAULT_TIMEOUT) -> str:
    """Check that the webserver answers ``GET /server_info`` with HTTP 200.

    Args:
        timeout: seconds to wait for the answer.

    Returns:
        A one-line summary of the answer.

    Raises:
        HealthCheckError: the webserver is unreachable, too slow, or answers another status.
    """
    port = _port("DAGSTER_WEBSERVER_INTERNAL_PORT", 3000)
    url = f"http://127.0.0.1:{port}/server_info"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise HealthCheckError(f"GET {url} answered HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise HealthCheckError(f"GET {url} failed: {error}") from error
    if status != 200:
        raise HealthCheckError(f"GET {url} answered HTTP {status}")
    return f"GET {url}: HTTP 200"


def _run(command: list[str], timeout: float) -> str:
    """Run a check command and return its output.

    Raises:
        HealthCheckError: the command is missing, times out or exits non-zero (its output is in
            the message).
    """
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as error:
        raise HealthCheckError(f"{command[0]} not found on PATH") from error
    except subprocess.TimeoutExpired as error:
        raise HealthCheckError(f"`{' '.join(command)}` took more than {timeout:g}s") from error
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise HealthCheckError(
            f"`{' '.join(command)}` exited with {result.returncode}: {output[-500:]}"
        )
    return output.splitlines()[-1] if output else "ok"


def check_code_server(timeout: float = DEFAULT_TIMEOUT) -> str:
    """Check that the code server's gRPC endpoint on 127.0.0.1 is ``SERVING``.

    Args:
        timeout: seconds the check may take.

    Returns:
        The last line printed by ``dagster api grpc-health-check``.

    Raises:
        HealthCheckError: the server does not answer ``SERVING``.
    """
    port = _port("DAGSTER_CODE_SERVER_INTERNAL_PORT", 4000)
    command = ["dagster", "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port)]
    return _run(command, timeout)


def check_daemon(timeout: float = DEFAULT_TIMEOUT) -> str:
    """Check that every daemon of the instance wrote a recent heartbeat.

    Args:
        timeout: seconds the check may take.

    Returns:
        The last line printed by ``dagster-daemon liveness-check``.

    Raises:
        HealthCheckError: a daemon is not running (or the instance storage is unreachable).
    """
    return _run(["dagster-daemon", "liveness-check"], timeout)


CHECKS: dict[str, Callable[[float], str]] = {
    "webserver": check_webserver,
    "daemon": check_daemon,
    "code-server": check_code_server,
}


def role_from_command(argv: list[str]) -> str | None:
    """Guess the role of a container from the command of its first process.

    Args:
        argv: the command line, e.g. ``["/opt/venv/bin/python", "/opt/venv/bin/dagster-daemon",
            "run"]``.

    Returns:
        ``"webserver"``, ``"daemon"``, ``"code-server"``, or ``None`` for any other command.
    """
    names = [Path(arg).name for arg in argv]
    if "dagster-webserver" in names:
        return "webserver"
    if "dagster-daemon" in names:
        return "daemon"
    if "dagster" in names:
        rest = names[names.index("dagster") + 1 :]
        if rest[:1] == ["code-server"] or rest[:2] == ["api", "grpc"]:
            return "code-server"
    return None


def _container_commands() -> list[list[str]]:
    """Return the command lines of the processes visible here (the container's), PID order."""
    commands = []
    pids = sorted(int(entry.name) for entry in Path("/proc").glob("[0-9]*") if entry.name.isdigit())
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        commands.append([part.decode(errors="replace") for part in raw.split(b"\0") if part])
    return commands


def guess_role() -> str | None:
    """Return the role of the first process that runs a Dagster service, or ``None``."""
    for command in _container_commands():
        role = role_from_command(command)
        if role is not None:
            return role
    return None


def resolve_role(argument: str | None) -> str | None:
    """Return the role to check: the argument, else ``$DAGSTER_ROLE``, else the guessed one.

    Raises:
        HealthCheckError: the argument or ``$DAGSTER_ROLE`` is not a known role.
    """
    role = argument or os.environ.get(ROLE_ENV) or guess_role()
    if role is not None and role not in CHECKS:
        raise HealthCheckError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def main(argv: list[str] | None = None) -> int:
    """Check the service of this container and print one line.

    Args:
        argv: ``[ROLE]`` (``webserver``, ``daemon`` or ``code-server``); defaults to
            ``sys.argv[1:]``.

    Returns:
        0 when healthy (or when the container runs no Dagster service), 1 otherwise; this is
        the exit code Docker's ``HEALTHCHECK`` reads.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", nargs="?", choices=ROLES, help=f"default: ${ROLE_ENV}")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds")
    args = parser.parse_args(argv)
    try:
        role = resolve_role(args.role)
        if role is None:
            print("healthy: no Dagster service in this container (a run worker)")
            return 0
        print(f"healthy {role}: {CHECKS[role](args.timeout)}")
        return 0
    except HealthCheckError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
