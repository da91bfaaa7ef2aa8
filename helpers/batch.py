"""Batch Transform for a labelled set too large for a real-time endpoint: S3 in, a job, S3 out, the same evaluation.

The images are cleaned exactly as for a real-time call (:func:`helpers.images.prepare_payload`: upright RGB,
resized for the endpoint's model, lossless WebP, no metadata) and uploaded to the pack's own bucket, ``derm-assist-sagemaker-<account>-<region>``, under
``batch-transform/<owner>/<job>/input/``. The job runs the SageMaker Model behind the learner's endpoint, on
instances that exist only for the job, and writes ``<file>.out`` (the model's JSON answer) under ``.../output/``.
The answers then go through :func:`helpers.evaluation.score`, like real-time ones. Cleanup
(:func:`helpers.cleanup.cleanup`) removes these objects.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import endpoint, images, models
from .core import aws
from .core import owner as owner_rules
from .core.config import DEFAULT_INSTANCE_TYPE, PROJECT_TAG
from .core.errors import BadInputError, DermAssistError, error_code, explain_aws_error
from .core.progress import progress_bar

if TYPE_CHECKING:  # evaluation imports pandas; the CLI's cleanup, which needs this module, starts faster without it
    from . import evaluation

PREFIX = "batch-transform"  # every object this module writes is under this key prefix of the pack's bucket
OUT_SUFFIX = ".out"
CONTENT_TYPE = images.PAYLOAD_CONTENT_TYPE  # what prepare_payload makes of every image
DONE = ("Completed", "Failed", "Stopped")


def bucket_name() -> str:
    """The pack's bucket in this account and region, shared with Data Capture (:func:`helpers.capture.bucket_name`)."""
    from .capture import bucket_name as pack_bucket

    return pack_bucket()


def ensure_bucket(bucket: str) -> None:
    """Create the pack's bucket if it is missing: tagged with the project, no public access."""
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except aws.ERRORS as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise explain_aws_error(exc, action=f"Checking bucket {bucket}") from None
    region = aws.region()
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **extra)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": endpoint.TAG_PROJECT, "Value": PROJECT_TAG}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})


@dataclass
class TransformJob:
    name: str
    model_id: str
    model_name: str
    bucket: str
    prefix: str  # batch-transform/<owner>/<job>
    files: list[str]  # the labelled set's files, in order
    instance_type: str
    status: str = "InProgress"
    failure_reason: str | None = None
    started: datetime | None = None
    ended: datetime | None = None

    @property
    def input_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/input/"

    @property
    def output_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/output"

    def output_key(self, file: str) -> str:
        return f"{self.prefix}/output/{file}{OUT_SUFFIX}"

    @property
    def seconds(self) -> float | None:
        """How long the job ran (what its instances are billed for), once it has ended."""
        return (self.ended - self.started).total_seconds() if self.started and self.ended else None


def job_name(owner: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"derm-assist-{owner_rules.part(owner, 16)}-eval-{stamp}"[:63]


def start(labelled: evaluation.LabelledSet, endpoint_name: str, *, instance_type: str = DEFAULT_INSTANCE_TYPE,
          owner: str | None = None, progress: bool = True) -> TransformJob:
    """Upload the cleaned images and start a transform job with the model behind ``endpoint_name``."""
    info = endpoint.describe(endpoint_name)
    if not info.model_names:
        raise DermAssistError(f"Endpoint {endpoint_name} has no model to run a transform job with. Deploy it again (notebook 01).")
    owner = owner or endpoint.default_owner()
    name = job_name(owner)
    bucket = bucket_name()
    ensure_bucket(bucket)
    job = TransformJob(name, info.model_id or "unknown", info.model_names[0], bucket, f"{PREFIX}/{owner_rules.part(owner, 16)}/{name}",
                       list(labelled.items["file"]), instance_type)
    s3 = aws.client("s3")
    spec = models.find(info.model_id)
    geometry = spec.geometry if spec else None
    for file, path in progress_bar(list(zip(labelled.items["file"], labelled.paths)), enabled=progress,
                                   desc=f"Uploading to s3://{bucket}", unit="image"):
        s3.put_object(Bucket=bucket, Key=f"{job.prefix}/input/{file}", Body=images.prepare_payload(path, geometry).body,
                      ContentType=CONTENT_TYPE)
    try:
        aws.sagemaker().create_transform_job(
            TransformJobName=name,
            ModelName=job.model_name,
            MaxPayloadInMB=6,
            BatchStrategy="SingleRecord",
            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": job.input_uri}},
                            "ContentType": CONTENT_TYPE, "SplitType": "None"},
            TransformOutput={"S3OutputPath": job.output_uri, "Accept": "application/json", "AssembleWith": "None"},
            TransformResources={"InstanceType": instance_type, "InstanceCount": 1},
            Tags=endpoint.pack_tags(owner, job.model_id),
        )
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Starting transform job {name}") from None
    return job


def refresh(job: TransformJob) -> TransformJob:
    desc = aws.sagemaker().describe_transform_job(TransformJobName=job.name)
    job.status = desc["TransformJobStatus"]
    job.failure_reason = desc.get("FailureReason") or None
    job.started = desc.get("TransformStartTime") or desc.get("CreationTime")
    job.ended = desc.get("TransformEndTime") if job.status in DONE else None
    return job


def _outputs_written(job: TransformJob) -> int:
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=job.bucket, Prefix=f"{job.prefix}/output/"))


def wait(job: TransformJob, *, timeout: float = 3600, poll_seconds: float = 0.5, progress: bool = True,
         sleep: Callable[[float], None] = time.sleep) -> TransformJob:
    """Poll until the job ends, with a bar counting the answers written; one line with the reason if it failed."""
    deadline = time.monotonic() + timeout
    with progress_bar(total=len(job.files), enabled=progress, desc=f"Transform job {job.name}", unit="image") as bar:
        while True:
            refresh(job)
            done = _outputs_written(job)
            bar.update(done - bar.n)
            if job.status in DONE:
                break
            if time.monotonic() > deadline:
                raise DermAssistError(f"Transform job {job.name} is still {job.status} after {timeout:.0f} s. "
                                      "Check it in the SageMaker console (Inference > Batch transform jobs).")
            sleep(poll_seconds)
    if job.status != "Completed":
        raise DermAssistError(f"Transform job {job.name} {job.status.lower()}: {job.failure_reason or 'no reason given'}")
    return job


def read_answers(job: TransformJob) -> tuple[dict[str, tuple[str, float]], list[tuple[str, str]]]:
    """file -> (top label, score) from the ``.out`` objects; files without a readable answer as failures."""
    s3 = aws.client("s3")
    answers, failures = {}, []
    for file in job.files:
        try:
            body = s3.get_object(Bucket=job.bucket, Key=job.output_key(file))["Body"].read()
            top = max(json.loads(body), key=lambda p: float(p["score"]))
            answers[file] = (str(top["label"]), float(top["score"]))
        except (*aws.ERRORS, ValueError, KeyError, TypeError) as exc:  # missing object, or not a list of label/score
            failures.append((file, f"no answer in {job.output_key(file)} ({error_code(exc) or type(exc).__name__})"))
    return answers, failures


def evaluate(labelled: evaluation.LabelledSet, endpoint_name: str, *, instance_type: str = DEFAULT_INSTANCE_TYPE,
             progress: bool = True) -> tuple[evaluation.ModelReport, TransformJob]:
    """The whole path: upload, transform job, wait, read the answers back, score them like real-time ones."""
    from . import evaluation

    if len(labelled) == 0:
        raise BadInputError("The labelled set is empty: nothing to transform.")
    job = wait(start(labelled, endpoint_name, instance_type=instance_type, progress=progress), progress=progress)
    answers, failures = read_answers(job)
    return evaluation.score(labelled, answers, job.model_id, job.name, failures), job


# --- cost: the same set, real-time vs batch --------------------------------------------------------------


@dataclass(frozen=True)
class CostComparison:
    images: int
    realtime_seconds: float  # the endpoint's instance, up for as long as the evaluation took
    batch_seconds: float  # the job's instance, from start to end
    realtime_usd: float
    batch_usd: float
    caption: str

    def sentence(self) -> str:
        return (f"{self.images} images: real-time ~${self.realtime_usd:.4f} ({self.realtime_seconds:.0f} s of an endpoint "
                f"instance), Batch Transform ~${self.batch_usd:.4f} ({self.batch_seconds:.0f} s of a job instance). "
                "An endpoint keeps billing every hour it stays up; a job's instances stop when it ends. " + self.caption)


def compare_cost(images: int, realtime_seconds: float, batch_seconds: float,
                 instance_type: str = DEFAULT_INSTANCE_TYPE, region: str | None = None) -> CostComparison:
    """Instance time x list price for both paths (prices from the dated table, :mod:`helpers.prices`)."""
    from .prices import load_prices

    table = load_prices(region=region or aws.region())
    return CostComparison(images, realtime_seconds, batch_seconds,
                          table.realtime_hourly(instance_type) * realtime_seconds / 3600,
                          table.batch_hourly(instance_type) * batch_seconds / 3600, table.caption())


# --- cleanup ---------------------------------------------------------------------------------------------


def list_objects(owner: str | None = None) -> tuple[str, list[str]]:
    """The pack bucket and the keys of every Batch Transform object in it (only ``owner``'s when given)."""
    bucket = bucket_name()
    prefix = f"{PREFIX}/{owner_rules.part(owner, 16)}/" if owner else f"{PREFIX}/"
    s3 = aws.client("s3")
    keys = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
    except aws.ERRORS as exc:
        if error_code(exc) in ("NoSuchBucket", "404", "NotFound"):
            return bucket, []
        raise explain_aws_error(exc, action=f"Listing Batch Transform objects in {bucket}") from None
    return bucket, keys


def delete_objects(owner: str | None = None, *, dry_run: bool = False) -> list[str]:
    """Delete the Batch Transform inputs and outputs (``owner``'s, or everyone's); one line per job folder."""
    bucket, keys = list_objects(owner)
    jobs = sorted({"/".join(k.split("/")[:3]) for k in keys})
    if not dry_run:
        s3 = aws.client("s3")
        for start_at in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start_at:start_at + 1000]], "Quiet": True})
    verb = "would delete" if dry_run else "deleted"
    return [f"{verb} Batch Transform objects s3://{bucket}/{job}/ ({sum(k.startswith(job + '/') for k in keys)} objects)" for job in jobs]
