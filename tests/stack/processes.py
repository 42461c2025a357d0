"""The servers that the tests start as processes: a free port, waiting for an answer, stopping.

Shared by the process stack, Azurite, the dbt docs site and ``make dev``.
"""

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Wait until ``url`` answers HTTP 200.

    Args:
        url: the address polled every second.
        process: the process serving it.
        log: that process's output (quoted when it exits).
        timeout: seconds.

    Raises:
        RuntimeError: the process serving it exited first (its log's tail is in the message).
        TimeoutError: no answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a process: SIGTERM, then SIGKILL after ``timeout`` seconds; wait for its end."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
