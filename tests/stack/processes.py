"""The servers and tools the tests run as processes: a free port, an answer, a stop, an install.

Shared by the process stack, Azurite, the dbt docs site, ``make dev`` and gitlab-ci-local. The
tools published on npm (Azurite, gitlab-ci-local) are installed into ``.local/`` on first use.
"""

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from filelock import FileLock

T = TypeVar("T")


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(ready: Callable[[], T], timeout: float, what: str, *,
               process: subprocess.Popen | None = None, log: Path | None = None,
               interval: float = 1) -> T:  # fmt: skip
    """Call ``ready`` every ``interval`` seconds until it returns a true value; return that value.

    The one polling loop of the harness (servers, code locations, runs, the Docker engine).

    Raises:
        RuntimeError: ``process``, which ``ready`` waits for, exited first (``log``'s tail quoted).
        TimeoutError: ``what`` is not ready after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{tail}")
        if result := ready():
            return result
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready within {timeout:g} s")


def http_status(url: str) -> int | None:
    """Return the HTTP status ``url`` answers with, ``None`` when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_for_http(
    url: str, process: subprocess.Popen, log: Path, timeout: float, statuses=(200,)
) -> None:
    """Wait until ``url`` answers with one of the HTTP ``statuses`` (see :func:`wait_until`)."""
    wait_until(lambda: http_status(url) in statuses, timeout, url, process=process, log=log)


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a process: SIGTERM, then SIGKILL after ``timeout`` seconds; wait for its end."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class NodeToolUnavailable(RuntimeError):
    """A tool run on node cannot be installed or started here (no node/npm, no registry)."""


def npm_executable(prefix: Path, package: str, version: str, binary: str) -> Path:
    """Return the executable ``binary`` of ``package@version``, which npm installs under
    ``prefix`` when missing, one install at a time (a file lock beside ``prefix``).

    Raises:
        NodeToolUnavailable: node (or npm, to install) is missing, or ``npm install`` fails.
    """
    executable = prefix / "node_modules" / ".bin" / binary
    manifest = prefix / "node_modules" / package / "package.json"
    prefix.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{prefix}.lock"):
        installed = executable.exists() and json.loads(manifest.read_text())["version"] == version
        needed = ("node",) if installed else ("node", "npm")
        missing = [tool for tool in needed if not shutil.which(tool)]
        if missing:
            raise NodeToolUnavailable(
                f"{package} needs {' and '.join(missing)} (apt-get install nodejs npm)"
            )
        if installed:
            return executable
        install = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
             f"{package}@{version}"], capture_output=True, text=True, check=False,
        )  # fmt: skip
        if install.returncode != 0 or not executable.exists():
            raise NodeToolUnavailable(f"npm install {package} failed: {install.stderr[-1500:]}")
        return executable
