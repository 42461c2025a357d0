"""A run's step process and its dbt end with the run worker that started them.

Dagster's multiprocess executor runs each step in a child process of the run worker, and the
dbt step starts ``dbt build`` as a child of its own (``DbtCliResource`` uses
:class:`subprocess.Popen`). When the run worker dies (``kill -9``, out of memory, a lost
container), nothing stops them: the step lives on with parent PID 1 and its dbt keeps writing to
the location's DuckDB file, holding its lock, so the run's retry fails with ``Could not set
lock``. Two stock mechanisms close that gap:

- Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG)``, see ``man 2 prctl``): the kernel
  sends the step process ``SIGINT`` when the run worker ends, which is how Dagster interrupts a
  step (``DagsterExecutionInterruptedError``); dagster-dbt then forwards ``SIGINT`` to dbt,
  which cancels its queries and exits;
- :func:`ending_with_step` kills dbt if it is still running when the step leaves its events
  (interrupted, failed, or dbt deaf to ``SIGINT`` past dagster-dbt's termination timeout).
"""

import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def end_with_run_worker() -> bool:
    """Ask the kernel to interrupt this step process (``SIGINT``) when its run worker ends.

    A no-op, returning ``False``, outside a step process of the multiprocess executor (in-process
    execution in tests, ``dg.materialize``: the process is the caller's own) and off Linux.

    Returns:
        Whether the parent-death signal is set.

    Raises:
        OSError: ``prctl`` refused (errno in the error).
        KeyboardInterrupt: the run worker had already ended (this process was re-parented).
    """
    parent = multiprocessing.parent_process()
    if not sys.platform.startswith("linux") or parent is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != parent.pid:  # the run worker died before the signal was armed
        raise KeyboardInterrupt(f"run worker {parent.pid} ended before step {os.getpid()} started")
    return True


@contextmanager
def ending_with_step(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Kill ``process`` (dbt) if it still runs when the block ends, however it ends.

    Args:
        process: the child process of the step, e.g. ``DbtCliInvocation.process``.

    Yields:
        ``process``.
    """
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
