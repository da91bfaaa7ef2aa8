"""The bounded window every batch of endpoint calls runs in: a few calls at once, answers in input order."""

from __future__ import annotations

import threading
import time

import pytest

from helpers.core.concurrency import MAX_CONCURRENCY, map_in_order
from helpers.core.errors import BadInputError


class SlowCall:
    """Waits a little (later items less, so they finish first) and notes how many calls overlap."""

    def __init__(self, fail_at: int | None = None):
        self.lock = threading.Lock()
        self.in_flight = self.most = 0
        self.started: list[int] = []
        self.threads: set[str] = set()
        self.fail_at = fail_at

    def __call__(self, item: int) -> int:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.started.append(item)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.05 - 0.002 * (item % 10))
            if item == self.fail_at:
                raise RuntimeError(f"call {item} failed")
            return item * item
        finally:
            with self.lock:
                self.in_flight -= 1


def test_calls_overlap_up_to_the_limit_and_answers_keep_input_order():
    call, done = SlowCall(), []
    assert map_in_order(call, range(20), concurrency=4, on_done=lambda: done.append(1)) == [i * i for i in range(20)]
    assert 1 < call.most <= 4
    assert len(done) == 20 and sorted(call.started) == list(range(20))


def test_one_at_a_time_runs_in_the_callers_thread():
    call = SlowCall()
    assert map_in_order(call, range(5), concurrency=1) == [0, 1, 4, 9, 16]
    assert call.most == 1 and call.threads == {threading.current_thread().name}


def test_the_input_is_read_only_as_calls_free_up():
    call, finished, ahead = SlowCall(), [], []

    def items():
        for i in range(12):
            ahead.append(i + 1 - len(finished))  # items taken but not answered yet, this one included
            yield i

    assert map_in_order(call, items(), concurrency=3, on_done=lambda: finished.append(1)) == [i * i for i in range(12)]
    assert max(ahead) == 3


def test_an_error_stops_the_run_and_is_raised():
    call = SlowCall(fail_at=3)
    with pytest.raises(RuntimeError, match="call 3 failed"):
        map_in_order(call, range(40), concurrency=4)
    assert len(call.started) <= 4 + 4  # the first window, and at most one new call per call that ended before it


@pytest.mark.parametrize("bad", [0, MAX_CONCURRENCY + 1, True, 2.5, "4"])
def test_concurrency_is_a_small_whole_number(bad):
    with pytest.raises(BadInputError, match=f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}") as info:
        map_in_order(SlowCall(), range(3), concurrency=bad)
    assert "\n" not in str(info.value)


def test_a_client_asked_for_from_many_threads_at_once_is_made_once(monkeypatch):
    """Batches ask for the runtime client from their threads; making a boto3 client is not thread-safe."""
    import functools

    from helpers.core import aws

    made = []

    @functools.cache
    def slow_client(*key):
        made.append(key)
        time.sleep(0.05)  # long enough for every thread to miss the cache at once, were nothing holding them
        return object()

    monkeypatch.setattr(aws, "_cached_client", slow_client)
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    clients = map_in_order(lambda _: aws.runtime(), range(8), concurrency=8)
    assert len(made) == 1 and all(c is clients[0] for c in clients)
