"""Call an endpoint with an image and get typed predictions back.

The image is cleaned first (upright, RGB, no metadata, downscaled: see :mod:`helpers.images`) and sent
as JSON ``{"inputs": <base64 JPEG>, "parameters": {"top_k": K}}`` — the Hugging Face toolkit's format
that can carry ``top_k``. Transient failures (throttling, 5xx, timeouts, cold starts) are retried with
exponential backoff and jitter inside a bounded total time; everything else becomes one clear line.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import images, state
from .core import aws
from .core.config import DEFAULT_TOP_K
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
        for part in self.custom_attributes.split(";"):
            key, _, value = part.strip().partition("=")
            if key == "stand-in":
                return value
        return None

    @property
    def cold_start(self) -> bool:
        return "cold-start=true" in self.custom_attributes

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


def _request_body(payload: images.Payload, top_k: int) -> bytes:
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
        except Exception as exc:
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


def classify(
    image: images.ImageSource,
    endpoint: str | None = None,
    top_k: int = DEFAULT_TOP_K,
    *,
    work_dir=None,
    budget_seconds: float = RETRY_BUDGET_SECONDS,
) -> Classification:
    """Classify one image (a path, bytes or a PIL image) on ``endpoint`` (default: the remembered one)."""
    if not isinstance(top_k, int) or top_k < 1:
        raise BadInputError(f"top_k must be a whole number of 1 or more, not {top_k!r}.")
    endpoint = endpoint or state.current_endpoint(work_dir)
    name = str(image) if isinstance(image, (str, os.PathLike)) else "image"
    payload = images.prepare_payload(image)
    body = _request_body(payload, top_k)
    runtime = aws.runtime()
    started = time.perf_counter()
    try:
        response, attempts = invoke_with_retries(
            lambda: runtime.invoke_endpoint(
                EndpointName=endpoint, Body=body, ContentType="application/json", Accept="application/json"
            ),
            action=f"Classifying {Path(name).name} on {endpoint}",
            budget_seconds=budget_seconds,
        )
    except (EndpointNotFoundError, EndpointNotReadyError) as exc:
        from .endpoint import require_in_service

        require_in_service(endpoint)  # the precise line: not found (and what exists), Creating, or Failed with its reason
        raise exc from None
    latency = (time.perf_counter() - started) * 1000
    return Classification(
        image=name,
        predictions=parse_predictions(response["Body"].read()),
        endpoint=endpoint,
        latency_ms=latency,
        attempts=attempts,
        custom_attributes=response.get("CustomAttributes", "") or "",
        sha256=images.sha256_bytes(payload.body),
    )


def classify_many(
    paths: Iterable[str | os.PathLike],
    endpoint: str | None = None,
    top_k: int = DEFAULT_TOP_K,
    *,
    work_dir=None,
    progress: bool = True,
    budget_seconds: float = RETRY_BUDGET_SECONDS,
) -> BatchResult:
    """Classify files and folders, with a progress bar; a bad image or failed call is noted and skipped.

    A missing or not-ready endpoint and refused credentials stop the batch with their one-line error:
    every other image would fail the same way.
    """
    endpoint = endpoint or state.current_endpoint(work_dir)
    files = images.expand_paths(paths)
    if not files:
        raise BadInputError(f"No images found in {', '.join(map(str, paths))}. Add JPEG or PNG files, or check the folder name.")
    batch = BatchResult()
    for path in progress_bar(files, enabled=progress, desc=f"Classifying on {endpoint}", unit="image"):
        try:
            batch.results.append(classify(path, endpoint, top_k, budget_seconds=budget_seconds))
        except (EndpointNotFoundError, EndpointNotReadyError, CredentialsError):
            raise  # nothing else will work either
        except DermAssistError as exc:
            batch.failures.append((str(path), str(exc)))
            batch.exit_codes.append(exc.exit_code)
    return batch
