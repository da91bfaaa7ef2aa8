"""Batch Transform in the mock: jobs that read S3, answer with the model's stand-in and write S3, as SageMaker does.

moto records a ``CreateTransformJob`` as ``Completed`` at once and touches no data. Here a job instead:

1. refuses a model that does not exist (``ValidationException`` "Could not find model ...", as SageMaker does);
2. starts ``InProgress`` and, after a short start-up (SageMaker starts instances for the job), reads every
   object under the input ``S3Uri`` prefix (``S3DataType`` ``S3Prefix``);
3. sends each object (``SplitType`` ``None``: the whole object is one request; ``Line``: one request per line)
   with the job's ``ContentType`` through the same toolkit decoding and stand-in as ``InvokeEndpoint``;
4. writes ``<S3OutputPath>/<input key relative to the prefix>.out`` for every object that succeeded (records
   joined with a newline when ``AssembleWith`` is ``Line``) — the documented layout;
5. ends ``Completed``, or ``Failed`` with a ``FailureReason`` when any object failed or there was no input
   (outputs of the objects that succeeded stay, as on AWS).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from . import toolkit

OUT_SUFFIX = ".out"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b/`` -> ``("bucket", "a/b/")``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def output_key(input_prefix: str, input_key: str, output_prefix: str) -> str:
    """Where SageMaker writes the result of one input object: the key relative to the input prefix, + ``.out``."""
    relative = input_key[len(input_prefix):].lstrip("/") if input_key.startswith(input_prefix) else input_key.rsplit("/", 1)[-1]
    base = output_prefix.rstrip("/")
    return f"{base}/{relative}{OUT_SUFFIX}" if base else f"{relative}{OUT_SUFFIX}"


def _s3(account_id: str):
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]


@dataclass
class JobRun:
    """One transform job's work, run on its own thread."""

    job: object  # moto's FakeTransformJob
    model_id: str
    account_id: str
    answer: object  # (model_id, body, content_type) -> list of predictions; raises toolkit.ContainerError
    startup_seconds: float

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"transform-{self.job.transform_job_name}", daemon=True)
        thread.start()
        return thread

    def _finish(self, status: str, reason: str = "") -> None:
        from .server import _utcnow

        now = _utcnow()
        self.job.transform_job_status = status
        self.job.failure_reason = reason or None
        self.job.transform_end_time = now
        self.job.last_modified_time = now

    def run(self) -> None:
        try:
            time.sleep(self.startup_seconds)
            self._run()
        except Exception as exc:  # noqa: BLE001  a bug in the mock is a failed job with a reason, never a silent hang
            self._finish("Failed", f"InternalServerError: mock transform failed: {type(exc).__name__}: {exc}")

    def _run(self) -> None:
        from moto.s3.exceptions import MissingBucket  # moto is the mock extra's: imported when a job runs

        source = (self.job.transform_input or {}).get("DataSource", {}).get("S3DataSource", {})
        uri = source.get("S3Uri", "")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            self._finish("Failed", f"ClientError: the local mock reads S3DataType S3Prefix only, not {source.get('S3DataType')}.")
            return
        bucket_name, prefix = split_s3_uri(uri)
        out_bucket, out_prefix = split_s3_uri((self.job.transform_output or {}).get("S3OutputPath", ""))
        s3 = _s3(self.account_id)
        try:
            bucket = s3.get_bucket(bucket_name)
            keys = sorted(k for k in bucket.keys.keys() if k.startswith(prefix) and not k.endswith("/"))
        except MissingBucket:  # SageMaker reports no input, not a missing bucket
            keys = []
        if not keys:
            self._finish("Failed", f"ClientError: No S3 objects found under S3 URL \"{uri}\" given in input data source. "
                                   "Please ensure that the bucket exists in the selected region, that objects exist "
                                   "under that S3 prefix, and that the role has \"s3:ListBucket\" permissions on bucket "
                                   f"\"{bucket_name}\".")
            return
        content_type = (self.job.transform_input or {}).get("ContentType", "application/octet-stream")
        split = (self.job.transform_input or {}).get("SplitType", "None")
        assemble = (self.job.transform_output or {}).get("AssembleWith", "None")
        limit = int(self.job.max_payload_in_mb or 6) * 1024 * 1024
        failures = []
        for key in keys:
            body = s3.get_object(bucket_name, key).value
            records = [line for line in body.split(b"\n") if line.strip()] if split == "Line" else [body]
            try:
                answers = []
                for record in records:
                    if len(record) > limit:
                        raise toolkit.ContainerError(f"record of {len(record)} bytes exceeds MaxPayloadInMB")
                    answers.append(json.dumps(self.answer(self.model_id, record, content_type)).encode())
            except toolkit.ContainerError as exc:
                failures.append(f"{key}: {exc}")
                continue
            out = (b"\n" if assemble == "Line" else b"").join(answers)
            s3.put_object(out_bucket, output_key(prefix, key, out_prefix), out)
        if failures:
            self._finish("Failed", f"ClientError: {len(failures)} of {len(keys)} input objects failed; first: "
                                   f"{failures[0]}. See the job's logs for more information.")
        else:
            self._finish("Completed")
