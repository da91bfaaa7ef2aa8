"""A few calls in flight at once, answers in input order: endpoint batches, traffic and explanations.

An endpoint call spends its time waiting on the network (and, when throttled, in back-off), so a handful of
threads overlap those waits. The window is bounded: an item is taken from the input only when a call frees
up, so a lazy input (images prepared as they are sent) is never read more than ``concurrency`` items ahead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import TypeVar

from .errors import BadInputError

MAX_CONCURRENCY = 16  # more threads only queue on the endpoint, or get throttled

Item = TypeVar("Item")
Result = TypeVar("Result")


def check_concurrency(concurrency) -> int:
    """``concurrency`` if it is a whole number from 1 to :data:`MAX_CONCURRENCY`, else a one-line error."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise BadInputError(f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {concurrency!r}.")
    return concurrency


def map_in_order(call: Callable[[Item], Result], items: Iterable[Item], *, concurrency: int,
                 on_done: Callable[[], object] | None = None, name: str = "call") -> list[Result]:
    """``[call(item) for item in items]`` with up to ``concurrency`` calls running at once, results in input order.

    ``on_done()`` runs in the caller's thread after each call that returned (a progress bar's ``update``).
    The first exception a call raises stops the run: no new call starts, and it is re-raised once the calls
    already running have finished. With ``concurrency=1`` every call runs in the caller's thread, one by one.
    """
    check_concurrency(concurrency)
    if concurrency == 1:
        results = []
        for item in items:
            results.append(call(item))
            if on_done:
                on_done()
        return results
    answers: dict[int, Result] = {}
    waiting = iter(enumerate(items))
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=name) as pool:
        running: dict = {}  # future -> index of its item

        def submit_next() -> None:
            for index, item in waiting:
                running[pool.submit(call, item)] = index
                return

        try:
            for _ in range(concurrency):
                submit_next()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    answers[running.pop(future)] = future.result()
                    if on_done:
                        on_done()
                    submit_next()
        except BaseException:  # a call's error, or an interrupt while waiting: start nothing more
            for future in running:
                future.cancel()
            raise
    return [answers[index] for index in range(len(answers))]
