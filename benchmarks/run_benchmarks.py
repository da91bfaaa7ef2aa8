"""Figures for the pack's speed and size targets (printed, not asserted).

- payload size per shipped image after cleaning (target: far below SageMaker's 6 MB limit);
- invocation latency against the local mock (median and 95th percentile);
- wall time of every notebook and of the whole run (target: all notebooks under 60 s on 2 cores).

Run with `make benchmark`.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's helpers, even where another one is installed

from helpers import classify, endpoint, images, models, state  # noqa: E402
from helpers.coach import runner  # noqa: E402
from helpers.core.config import FUN_IMAGES_DIR, SKIN_PROXIES_DIR  # noqa: E402
from helpers.mock import MockServer  # noqa: E402


def payloads() -> None:
    print(f"Payload sent per image to {models.DEFAULT.name} (metadata stripped, {models.DEFAULT.geometry.describe()}, lossless):")
    sizes = []
    for path in images.list_images(FUN_IMAGES_DIR) + images.list_images(SKIN_PROXIES_DIR)[:3]:
        started = time.perf_counter()
        payload = images.prepare_payload(path, models.DEFAULT.geometry)
        sizes.append(len(payload.body))
        print(f"  {path.name:<45} file {path.stat().st_size / 1024:7.0f} kB -> sent {len(payload.body) / 1024:6.0f} kB "
              f"({payload.width}x{payload.height}) in {1000 * (time.perf_counter() - started):5.1f} ms")
    print(f"  largest payload: {max(sizes) / 1024:.0f} kB = {max(sizes) / (6 * 1024 * 1024):.1%} of the 6 MB limit")


def latency(calls: int = 40) -> None:
    with MockServer() as mock:
        os.environ.update(mock.environment())
        os.environ["DERM_ASSIST_WORK_DIR"] = str(REPO / "build" / "benchmark-work")
        os.environ.setdefault("DERM_ASSIST_OWNER", "benchmark")  # the mock's identity (moto) is nobody's
        info = endpoint.deploy(progress=False)
        state.remember_endpoint(info.name, info.model_id)
        dog = FUN_IMAGES_DIR / "dog.jpg"
        classify.classify(dog)  # warm up
        times = [classify.classify(dog).latency_ms for _ in range(calls)]
        endpoint.delete_endpoint(info.name)
    times.sort()
    print(f"Invocation latency against the mock ({calls} calls, dog.jpg, recording stand-in): "
          f"median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times)) - 1]:.1f} ms")


def notebooks() -> None:
    started = time.perf_counter()
    runs = runner.run_all(REPO / "build" / "benchmark", report=False)
    total = time.perf_counter() - started
    executing = sum(r.seconds for r in runs)
    print(f"Notebooks: {len(runs)} executions, {executing:.1f} s executing, {total:.1f} s wall time "
          f"(target: under 60 s) -> {'met' if executing < 60 else 'NOT met'}")


if __name__ == "__main__":
    payloads()
    latency()
    notebooks()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak memory of the benchmark process (mock + stand-ins): {peak:.0f} MB")
