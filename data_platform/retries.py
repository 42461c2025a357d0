"""Retries inside a run: a transient infrastructure error is retried, a data error is not.

Every asset's op carries :data:`TRANSIENT_RETRY`, Dagster's own retry policy: an exception
raised by a step (a database or lake connection lost, a timeout) makes Dagster run the step
again after a backoff. A data error would fail again the same way, so it is raised as a
``dagster.Failure(allow_retries=False)``, which bypasses the policy (:func:`final_on`): dbt's
failures (a model or an error-severity test), a raw file refused, a missing upstream mart.
A run that still fails for an infrastructure cause (its run worker lost) is retried by the
instance (``run_retries`` in ``dagster.yaml``).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
"""Two retries of a failed step, 15 s then 45 s after the failure (``(2**n - 1) * 15`` s, ±15)."""


@contextmanager
def final_on(*data_errors: type[Exception]) -> Iterator[None]:
    """Raise the ``data_errors`` raised inside as a failure that no retry policy retries.

    Raises:
        dagster.Failure: ``allow_retries=False``, with the error's message as its description
            and the error as its cause.
    """
    try:
        yield
    except data_errors as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
