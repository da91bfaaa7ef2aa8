"""Data Capture on the learner's endpoint: what the endpoint answered, kept in S3 for monitoring.

SageMaker can write every request and/or answer of a real-time endpoint to S3 (``DataCaptureConfig`` on
the EndpointConfig). The pack turns it on with **outputs only**: the label/score list, the time and the
request's ``InferenceId`` — never the image. Capturing inputs would copy every uploaded photo, i.e.
special-category health data, into a bucket: :func:`enable_capture` refuses unless it is given the
reference of a DPIA that covers it.

Where it goes: one pack-owned bucket per account and region, ``derm-assist-sagemaker-<account>-<region>``
("sagemaker" in the name lets the standard SageMaker execution role write to it), created on first use,
tagged, with public access blocked and a lifecycle rule that deletes each learner's captured files after
``retention_days``. Each learner writes under ``data-capture/<owner>/``; SageMaker adds
``<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``.

Turning capture on = a new EndpointConfig (same model and instance, plus ``DataCaptureConfig``, tagged like
every resource of the pack) + ``UpdateEndpoint``, as in :func:`helpers.endpoint.swap_model`'s update mode.
Serverless endpoints cannot capture (an AWS restriction): :func:`realtime_endpoint` gives a real-time one.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from . import classify, endpoint, images, models, state, triage
from .core import aws
from .core import owner as owner_rules
from .core.config import DEFAULT_INSTANCE_TYPE, PROJECT_TAG
from .core.errors import (
    BadInputError,
    DermAssistError,
    EndpointNotFoundError,
    QuotaExceededError,
    error_code,
    explain_aws_error,
)
from .core.progress import progress_bar

CAPTURE_PREFIX = "data-capture"
DEFAULT_SAMPLING = 100
DEFAULT_RETENTION_DAYS = 30
ANSWER_CONTENT_TYPES = ("application/json",)  # what the Hugging Face container answers: captured as readable JSON
DELIVERY_NOTE = "SageMaker delivers captured data to S3 every few minutes"

INPUTS_NEED_A_DPIA = (
    "Capturing inputs copies every uploaded photo (special-category health data) into S3. Only do it with a DPIA "
    "that covers it, signed off by your DPO: pass dpia_reference='<DPIA id and date>'. Outputs alone are enough "
    "to monitor the service."
)


@dataclass(frozen=True)
class CaptureLocation:
    """Where an owner's captured data goes: ``s3://<bucket>/<prefix>/<endpoint>/...``."""

    bucket: str
    prefix: str

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def endpoint_prefix(self, endpoint_name: str) -> str:
        return f"{self.prefix}/{endpoint_name}/"


@dataclass(frozen=True)
class CaptureSettings:
    endpoint: str
    config_name: str
    location: CaptureLocation
    capture_inputs: bool
    sampling: int
    retention_days: int
    changed: bool

    def describe(self) -> str:
        what = "requests AND answers" if self.capture_inputs else "answers only (no images)"
        return (f"{self.endpoint} captures {what} for {self.sampling}% of requests into "
                f"{self.location.s3_uri}/{self.endpoint}/, deleted after {self.retention_days} days.")


# --- where ---------------------------------------------------------------------------------------------


def account_id() -> str:
    try:
        return aws.client("sts").get_caller_identity()["Account"]
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action="Finding your AWS account") from None


def bucket_name(account: str | None = None, region: str | None = None) -> str:
    """The pack's bucket in this account and region (S3 names are global, so both are in it)."""
    return f"derm-assist-sagemaker-{account or account_id()}-{region or aws.region()}"


def location_for(owner: str | None = None) -> CaptureLocation:
    return CaptureLocation(bucket_name(), f"{CAPTURE_PREFIX}/{owner_rules.part(owner, owner_rules.MAX_LENGTH) if owner else endpoint.default_owner()}")


def _bucket_exists(bucket: str) -> bool:
    try:
        aws.client("s3").head_bucket(Bucket=bucket)
        return True
    except aws.ERRORS as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        if error_code(exc) in ("403", "AccessDenied"):
            raise DermAssistError(f"The bucket {bucket} exists but you may not use it (it belongs to another account, "
                                  "or your role lacks the pack's S3 permissions in iam/).") from None
        raise explain_aws_error(exc, action=f"Checking bucket {bucket}") from None


def ensure_bucket(location: CaptureLocation, retention_days: int = DEFAULT_RETENTION_DAYS) -> bool:
    """Create the pack's bucket if needed (tagged, private) and set this owner's retention. True if created."""
    s3 = aws.client("s3")
    created = False
    try:
        if not _bucket_exists(location.bucket):
            region = aws.region()
            extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=location.bucket, **extra)
            s3.put_bucket_tagging(Bucket=location.bucket, Tagging={"TagSet": [
                {"Key": endpoint.TAG_PROJECT, "Value": PROJECT_TAG}, {"Key": "purpose", "Value": "data-capture"},
                {"Key": endpoint.TAG_CREATED, "Value": datetime.now(UTC).isoformat(timespec="seconds")}]})
            created = True
        s3.put_public_access_block(Bucket=location.bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        rule_id = f"expire-{location.prefix.replace('/', '-')}"
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=location.bucket).get("Rules", [])
        except aws.ERRORS as exc:
            if error_code(exc) != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        rules = [r for r in rules if r.get("ID") != rule_id] + [{
            "ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": f"{location.prefix}/"},
            "Expiration": {"Days": int(retention_days)}}]
        s3.put_bucket_lifecycle_configuration(Bucket=location.bucket, LifecycleConfiguration={"Rules": rules})
    except aws.ERRORS as exc:  # a DermAssistError from inside is already one line: it passes through
        raise explain_aws_error(exc, action=f"Preparing bucket {location.bucket}") from None
    return created


# --- turn it on ---------------------------------------------------------------------------------------


def data_capture_config(location: CaptureLocation, capture_inputs: bool = False, sampling: int = DEFAULT_SAMPLING) -> dict:
    """The ``DataCaptureConfig`` for CreateEndpointConfig. Outputs always; inputs only when asked."""
    modes = ["Output"] + (["Input"] if capture_inputs else [])
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": int(sampling),
        "DestinationS3Uri": location.s3_uri,
        "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
        "CaptureContentTypeHeader": {"JsonContentTypes": list(ANSWER_CONTENT_TYPES)},
    }


def _variant_input(variant: dict) -> dict:
    """A ProductionVariant as DescribeEndpointConfig shows it, reduced to what CreateEndpointConfig accepts."""
    accepted = aws.sagemaker().meta.service_model.shape_for("ProductionVariant").members
    return {k: v for k, v in variant.items() if k in accepted}


def _same(current: dict | None, wanted: dict) -> bool:
    if not current:
        return False
    keys = ("EnableCapture", "InitialSamplingPercentage", "DestinationS3Uri")
    def modes(config: dict) -> list:
        return sorted(o.get("CaptureMode") for o in config.get("CaptureOptions", []))

    return all(current.get(k) == wanted.get(k) for k in keys) and modes(current) == modes(wanted)


def _check_numbers(sampling, retention_days) -> tuple[int, int]:
    if not isinstance(sampling, int) or not 0 <= sampling <= 100:
        raise BadInputError(f"The sampling percentage must be a whole number from 0 to 100, not {sampling!r}.")
    if not isinstance(retention_days, int) or retention_days < 1:
        raise BadInputError(f"retention_days must be a whole number of days (1 or more), not {retention_days!r}.")
    return sampling, retention_days


def enable_capture(
    endpoint_name: str | None = None,
    *,
    capture_inputs: bool = False,
    dpia_reference: str = "",
    sampling: int = DEFAULT_SAMPLING,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    progress: bool = True,
    work_dir=None,
) -> CaptureSettings:
    """Turn Data Capture on for ``endpoint_name`` (default: the remembered endpoint). Safe to re-run."""
    sampling, retention_days = _check_numbers(sampling, retention_days)
    if capture_inputs and not str(dpia_reference or "").strip():
        raise BadInputError(INPUTS_NEED_A_DPIA)
    name = endpoint_name or state.current_endpoint(work_dir)
    info = endpoint.require_in_service(name)
    if info.serverless:
        raise BadInputError(f"{name} is serverless, and serverless endpoints cannot capture data. Switch to a real-time "
                            "endpoint first: helpers.capture.realtime_endpoint(...).")
    owner = info.tags.get(endpoint.TAG_OWNER) or endpoint.default_owner()
    location = location_for(owner)
    ensure_bucket(location, retention_days)
    wanted = data_capture_config(location, capture_inputs, sampling)
    sm = aws.sagemaker()
    try:
        current = sm.describe_endpoint_config(EndpointConfigName=info.config_name)
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Reading the configuration of {name}") from None
    if _same(current.get("DataCaptureConfig"), wanted):
        if progress:
            print(f"{name} already captures like this; nothing changed.")
        return CaptureSettings(name, info.config_name, location, capture_inputs, sampling, retention_days, False)
    _, config_name = endpoint.resource_names(name)
    try:
        sm.create_endpoint_config(
            EndpointConfigName=config_name, ProductionVariants=[_variant_input(v) for v in current["ProductionVariants"]],
            DataCaptureConfig=wanted, Tags=endpoint.pack_tags(owner, info.model_id or ""),
        )
        sm.update_endpoint(EndpointName=name, EndpointConfigName=config_name)
    except aws.ERRORS as exc:
        _forget_config(config_name)
        error = explain_aws_error(exc, action=f"Turning on Data Capture for {name}")
        if isinstance(error, QuotaExceededError):
            error = QuotaExceededError(
                f"Turning on Data Capture for {name} needs room for one more {info.instance_type or 'instance'}: UpdateEndpoint "
                "runs the new instance beside the old one until it switches. Delete an endpoint you no longer need "
                "(`derm-assist endpoints`, then `derm-assist cleanup NAME`) and run this again.")
        raise error from None
    if progress:
        print(f"Updating {name} to a configuration with Data Capture (UpdateEndpoint; the endpoint keeps answering).")
    endpoint.wait_until_in_service(name, progress=progress)
    _forget_config(info.config_name)  # the old configuration is no longer used by anything
    return CaptureSettings(name, config_name, location, capture_inputs, sampling, retention_days, True)


def _forget_config(config_name: str | None) -> None:
    if not config_name:
        return
    try:
        aws.sagemaker().delete_endpoint_config(EndpointConfigName=config_name)
    except aws.ERRORS as exc:
        if error_code(exc) not in ("ValidationException", "ValidationError", "ResourceNotFound"):
            raise explain_aws_error(exc, action=f"Deleting endpoint config {config_name}") from None


def capture_status(endpoint_name: str) -> dict | None:
    """DescribeEndpoint's ``DataCaptureConfig`` (EnableCapture, CaptureStatus, CurrentSamplingPercentage, ...)."""
    try:
        return aws.sagemaker().describe_endpoint(EndpointName=endpoint_name).get("DataCaptureConfig")
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Describing endpoint {endpoint_name}") from None


def realtime_endpoint(model_id: str | None = None, instance_type: str = DEFAULT_INSTANCE_TYPE, *, progress: bool = True,
                      work_dir=None) -> endpoint.EndpointInfo:
    """The remembered endpoint if it is real-time and serves ``model_id`` (default: the skin model the triage rule
    reads); otherwise one that does (remembered).

    A serverless endpoint (e.g. from the budget-cut curveball) is deleted first: it cannot capture, and a
    sandbox quota rarely has room for both.
    """
    model_id = model_id or models.SKIN.id
    name = state.load_state(work_dir).get("endpoint_name")
    current = None
    if name:
        try:
            current = endpoint.describe(name)
        except EndpointNotFoundError:
            current = None
    if current is not None and current.model_id == model_id and not current.serverless and current.status == "InService":
        return current
    if current is not None and current.serverless:
        deleted = endpoint.delete_endpoint(current.name)
        if progress:
            print(f"{current.name} is serverless, which cannot capture data: deleted it ({len(deleted)} resources).")
        current = None
    info = endpoint.swap_model(model_id, current.name if current else None, instance_type=instance_type, progress=progress)
    state.remember_endpoint(info.name, model_id, work_dir=work_dir)
    return info


# --- read it back -------------------------------------------------------------------------------------


def decode(part: dict) -> bytes:
    """The payload of an ``endpointInput`` / ``endpointOutput`` entry, as bytes (per its ``encoding``)."""
    data = part.get("data", "")
    if part.get("encoding") == "BASE64":
        return base64.b64decode(data)
    return str(data).encode("utf-8")


def parse_line(line: str, key: str = "") -> dict:
    """One capture line -> a flat row: time, ids, the answer's predictions and whether the input was captured."""
    try:
        record = json.loads(line)
        data, meta = record["captureData"], record["eventMetadata"]
        output = data.get("endpointOutput")
        predictions = json.loads(decode(output)) if output else []
        when = datetime.strptime(meta["inferenceTime"].replace(".000", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (ValueError, KeyError, TypeError) as exc:
        raise DermAssistError(f"{key or 'A capture file'} has a line that is not a SageMaker capture record ({exc}).") from None
    top = max(predictions, key=lambda p: p["score"]) if predictions else {"label": "", "score": float("nan")}
    return {
        "inference_time": when,
        "inference_id": meta.get("inferenceId", ""),
        "event_id": meta.get("eventId", ""),
        "top_label": top["label"],
        "top_score": float(top["score"]),
        "predictions": predictions,
        "input_captured": "endpointInput" in data,
        "file": key,
    }


def capture_files(endpoint_name: str, location: CaptureLocation) -> list[dict]:
    """The capture files of ``endpoint_name`` under ``location`` (Key, Size, LastModified), oldest first."""
    s3 = aws.client("s3")
    files = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.endpoint_prefix(endpoint_name)):
            files += [o for o in page.get("Contents", []) if o["Key"].endswith(".jsonl")]
    except aws.ERRORS as exc:
        if error_code(exc) == "NoSuchBucket":
            return []
        raise explain_aws_error(exc, action=f"Listing captured data in {location.s3_uri}") from None
    return sorted(files, key=lambda o: o["Key"])


def read_capture(
    endpoint_name: str | None = None,
    *,
    expect: int = 0,
    timeout: float = 600,
    progress: bool = True,
    work_dir=None,
    sleep: Callable[[float], None] = time.sleep,
):
    """Every captured record of the endpoint as a table (one row per request), oldest first.

    With ``expect``, wait (with a progress line) until that many records have arrived or ``timeout``
    seconds have passed: on AWS, SageMaker delivers captured data to S3 every few minutes.
    """
    import pandas as pd

    name = endpoint_name or state.current_endpoint(work_dir)
    try:
        owner = endpoint.describe(name).tags.get(endpoint.TAG_OWNER)
    except EndpointNotFoundError:
        owner = None
    location = location_for(owner)
    s3 = aws.client("s3")
    cache: dict[str, tuple[object, list[dict]]] = {}
    start = time.monotonic()
    bar = progress_bar(total=expect or None, enabled=progress and expect > 0, desc=f"Captured records of {name}", unit="record")
    try:
        for attempt in range(10_000):
            rows = []
            for obj in capture_files(name, location):
                cached = cache.get(obj["Key"])
                if cached is None or cached[0] != (obj["Size"], obj.get("ETag")):
                    try:
                        text = s3.get_object(Bucket=location.bucket, Key=obj["Key"])["Body"].read().decode("utf-8")
                    except (*aws.ERRORS, UnicodeDecodeError) as exc:
                        raise explain_aws_error(exc, action=f"Reading {obj['Key']}") from None
                    cache[obj["Key"]] = ((obj["Size"], obj.get("ETag")), [parse_line(line, obj["Key"]) for line in text.splitlines() if line.strip()])
                rows += cache[obj["Key"]][1]
            bar.n = min(len(rows), expect or len(rows))
            bar.refresh()
            if len(rows) >= expect:
                break
            if time.monotonic() - start > timeout:
                print(f"Only {len(rows)} of {expect} records after {timeout:.0f} s ({DELIVERY_NOTE}); re-run this cell to look again.")
                break
            sleep(endpoint.POLL_SCHEDULE[min(attempt, len(endpoint.POLL_SCHEDULE) - 1)])
    finally:
        bar.close()
    columns = ["inference_time", "inference_id", "event_id", "top_label", "top_score", "predictions", "input_captured", "file"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["inference_time", "file"], kind="stable").reset_index(drop=True)



def stored_bytes(endpoint_name: str, owner: str | None = None) -> int:
    """How many bytes of captured data the endpoint has in S3 now."""
    return sum(o["Size"] for o in capture_files(endpoint_name, location_for(owner)))


def first_record(endpoint_name: str, owner: str | None = None) -> dict | None:
    """The first captured line of the endpoint, as SageMaker wrote it (to look at the format)."""
    location = location_for(owner)
    files = capture_files(endpoint_name, location)
    if not files:
        return None
    try:
        text = aws.client("s3").get_object(Bucket=location.bucket, Key=files[0]["Key"])["Body"].read().decode("utf-8")
    except (*aws.ERRORS, UnicodeDecodeError) as exc:
        raise explain_aws_error(exc, action=f"Reading {files[0]['Key']}") from None
    return json.loads(text.splitlines()[0])


def input_bytes(paths) -> float:
    """What capturing the inputs would store per request for these images: the JSON body the pack sends to the
    skin model (the one Data Capture watches), on average."""
    files = images.expand_paths(paths)
    if not files:
        raise BadInputError("No images to measure.")
    geometry = triage.MODEL.geometry
    return sum(len(classify.request_body(images.prepare_payload(f, geometry), len(triage.LABELS))) for f in files) / len(files)


def owner_files(owner: str | None = None) -> list[str]:
    """Every captured file under the owner's prefix (all their endpoints): what is left of theirs in S3."""
    location = location_for(owner)
    try:
        if not _bucket_exists(location.bucket):
            return []
        return _list_keys(location.bucket, f"{location.prefix}/")
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Listing {location.s3_uri}") from None


# --- clean up -----------------------------------------------------------------------------------------


def _list_keys(bucket: str, prefix: str = "") -> list[str]:
    s3 = aws.client("s3")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def _subfolders(bucket: str, prefix: str) -> list[str]:
    """The "folders" right under ``prefix`` (S3 CommonPrefixes with a ``/`` delimiter)."""
    s3 = aws.client("s3")
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return found


def _owner_prefixes(bucket: str) -> list[str]:
    return _subfolders(bucket, f"{CAPTURE_PREFIX}/")


def _delete_keys(bucket: str, keys: list[str]) -> None:
    s3 = aws.client("s3")
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
        batch = [{"Key": k} for k in keys[start:start + 1000]]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DermAssistError(f"Could not delete s3://{bucket}/{first.get('Key')}: {first.get('Message', first.get('Code'))}.")


def delete_capture(endpoint_name: str, *, dry_run: bool = False) -> list[str]:
    """Delete (or, with ``dry_run``, list) the data captured from ``endpoint_name``, whoever's prefix it is in."""
    bucket = bucket_name()
    try:
        if not _bucket_exists(bucket):
            return []
        done = []
        for prefix in _owner_prefixes(bucket):
            done += _clear_folder(bucket, f"{prefix}{endpoint_name}/", dry_run)
        return done
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Deleting the data captured from {endpoint_name}") from None


def _clear_folder(bucket: str, folder: str, dry_run: bool) -> list[str]:
    """Delete (unless ``dry_run``) the files under ``folder`` and say so in one line; [] when there are none."""
    keys = _list_keys(bucket, folder)
    if not keys:
        return []
    if not dry_run:
        _delete_keys(bucket, keys)
    return [f"{len(keys)} captured file(s) in s3://{bucket}/{folder}"]


def delete_orphan_capture(keep: set[str] | frozenset = frozenset(), *, going: set[str] | frozenset = frozenset(),
                          remove_bucket: bool = False, dry_run: bool = False) -> list[str]:
    """Delete (or list) captured data of every endpoint not in ``keep``, in the pack's bucket of this account and region.

    ``going``: endpoints being deleted in the same cleanup (their data goes with them; not listed twice).
    With ``remove_bucket`` (a coach's full cleanup: no endpoint of the pack is left), the bucket goes too once
    nothing of ``keep`` remains in it — only if the pack made it (its ``project`` tag).
    """
    bucket = bucket_name()
    try:
        if not _bucket_exists(bucket):
            return []
        done, kept = [], 0
        for owner_prefix in _owner_prefixes(bucket):
            for folder in _subfolders(bucket, owner_prefix):
                name = folder[len(owner_prefix):].rstrip("/")
                if name in going:
                    continue
                if name in keep:
                    kept += len(_list_keys(bucket, folder))
                    continue
                done += _clear_folder(bucket, folder, dry_run)
        if remove_bucket and not kept and _bucket_tags(bucket).get(endpoint.TAG_PROJECT) == PROJECT_TAG:
            rest = _list_keys(bucket)
            if not dry_run:
                _delete_keys(bucket, rest)
                aws.client("s3").delete_bucket(Bucket=bucket)
            done.append(f"bucket {bucket}")
        return done
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Cleaning up bucket {bucket}") from None


def _bucket_tags(bucket: str) -> dict[str, str]:
    try:
        return {t["Key"]: t["Value"] for t in aws.client("s3").get_bucket_tagging(Bucket=bucket).get("TagSet", [])}
    except aws.ERRORS as exc:
        if error_code(exc) == "NoSuchTagSet":
            return {}  # a bucket of that name the pack did not make: only its data-capture/ folder is touched
        raise
