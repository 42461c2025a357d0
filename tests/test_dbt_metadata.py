"""The metadata fetching of dbt assets waits for dbt's events instead of spinning a core."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from dagster_dbt.core import dbt_event_iterator

from data_platform.dbt_metadata import blocking_imap, use_blocking_imap


def slow_items(count: int, pause: float, fail_at: int | None = None):
    for item in range(count):
        time.sleep(pause)
        if item == fail_at:
            raise ValueError(f"input broke at {item}")
        yield item


def test_results_come_in_input_order_while_the_input_is_read():
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(blocking_imap(pool, slow_items(6, 0.01), lambda item: item * 10))
    assert results == [0, 10, 20, 30, 40, 50]


def test_errors_of_the_function_and_of_the_input_are_raised():
    def func(item):
        if item == 2:
            raise KeyError(item)
        return item

    with ThreadPoolExecutor(max_workers=2) as pool:
        mapped = blocking_imap(pool, slow_items(5, 0), func)
        assert [next(mapped), next(mapped)] == [0, 1]
        with pytest.raises(KeyError):
            next(mapped)
    with ThreadPoolExecutor(max_workers=2) as pool:
        mapped = blocking_imap(pool, slow_items(5, 0, fail_at=3), lambda item: item)
        assert [next(mapped) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(ValueError, match="input broke at 3"):
            next(mapped)


def test_waiting_for_a_slow_input_costs_no_cpu():
    # Dagster 1.13's own imap polls with no wait: its consumer uses about 1 s of CPU here.
    with ThreadPoolExecutor(max_workers=2) as pool:
        mapped = blocking_imap(pool, slow_items(2, 0.5), lambda item: item)
        consumer_cpu = time.thread_time()
        assert list(mapped) == [0, 1]
        consumer_cpu = time.thread_time() - consumer_cpu
    assert consumer_cpu < 0.2, f"the consumer thread used {consumer_cpu:.2f} s of CPU"


def test_dagster_dbt_maps_its_events_with_the_blocking_imap():
    use_blocking_imap()
    assert dbt_event_iterator.imap is blocking_imap
