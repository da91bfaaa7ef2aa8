"""Call an endpoint with an image and get typed predictions back.

The image is cleaned first (upright, RGB, no metadata, resized as the endpoint's model resizes it: see
:mod:`helpers.images`) and sent as JSON ``{"inputs": <base64 WebP>, "parameters": {"top_k": K}}`` — the
Hugging Face toolkit's format that can carry ``top_k``. Which model an endpoint runs comes from the state
file (the remembered endpoint) or from SageMaker, and its geometry from the model registry. Transient
failures (throttling, 5xx, timeouts, cold starts) are retried with exponential backoff and jitter inside a
bounded total time; everything else becomes one clear line. :func:`classify_many` keeps a few calls in flight.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from . import images, models, state
from .core import aws
from .core.concurrency import check_concurrency, map_in_order
from .core.config import DEFAULT_SERVERLESS_CONCURRENCY, DEFAULT_TOP_K
from .core.errors import (
    BadInputError,
    CredentialsError,
    DermAssistError,
    EndpointNotFoundError,
    EndpointNotReadyError,
    explain_aws_error,
    is_transient,
    is_transient_model_error,
)
from .core.progress import progress_bar

RETRY_BUDGET_SECONDS = 30.0

# Calls classify_many (and monitoring.send_traffic) keep in flight. A few overlap the network round trips (about
# 100 ms each) and the preparing of the next images; a real-time endpoint queues what its model-server workers
# cannot take yet. A serverless endpoint answers at most MaxConcurrency calls at once and throttles the rest, so
# against the remembered serverless endpoint they keep the pack's MaxConcurrency in flight (default_concurrency).
# Throttling is still retried with backoff, per call. The upper limit is MAX_CONCURRENCY (helpers.core.concurrency).
DEFAULT_CONCURRENCY = 8
# What stops a whole batch with its one-line error, instead of being noted for one image: every other image would
# fail the same way (a missing or not-ready endpoint, refused credentials).
STOPS_A_BATCH = (EndpointNotFoundError, EndpointNotReadyError, CredentialsError)

# A first call counts as a cold start when it is this many times the warm median and at least this much
# slower: a serverless endpoint scaling up from zero starts the container and loads the model (seconds);
# a new HTTPS connection or the first request through a warm model costs a few hundred milliseconds.
COLD_START_FACTOR = 3.0
COLD_START_MIN_EXTRA_MS = 750.0

_last_call: dict[str, float] = {}  # endpoint -> when this kernel last had an answer from it (epoch seconds)
_endpoint_models: dict[str, str | None] = {}  # endpoint -> HF_MODEL_ID, as SageMaker described it (once per kernel)
_endpoint_models_lock = threading.Lock()


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float

    def __str__(self) -> str:
        return f"{self.label} ({self.score:.0%})"


@dataclass
class Classification:
    """One image's answer from one endpoint."""

    image: str
    predictions: list[Prediction]
    endpoint: str
    latency_ms: float
    attempts: int = 1
    custom_attributes: str = ""
    sha256: str = ""

    @property
    def top(self) -> Prediction:
        return self.predictions[0]

    @property
    def is_mock(self) -> bool:
        return "mock=" in self.custom_attributes

    @property
    def stand_in(self) -> str | None:
        """Which mock stand-in answered (``recording``, ``live``, ``placeholder``, ``simulated``), None on AWS."""
        return self.attribute("stand-in")

    def attribute(self, key: str) -> str | None:
        """One ``key=value`` of the response's ``CustomAttributes`` (the mock says there what answered)."""
        for part in self.custom_attributes.split(";"):
            name, _, value = part.strip().partition("=")
            if name == key:
                return value
        return None

    def as_row(self) -> dict:
        return {
            "image": Path(self.image).name,
            "top_label": self.top.label,
            "top_score": self.top.score,
            "latency_ms": round(self.latency_ms, 1),
            "endpoint": self.endpoint,
            "stand_in": self.stand_in or "",
            "fitzpatrick": images.fitzpatrick_type(self.image) or "",
        }


@dataclass
class BatchResult:
    """A folder's worth of answers, plus what failed (the batch keeps going past failures)."""

    results: list[Classification] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)  # one per failure: 2 bad input, 1 anything else

    @property
    def only_bad_input(self) -> bool:
        """Nothing classified and every failure was the input's fault (the CLI exits with 2)."""
        return not self.results and bool(self.failures) and all(code == 2 for code in self.exit_codes)

    def table(self):
        import pandas as pd

        return pd.DataFrame([r.as_row() for r in self.results])

    def stand_in_notice(self) -> str | None:
        """One line saying which offline stand-ins answered instead of the deployed model; None when the real
        model answered (on AWS nothing sets the stand-in attributes, so this only ever speaks on the mock)."""
        answered = [r for r in self.results if r.stand_in]
        if not answered:
            return None
        from . import models

        requested = {r.attribute("requested-model") for r in answered}
        names = " and ".join(sorted(getattr(models.find(m), "name", None) or str(m) for m in requested))
        # "recorded efficientnet-lite0 on fun_images/dog.jpg" -> "recorded efficientnet-lite0": one entry per stand-in
        kinds = Counter(re.sub(r" on \S+$", "", r.attribute("note") or r.stand_in) for r in answered)
        what = "; ".join(f"{note} ({count} image{'s' if count != 1 else ''})" for note, count in kinds.items())
        return (f"[MOCK] Offline stand-ins gave these answers, not {names}: {what}. "
                f"On AWS, {names} itself answers: expect other scores, and for some images other labels.")

    def say_where_answers_come_from(self) -> None:
        """Print :meth:`stand_in_notice` when there is one (against the local mock); nothing on AWS."""
        notice = self.stand_in_notice()
        if notice:
            print(notice)

    def report_failures(self) -> str:
        if not self.failures:
            return f"All {len(self.results)} images classified."
        lines = [f"{len(self.results)} classified, {len(self.failures)} failed:"]
        lines += [f"  - {Path(name).name}: {reason}" for name, reason in self.failures]
        return "\n".join(lines)


def parse_predictions(raw: bytes) -> list[Prediction]:
    try:
        data = json.loads(raw)
        predictions = [Prediction(str(p["label"]), float(p["score"])) for p in data]
    except (ValueError, KeyError, TypeError) as exc:
        raise DermAssistError(f"The endpoint answered something that is not a list of label/score pairs ({exc}).") from None
    if not predictions:
        raise DermAssistError("The endpoint answered with no predictions.")
    return sorted(predictions, key=lambda p: p.score, reverse=True)


def request_body(payload: images.Payload, top_k: int) -> bytes:
    """The JSON the pack sends: the Hugging Face toolkit's base64 ``inputs`` plus ``top_k``."""
    return json.dumps({"inputs": base64.b64encode(payload.body).decode("ascii"), "parameters": {"top_k": top_k}}).encode()


def invoke_with_retries(
    call: Callable[[], dict],
    *,
    action: str,
    budget_seconds: float = RETRY_BUDGET_SECONDS,
    base_delay: float = 0.2,
    max_delay: float = 4.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> tuple[dict, int]:
    """Run ``call`` until it succeeds, retrying transient errors with full-jitter backoff within ``budget_seconds``.

    Returns the result and the number of requests it took, counting the quick retry botocore makes itself.
    """
    rng = rng or random.Random()
    start, attempt, requests = time.monotonic(), 0, 0
    while True:
        attempt += 1
        try:
            result = call()
            return result, requests + 1 + _botocore_retries(result)
        except aws.ERRORS as exc:  # anything else is a bug in the pack, not an answer from SageMaker
            requests += 1 + _botocore_retries(getattr(exc, "response", None))
            transient = is_transient(exc) or _transient_model_error(exc)
            delay = rng.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1)))
            if not transient or time.monotonic() - start + delay > budget_seconds:
                error = explain_aws_error(exc, action=action)
                if transient:
                    error = type(error)(f"{error} (gave up after {requests} attempts in {time.monotonic() - start:.0f} s)")
                raise error from None
            sleep(delay)


_transient_model_error = is_transient_model_error


def _botocore_retries(response) -> int:
    """How many times botocore retried inside one call (``ResponseMetadata.RetryAttempts``)."""
    metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    try:
        return int(metadata.get("RetryAttempts", 0) or 0)
    except (TypeError, ValueError):
        return 0


def endpoint_model(endpoint: str, work_dir=None) -> models.ModelSpec | None:
    """The registry's spec of the model behind ``endpoint``, or None when the registry does not know it.

    The remembered endpoint's model comes from the state file (kept current by deploy and swap); any other
    endpoint is described once per kernel (its tags, else its Model's ``HF_MODEL_ID``). An endpoint that
    cannot be described gives None, and the invoke that follows says what is wrong with it.
    """
    remembered = state.load_state(work_dir)
    if remembered.get("endpoint_name") == endpoint and remembered.get("model_id"):
        return models.find(remembered["model_id"])
    with _endpoint_models_lock:
        if endpoint not in _endpoint_models:
            from .endpoint import describe

            try:
                _endpoint_models[endpoint] = describe(endpoint).model_id
            except DermAssistError:  # not found, no permission: nothing cached; the invoke reports it
                return None
        return models.find(_endpoint_models[endpoint])


def payload_for(image: images.ImageSource, endpoint: str, work_dir=None) -> images.Payload:
    """``image`` cleaned and resized for the model behind ``endpoint`` (see :func:`helpers.images.prepare_payload`)."""
    spec = endpoint_model(endpoint, work_dir)
    return images.prepare_payload(image, spec.geometry if spec else None)


def classify(
    image: images.ImageSource,
    endpoint: str | None = None,
    top_k: int = DEFAULT_TOP_K,
    *,
    work_dir=None,
    budget_seconds: float = RETRY_BUDGET_SECONDS,
    inference_id: str | None = None,
) -> Classification:
    """Classify one image (a path, bytes or a PIL image) on ``endpoint`` (default: the remembered one).

    ``inference_id`` is sent as InvokeEndpoint's ``InferenceId``: Data Capture writes it next to the
    captured answer, so requests can be grouped later without storing anything about the image.
    """
    name = str(image) if isinstance(image, (str, os.PathLike)) else "image"
    endpoint = endpoint or state.current_endpoint(work_dir)
    return classify_payload(payload_for(image, endpoint, work_dir), endpoint, top_k, name=name, work_dir=work_dir,
                            budget_seconds=budget_seconds, inference_id=inference_id)


def classify_payload(
    payload: images.Payload,
    endpoint: str | None = None,
    top_k: int = DEFAULT_TOP_K,
    *,
    name: str = "image",
    work_dir=None,
    budget_seconds: float = RETRY_BUDGET_SECONDS,
    inference_id: str | None = None,
) -> Classification:
    """:func:`classify` for an image already cleaned by :func:`helpers.images.prepare_payload` (or :func:`payload_for`)."""
    if not isinstance(top_k, int) or top_k < 1:
        raise BadInputError(f"top_k must be a whole number of 1 or more, not {top_k!r}.")
    endpoint = endpoint or state.current_endpoint(work_dir)
    body = request_body(payload, top_k)
    runtime = aws.runtime()
    extra = {"InferenceId": inference_id} if inference_id else {}
    started = time.perf_counter()
    try:
        response, attempts = invoke_with_retries(
            lambda: runtime.invoke_endpoint(
                EndpointName=endpoint, Body=body, ContentType="application/json", Accept="application/json", **extra
            ),
            action=f"Classifying {Path(name).name} on {endpoint}",
            budget_seconds=budget_seconds,
        )
    except (EndpointNotFoundError, EndpointNotReadyError) as exc:
        from .endpoint import require_in_service

        require_in_service(endpoint)  # the precise line: not found (and what exists), Creating, or Failed with its reason
        raise exc from None
    latency = (time.perf_counter() - started) * 1000
    _last_call[endpoint] = time.time()
    return Classification(
        image=name,
        predictions=parse_predictions(response["Body"].read()),
        endpoint=endpoint,
        latency_ms=latency,
        attempts=attempts,
        custom_attributes=response.get("CustomAttributes", "") or "",
        sha256=images.sha256_bytes(payload.body),
    )


def default_concurrency(endpoint: str, work_dir=None) -> int:
    """Calls to keep in flight against ``endpoint``: the pack's serverless MaxConcurrency for the remembered
    serverless endpoint (more would only be throttled), else :data:`DEFAULT_CONCURRENCY`."""
    remembered = state.load_state(work_dir)
    serverless = remembered.get("endpoint_name") == endpoint and remembered.get("serverless")
    return DEFAULT_SERVERLESS_CONCURRENCY if serverless else DEFAULT_CONCURRENCY


def classify_many(
    paths: Iterable[str | os.PathLike],
    endpoint: str | None = None,
    top_k: int = DEFAULT_TOP_K,
    *,
    work_dir=None,
    progress: bool = True,
    budget_seconds: float = RETRY_BUDGET_SECONDS,
    concurrency: int | None = None,
) -> BatchResult:
    """Classify files and folders, with a progress bar; a bad image or failed call is noted and skipped.

    Up to ``concurrency`` calls are in flight at once (default :func:`default_concurrency`), each retried on
    throttling as :func:`classify` does; results and failures come back in input order. A missing or not-ready
    endpoint and refused credentials stop the batch with their one-line error: every other image would fail the same way.
    """
    endpoint = endpoint or state.current_endpoint(work_dir)
    concurrency = check_concurrency(default_concurrency(endpoint, work_dir) if concurrency is None else concurrency)
    files = images.expand_paths(paths)
    if not files:
        raise BadInputError(f"No images found in {', '.join(map(str, paths))}. Add JPEG or PNG files, or check the folder name.")
    spec = endpoint_model(endpoint, work_dir)
    geometry = spec.geometry if spec else None

    def one(path: Path) -> Classification | DermAssistError:
        try:
            payload = images.prepare_payload(path, geometry)
            return classify_payload(payload, endpoint, top_k, name=str(path), work_dir=work_dir, budget_seconds=budget_seconds)
        except STOPS_A_BATCH:
            raise  # nothing else will work either
        except DermAssistError as exc:
            return exc

    # A bounded window: images are read and encoded only as calls free up.
    with progress_bar(total=len(files), enabled=progress, desc=f"Classifying on {endpoint}", unit="image") as bar:
        outcomes = map_in_order(one, files, concurrency=concurrency, on_done=bar.update, name="classify")
    batch = BatchResult()
    for path, outcome in zip(files, outcomes):
        if isinstance(outcome, DermAssistError):
            batch.failures.append((str(path), str(outcome)))
            batch.exit_codes.append(outcome.exit_code)
        else:
            batch.results.append(outcome)
    return batch


# --- latency and cold starts, as a client sees them ---------------------------------------------------


@dataclass(frozen=True)
class ColdStartVerdict:
    """The first call against the ones after it, and how long the endpoint sat idle before it.

    Judged only from what any client can observe on AWS: its own timings and the endpoint's
    ``LastModifiedTime``. (The mock marks its simulated cold starts in a response header; nothing here
    reads it.)
    """

    first_ms: float
    warm_median_ms: float
    idle_seconds: float | None = None

    @property
    def extra_ms(self) -> float:
        return self.first_ms - self.warm_median_ms

    @property
    def likely(self) -> bool:
        return self.extra_ms >= COLD_START_MIN_EXTRA_MS and self.first_ms >= COLD_START_FACTOR * self.warm_median_ms

    def sentence(self, endpoint: str) -> str:
        idle = f" after {_duration(self.idle_seconds)} idle" if self.idle_seconds is not None else ""
        timings = f"{endpoint}: first call{idle} {self.first_ms:,.0f} ms, then a median of {self.warm_median_ms:,.0f} ms"
        if self.likely:
            return f"{timings}: {self.extra_ms / 1000:.1f} s extra on the first call, what a cold start looks like from the client."
        return f"{timings}: no cold start to see (the endpoint was already warm, or it is not serverless)."


def judge_cold_start(latencies_ms: Sequence[float], idle_seconds: float | None = None) -> ColdStartVerdict:
    """Compare the first of several consecutive calls with the median of the rest (needs at least 2)."""
    values = [float(v) for v in latencies_ms]
    if len(values) < 2:
        raise BadInputError("Judging a cold start needs at least 2 consecutive calls: the first, and one to compare it with.")
    return ColdStartVerdict(values[0], statistics.median(values[1:]), idle_seconds)


def idle_seconds(endpoint: str, now: float | None = None) -> float | None:
    """Seconds since the endpoint last changed (``LastModifiedTime``) or this kernel last called it, whichever is later."""
    try:
        changed = aws.sagemaker().describe_endpoint(EndpointName=endpoint)["LastModifiedTime"].timestamp()
    except (ClientError, BotoCoreError, KeyError):  # unknown endpoint, no permission: nothing said about idle time
        changed = None
    known = [t for t in (changed, _last_call.get(endpoint)) if t is not None]
    return max(0.0, (now or time.time()) - max(known)) if known else None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
