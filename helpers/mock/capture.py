"""Data Capture in the mock, written the way SageMaker writes it.

For an endpoint whose EndpointConfig has a ``DataCaptureConfig`` with ``EnableCapture``, every successful
invocation is sampled (``InitialSamplingPercentage``) and written as one JSON line to moto's S3 under
SageMaker's documented layout ("Capture data from real-time endpoint", Amazon SageMaker developer guide)::

    <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<mmm>-<uuid>.jsonl

Each line::

    {"captureData": {"endpointInput":  {"observedContentType": ..., "mode": "INPUT",  "data": ..., "encoding": ...},
                     "endpointOutput": {"observedContentType": ..., "mode": "OUTPUT", "data": ..., "encoding": ...}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "<the caller's InferenceId, if any>",
                       "inferenceTime": "2026-11-24T10:15:02Z"},
     "eventVersion": "0"}

Only the modes listed in ``CaptureOptions`` appear. ``CaptureContentTypeHeader`` decides the encoding:
a content type in ``CsvContentTypes`` is kept as text with encoding ``CSV``, one in ``JsonContentTypes`` as
text with encoding ``JSON``; anything else (and everything when the header is absent, as the API reference
says) is base64 with encoding ``BASE64``. Parameters such as ``; charset=utf-8`` do not change the match.

SageMaker buffers records and delivers a file every few minutes; the mock writes at once, appending to the
current file of the hour until it is ``roll_seconds`` old. A destination bucket that does not exist loses
the record (SageMaker logs an error and carries on); the mock counts it as ``capture_failed``.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

EVENT_VERSION = "0"
MODES = {"Input": ("endpointInput", "INPUT"), "Output": ("endpointOutput", "OUTPUT")}


def media_type(content_type: str | None) -> str:
    """``"text/csv; charset=utf-8"`` -> ``"text/csv"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def encoding_for(content_type: str | None, header: dict | None) -> str:
    """``CSV``, ``JSON`` or ``BASE64`` for a payload of ``content_type`` under ``CaptureContentTypeHeader``."""
    wanted = media_type(content_type)
    header = header or {}
    if wanted and wanted in {media_type(t) for t in header.get("CsvContentTypes", [])}:
        return "CSV"
    if wanted and wanted in {media_type(t) for t in header.get("JsonContentTypes", [])}:
        return "JSON"
    return "BASE64"


def encode(body: bytes, encoding: str) -> str:
    if encoding == "BASE64":
        return base64.b64encode(body).decode("ascii")
    return body.decode("utf-8", errors="replace")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> ``("bucket", "a/b")``."""
    rest = uri.split("://", 1)[-1]
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")


def capture_key(prefix: str, endpoint: str, variant: str, when: datetime, token: str) -> str:
    """Where SageMaker puts a capture file that was started at ``when``."""
    name = f"{when:%M-%S}-{when.microsecond // 1000:03d}-{token}.jsonl"
    return "/".join(p for p in (prefix, endpoint, variant, f"{when:%Y/%m/%d/%H}", name) if p)


def build_record(config: dict, request: tuple[bytes, str], response: tuple[bytes, str], inference_id: str | None,
                 when: datetime, event_id: str) -> dict:
    """One capture line for ``request`` and ``response`` (each ``(body, content type)``)."""
    header = config.get("CaptureContentTypeHeader")
    modes = {option.get("CaptureMode") for option in config.get("CaptureOptions", [])}
    data = {}
    for mode, (body, content_type) in (("Input", request), ("Output", response)):
        if mode not in modes:
            continue
        key, label = MODES[mode]
        encoding = encoding_for(content_type, header)
        data[key] = {"observedContentType": content_type, "mode": label, "data": encode(body, encoding), "encoding": encoding}
    metadata = {"eventId": event_id}
    if inference_id:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"captureData": data, "eventMetadata": metadata, "eventVersion": EVENT_VERSION}


def summary(config: dict | None) -> dict | None:
    """What DescribeEndpoint shows for a DataCaptureConfig (``DataCaptureConfigSummary``)."""
    if not config:
        return None
    enabled = bool(config.get("EnableCapture", True))
    out = {"EnableCapture": enabled, "CaptureStatus": "Started" if enabled else "Stopped",
           "CurrentSamplingPercentage": int(config.get("InitialSamplingPercentage", 0)),
           "DestinationS3Uri": config.get("DestinationS3Uri", "")}
    if config.get("KmsKeyId"):
        out["KmsKeyId"] = config["KmsKeyId"]
    return out


@dataclass
class _OpenFile:
    key: str
    hour: str
    opened: float
    lines: list[str] = field(default_factory=list)


class CaptureWriter:
    """Samples invocations and appends their capture lines to S3 objects in moto's backend."""

    def __init__(self, account_id: str, seed: int = 7, roll_seconds: float = 60.0):
        self.account_id = account_id
        self.roll_seconds = roll_seconds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.files: dict[tuple[str, str], _OpenFile] = {}
        self.written = 0
        self.failed = 0

    def reset(self) -> None:
        with self.lock:
            self.files.clear()
            self.written = self.failed = 0

    def capture(self, config: dict | None, endpoint: str, variant: str, request: tuple[bytes, str],
                response: tuple[bytes, str], inference_id: str | None = None, when: datetime | None = None) -> bool:
        """Write one record if ``config`` captures and the sample falls in; True when a line was written."""
        if not config or not config.get("EnableCapture", True):
            return False
        with self.lock:
            if self.rng.random() * 100 >= float(config.get("InitialSamplingPercentage", 0)):
                return False
        when = when or datetime.now(UTC)
        record = build_record(config, request, response, inference_id, when, str(uuid.uuid4()))
        if not record["captureData"]:
            return False
        bucket, prefix = split_s3_uri(config.get("DestinationS3Uri", ""))
        line = json.dumps(record, separators=(",", ":"))
        with self.lock:
            current = self.files.get((endpoint, variant))
            hour = f"{when:%Y%m%d%H}"
            if current is None or current.hour != hour or time.monotonic() - current.opened > self.roll_seconds:
                current = _OpenFile(capture_key(prefix, endpoint, variant, when, str(uuid.uuid4())), hour, time.monotonic())
                self.files[(endpoint, variant)] = current
            current.lines.append(line)
            body = ("\n".join(current.lines) + "\n").encode()
            from moto.s3.exceptions import S3ClientError

            try:
                _s3_backend(self.account_id).put_object(bucket, current.key, body)
            except S3ClientError:  # no such bucket (or it was deleted): SageMaker drops the record and logs it; counted
                current.lines.pop()
                self.failed += 1
                return False
            self.written += 1
            return True


def _s3_backend(account_id: str):
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]
