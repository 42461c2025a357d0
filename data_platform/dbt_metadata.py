"""Row counts and column metadata of dbt models without a CPU core spinning while dbt runs.

dagster-dbt attaches the row counts and column schemas of the built models
(``DbtEventIterator.fetch_row_counts()`` and ``.fetch_column_metadata()``) by mapping a function
over dbt's event stream with ``dagster._core.utils.imap``. In Dagster 1.13 that generator polls
in a loop with no wait while the stream has no event yet (``enqueuing_task.done()`` again and
again while dbt works), so each dbt step keeps one core busy for as long as dbt runs: a third
of the CPU of building the platform's real data (measured with py-spy on
``tests/platform_build.py``: 2,505 of 7,620 samples in that loop). On DuckDB the metadata is
only fetched once dbt has exited (DuckDB allows one writer), so the loop spins through the whole
build.

:func:`use_blocking_imap` gives dagster-dbt an ``imap`` with the same contract (results in the
order of the input, the map function's errors raised at their item, the input's error raised
after the last item) that blocks on a queue instead. No library offers this: it is a fix of
Dagster's own helper, to drop once Dagster's ``imap`` waits instead of polling (checked at each
upgrade by ``tests/test_dbt_metadata.py``, which fails if dagster-dbt no longer uses ``imap``).
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def blocking_imap(
    executor: ThreadPoolExecutor, iterable: Iterator[T], func: Callable[[T], R]
) -> Iterator[R]:
    """Map ``func`` over ``iterable`` on ``executor`` while the input is still being produced.

    Args:
        executor: the pool; one of its threads reads the input, the others run ``func``.
        iterable: the input, read in a thread of the pool (e.g. dbt's event stream).
        func: applied to each item in a thread of the pool.

    Returns:
        An iterator over ``func(item)``, in the order of the input; it blocks (no polling) until
        the next result is ready.

    Raises:
        Exception: what ``func`` raised for an item, when that item's result is reached; what
            the input raised, after the results of the items read before.
    """
    futures: queue.Queue[Future[R] | None] = queue.Queue()

    def read_input() -> None:
        try:
            for item in iterable:
                futures.put(executor.submit(func, item))
        finally:
            futures.put(None)

    reader = executor.submit(read_input)
    while (future := futures.get()) is not None:
        yield future.result()
    reader.result()


def use_blocking_imap() -> None:
    """Make dagster-dbt's metadata fetching use :func:`blocking_imap` (idempotent).

    Called by the dbt assets right before dbt is invoked (at run time, never at import).

    Raises:
        RuntimeError: dagster-dbt no longer maps its events with ``imap`` (this fix must be
            reviewed against the new version).
    """
    from dagster_dbt.core import dbt_event_iterator

    if not hasattr(dbt_event_iterator, "imap"):
        raise RuntimeError(
            "dagster_dbt.core.dbt_event_iterator has no `imap` any more: review"
            " data_platform/dbt_metadata.py against this dagster-dbt version"
        )
    dbt_event_iterator.imap = blocking_imap
