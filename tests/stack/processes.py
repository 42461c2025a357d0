"""The servers that the tests start as processes: a free port, waiting for an answer, stopping.

Shared by the process stack, Azurite, the dbt docs site and ``make dev``.
"""

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(
    url: str, process: subprocess.Popen, log: Path, timeout: float, statuses=(200,)
) -> None:
    """Wait until ``url`` (polled every second) answers with one of the HTTP ``statuses``.

    Raises:
        RuntimeError: ``process``, which serves it, exited first (the tail of ``log`` is quoted).
        TimeoutError: no such answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = None
        if status in statuses:
            return
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a process: SIGTERM, then SIGKILL after ``timeout`` seconds; wait for its end."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
