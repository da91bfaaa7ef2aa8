"""Deploy, describe, list and delete the pack's SageMaker endpoints.

A deploy is three resources, all tagged so cleanup can find them::

    Model            the Hugging Face inference container + HF_MODEL_ID / HF_TASK
      -> EndpointConfig  instance type and count (real-time) or memory and concurrency (serverless)
        -> Endpoint      the HTTPS endpoint you invoke; costs money while it exists

This is exactly what the older ``sagemaker.huggingface.HuggingFaceModel(env=..., role=...,
transformers_version=..., pytorch_version=...).deploy(...)`` did behind the scenes; SDK v3 removed
that class, so the pack makes the three calls itself and asks the SDK only for the container image.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore
from filelock import FileLock

from . import models
from .core import aws
from .core import owner as owner_rules
from .core.config import (
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_SERVERLESS_CONCURRENCY,
    DEFAULT_SERVERLESS_MEMORY_MB,
    HF_PY_VERSION,
    HF_PYTORCH_VERSION,
    HF_TRANSFORMERS_VERSION,
    PROJECT_TAG,
    SERVERLESS_MEMORY_SIZES,
    START_DEPLOY_EARLY_ENV,
    cache_dir,
    mock_time_scale,
)
from .core.errors import (
    BadInputError,
    DermAssistError,
    EndpointNotFoundError,
    EndpointNotReadyError,
    QuotaExceededError,
    error_code,
    error_message,
    explain_aws_error,
)
from .core.files import atomic_write_text
from .core.progress import progress_bar
from .core.roles import execution_role

TAG_PROJECT, TAG_OWNER, TAG_CREATED, TAG_MODEL = "project", "owner", "created", "hf-model-id"
# Poll quickly first (a mock is ready in seconds), then settle at AWS's usual pace.
POLL_SCHEDULE = (0.25, 0.5, 1, 2, 4, 8, 15)
TYPICAL_DEPLOY = "usually 5-10 minutes on AWS"


@dataclass(frozen=True)
class ServerlessSpec:
    """Serverless inference: pay per request; cold starts after idle periods; 4 MB payloads."""

    memory_mb: int = DEFAULT_SERVERLESS_MEMORY_MB
    max_concurrency: int = DEFAULT_SERVERLESS_CONCURRENCY

    def __post_init__(self):
        if self.memory_mb not in SERVERLESS_MEMORY_SIZES:
            raise BadInputError(f"Serverless memory must be one of 1024..6144 in steps of 1024 MB, not {self.memory_mb}.")
        if not 1 <= self.max_concurrency <= 200:
            raise BadInputError("Serverless max concurrency must be between 1 and 200.")

    @classmethod
    def for_model(cls, model_id: str, max_concurrency: int = DEFAULT_SERVERLESS_CONCURRENCY) -> ServerlessSpec:
        """The serverless memory the registry gives ``model_id`` (enough for it, no more)."""
        return cls(models.get(model_id).serverless_memory_mb, max_concurrency)


@dataclass
class EndpointInfo:
    name: str
    status: str
    model_id: str | None = None
    instance_type: str | None = None
    instance_count: int = 0
    serverless: ServerlessSpec | None = None
    created: datetime | None = None
    failure_reason: str | None = None
    config_name: str | None = None
    arn: str | None = None
    model_names: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    tags_error: str | None = None  # "<code>: <message>" when ListTags failed (then nobody can tell whose it is)
    details_error: str | None = None  # "<call> failed: <code>" when its config or model could not be described
    reused: bool = False  # start_deploy found it already there (nothing new was created)
    waited_seconds: float | None = None  # how long wait_until_in_service waited for it (on the endpoint's clock)

    @property
    def age(self) -> timedelta | None:
        return datetime.now(UTC) - self.created if self.created else None

    @property
    def kind(self) -> str:
        if self.serverless:
            return f"serverless {self.serverless.memory_mb} MB"
        return f"{self.instance_count} x {self.instance_type}" if self.instance_type else self.unknown

    @property
    def unknown(self) -> str:
        """What a table shows for a fact that could not be read: ``?``, and which call failed when one did."""
        return f"? ({self.details_error})" if self.details_error else "?"

    @property
    def owner(self) -> str:
        if self.tags_error:
            return f"unknown (tags unreadable: {self.tags_error.split(':')[0]})"
        return self.tags.get(TAG_OWNER, "?")


# --- names, owner, tags -------------------------------------------------------------------------------


def slug(text: str, limit: int = 20) -> str:
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return cleaned[:limit].strip("-") or "x"


def model_short_name(model_id: str) -> str:
    """``google/mobilenet_v2_1.0_224`` -> ``mobilenet-v2-1-0-224`` (endpoint-name safe)."""
    return slug(model_id.split("/")[-1], 24)


def default_owner() -> str:
    """Who the endpoint belongs to: see :mod:`helpers.core.owner` (never a name the whole class shares)."""
    return owner_rules.default_owner()


def endpoint_name_for(model_id: str, owner: str | None = None) -> str:
    """One endpoint per learner and model, so re-running notebook 01 reuses it instead of adding another."""
    who = owner_rules.normalize(owner) if owner else default_owner()
    name = f"derm-assist-{owner_rules.short(who, 16)}-{model_short_name(model_id)}"
    return name[:63].rstrip("-")


def check_owned(info: EndpointInfo, owner: str, doing: str) -> None:
    """Refuse to touch another learner's endpoint (a shared account: same name, someone else's tag)."""
    theirs = info.tags.get(TAG_OWNER)
    if theirs and theirs != owner:
        raise BadInputError(
            f"Endpoint {info.name} belongs to {theirs}, not to you ({owner}), so it is not {doing}. "
            f"If {owner} is not you, set DERM_ASSIST_OWNER to your own name; else pick another endpoint name."
        )


def resource_names(endpoint_name: str) -> tuple[str, str]:
    """Unique Model and EndpointConfig names for a deploy of ``endpoint_name`` (at most 63 characters)."""
    import secrets

    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
    base = endpoint_name[:40].rstrip("-")
    return f"{base}-m-{stamp}", f"{base}-c-{stamp}"


def pack_tags(owner: str, model_id: str) -> list[dict[str, str]]:
    return [
        {"Key": TAG_PROJECT, "Value": PROJECT_TAG},
        {"Key": TAG_OWNER, "Value": owner},
        {"Key": TAG_CREATED, "Value": datetime.now(UTC).isoformat(timespec="seconds")},
        {"Key": TAG_MODEL, "Value": model_id},
    ]


# --- container image and role ------------------------------------------------------------------------


IMAGE_URI_CACHE_FILE = "image-uris.json"  # in the user's cache folder: the SDK's answers, by SDK version


def image_uri(region: str | None = None, instance_type: str = DEFAULT_INSTANCE_TYPE) -> str:
    """The Hugging Face PyTorch inference container for ``region`` (CPU or GPU by ``instance_type``), resolved
    offline by the SageMaker SDK.

    Importing the SDK takes about 3 s of CPU, and its answer changes only with the installed SDK. So the answer is
    remembered in the user's cache folder (:func:`helpers.core.config.cache_dir`), keyed by the SDK's and botocore's
    versions: one process asks the SDK, the other kernels and later sessions read the file.
    """
    region = region or aws.region()
    processor = "gpu" if instance_type.startswith(("ml.g", "ml.p")) else "cpu"
    key = "/".join((_sdk_versions(), region, HF_TRANSFORMERS_VERSION, HF_PYTORCH_VERSION, HF_PY_VERSION, processor))
    path = cache_dir() / IMAGE_URI_CACHE_FILE
    if uri := _read_uri_cache(path).get(key):
        return uri
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock", timeout=60):  # one process asks the SDK; the others wait for its answer
            known = _read_uri_cache(path)
            if key not in known:
                known[key] = _resolve_image_uri(region, instance_type)
                atomic_write_text(path, json.dumps(known, indent=2, sort_keys=True) + "\n", durable=False)
            return known[key]
    except OSError:  # a cache folder that cannot be written (or a lock held too long): ask the SDK, remember nothing
        return _resolve_image_uri(region, instance_type)


def _sdk_versions() -> str:
    """What the SDK's answer depends on: its own version and botocore's (which knows each region's domain)."""
    try:
        sdk = importlib.metadata.version("sagemaker-core")
    except importlib.metadata.PackageNotFoundError:
        sdk = "none"
    return f"sagemaker-core-{sdk}/botocore-{botocore.__version__}"


def _read_uri_cache(path: Path) -> dict[str, str]:
    """The remembered URIs; an absent, unreadable or damaged file is an empty cache (the SDK is asked again)."""
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in known.items() if isinstance(v, str)} if isinstance(known, dict) else {}


def _resolve_image_uri(region: str, instance_type: str) -> str:
    try:
        from sagemaker.core import image_uris
    except ImportError as exc:  # pragma: no cover - depends on the installed SDK
        raise DermAssistError(
            f"SageMaker Python SDK v3 is needed to find the container image ({exc}). Run `pip install -e .` in the repo."
        ) from None
    return image_uris.retrieve(
        framework="huggingface",
        region=region,
        version=HF_TRANSFORMERS_VERSION,
        base_framework_version=f"pytorch{HF_PYTORCH_VERSION}",
        py_version=HF_PY_VERSION,
        image_scope="inference",
        instance_type=instance_type,
    )


# --- describe / list ----------------------------------------------------------------------------------


class TagsUnreadableError(DermAssistError):
    """ListTags failed, so nobody can tell whether a resource is the pack's or whose it is."""

    def __init__(self, arn: str, code: str, message: str):
        super().__init__(f"Cannot read the tags of {arn}: {code}: {message}")
        self.reason = f"{code}: {' '.join(message.split())}"


def _tags(arn: str) -> dict[str, str]:
    """The resource's tags; :class:`TagsUnreadableError` when ListTags fails (never an empty answer that hides it)."""
    try:
        return {t["Key"]: t["Value"] for t in aws.sagemaker().list_tags(ResourceArn=arn).get("Tags", [])}
    except aws.ERRORS as exc:
        raise TagsUnreadableError(arn, error_code(exc) or type(exc).__name__, error_message(exc)) from None


def describe_status(name: str) -> EndpointInfo:
    """Only what DescribeEndpoint says of ``name`` (status, creation time, failure reason): one call, for polling.

    :func:`describe` adds its tags, model and size (two or three calls more). Raises
    :class:`EndpointNotFoundError` listing the endpoints that exist.
    """
    try:
        desc = aws.sagemaker().describe_endpoint(EndpointName=name)
    except aws.ERRORS as exc:
        if error_code(exc) in ("ValidationException", "ValidationError") and "not" in error_message(exc).lower():
            raise not_found(name) from None
        raise explain_aws_error(exc, action=f"Describing endpoint {name}") from None
    return EndpointInfo(
        name=name,
        status=desc["EndpointStatus"],
        created=desc.get("CreationTime"),
        failure_reason=desc.get("FailureReason"),
        config_name=desc.get("EndpointConfigName"),
        arn=desc.get("EndpointArn"),
    )


def describe(name: str) -> EndpointInfo:
    """Status, model and size of endpoint ``name``. Raises :class:`EndpointNotFoundError` listing the ones that exist."""
    return _with_details(describe_status(name))


def _with_details(info: EndpointInfo) -> EndpointInfo:
    """``info`` (from :func:`describe_status`) with its tags, model and size read too."""
    sm = aws.sagemaker()
    try:
        info.tags = _tags(info.arn)
    except TagsUnreadableError as exc:
        info.tags_error = exc.reason
    info.model_id = info.tags.get(TAG_MODEL)
    try:
        config = sm.describe_endpoint_config(EndpointConfigName=info.config_name)
    except aws.ERRORS as exc:  # still listed (it may bill), its size shown as unreadable
        info.details_error = f"DescribeEndpointConfig failed: {error_code(exc) or type(exc).__name__}"
        return info
    for variant in config.get("ProductionVariants", []):
        info.model_names.append(variant.get("ModelName"))
        if variant.get("ServerlessConfig"):
            sc = variant["ServerlessConfig"]
            info.serverless = ServerlessSpec(sc.get("MemorySizeInMB", 4096), sc.get("MaxConcurrency", 1))
        else:
            info.instance_type = variant.get("InstanceType")
            info.instance_count += int(variant.get("InitialInstanceCount", 1))
    if info.model_id is None and info.model_names:
        try:
            env = sm.describe_model(ModelName=info.model_names[0]).get("PrimaryContainer", {}).get("Environment", {})
            info.model_id = env.get("HF_MODEL_ID")
        except aws.ERRORS as exc:  # the model column says why it is unknown
            info.details_error = f"DescribeModel failed: {error_code(exc) or type(exc).__name__}"
    return info


def all_endpoint_names() -> list[str]:
    sm = aws.sagemaker()
    names: list[str] = []
    try:
        for page in sm.get_paginator("list_endpoints").paginate():
            names.extend(e["EndpointName"] for e in page.get("Endpoints", []))
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action="Listing endpoints") from None
    return names


def not_found(name: str) -> EndpointNotFoundError:
    try:
        existing = all_endpoint_names()
    except DermAssistError:
        existing = []
    listing = ", ".join(existing) if existing else "none"
    return EndpointNotFoundError(
        f"Endpoint {name!r} not found in {aws.region()}. Endpoints that exist: {listing}. "
        "Deploy with notebook 01 (or `derm-assist deploy`), or pass one of those names."
    )


def list_pack_endpoints(owner: str | None = None) -> list[EndpointInfo]:
    """Every endpoint tagged as this pack's (optionally only ``owner``'s), oldest first.

    An endpoint whose tags cannot be read is listed too, with ``tags_error`` set: it may be the pack's
    and it may be billing, so it is never hidden.
    """
    found = []
    for name in all_endpoint_names():
        try:
            info = describe(name)
        except EndpointNotFoundError:
            continue  # deleted between list and describe
        if info.tags_error is None:
            if info.tags.get(TAG_PROJECT) != PROJECT_TAG:
                continue
            if owner and info.tags.get(TAG_OWNER) != owner_rules.normalize(owner):
                continue
        found.append(info)
    return sorted(found, key=lambda i: i.created or datetime.now(UTC))


def require_in_service(name: str) -> EndpointInfo:
    """``describe`` + a one-line error when the endpoint cannot take requests yet."""
    info = describe(name)
    if info.status == "InService":
        return info
    if info.status == "Failed":
        raise EndpointNotReadyError(
            f"Endpoint {name} failed to deploy: {info.failure_reason or 'no reason given'}. "
            f"Delete it (`derm-assist cleanup {name}`) and deploy again."
        )
    raise EndpointNotReadyError(
        f"Endpoint {name} is {info.status}, not InService yet ({TYPICAL_DEPLOY}). Wait, or run "
        "`derm-assist endpoints` to watch it."
    )


# --- deploy -------------------------------------------------------------------------------------------


def clock_scale() -> float:
    """How fast the endpoints' clock runs: 1 on AWS; on the local mock, its time scale ($DERM_ASSIST_MOCK_TIME_SCALE)."""
    return mock_time_scale() if aws.is_mock() else 1.0


def format_duration(seconds: float) -> str:
    """``75`` -> ``1 min 15 s``; ``40`` -> ``40 s``."""
    minutes, secs = divmod(max(0, round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def provisioning_for(info: EndpointInfo, scale: float | None = None) -> float | None:
    """Seconds (on the endpoints' clock) since ``info`` was created; None when unknown."""
    if info.age is None:
        return None
    return info.age.total_seconds() / (scale or clock_scale())


def wait_until_in_service(name: str, timeout: float = 1800, progress: bool = True, sleep: Callable[[float], None] = time.sleep) -> EndpointInfo:
    """Poll until ``name`` is InService, showing how long it has been provisioning. Raises on Failed or timeout.

    An endpoint started earlier (notebook 00 starts notebook 01's) is only waited for as long as it still needs.
    Times, ``timeout`` and the poll intervals are on the endpoints' clock (:func:`clock_scale`), so a mock that
    runs 6 minutes in 3.6 s still shows minutes. The answer's ``waited_seconds`` is how long this call waited.
    """
    scale = clock_scale()
    start = time.monotonic()
    bar = progress_bar(total=None, enabled=progress, desc=f"{name}: checking", unit="check", bar_format="{desc}")
    try:
        for attempt in range(10_000):
            info = describe_status(name)  # one call per poll; the whole description once it is ready
            waited = (time.monotonic() - start) / scale
            if info.status == "InService":
                info = _with_details(info)
                info.waited_seconds = waited
                if progress and attempt:
                    since = provisioning_for(info, scale)
                    print(f"{name} is InService" + (f", {format_duration(since)} after it was created" if since else "")
                          + f"; waited here {format_duration(waited)}.")
                return info
            since = provisioning_for(info, scale) if info.status == "Creating" else None
            bar.set_description_str(f"{name}: {info.status} for {format_duration(since if since is not None else waited)} "
                                    f"({TYPICAL_DEPLOY}); waiting here {format_duration(waited)}")
            bar.update(1)
            if info.status in ("Failed", "OutOfService", "Deleting"):
                raise EndpointNotReadyError(
                    f"Endpoint {name} is {info.status}: {info.failure_reason or 'no reason given'}. "
                    f"Delete it (`derm-assist cleanup {name}`) and deploy again."
                )
            if waited > timeout:
                raise EndpointNotReadyError(
                    f"Endpoint {name} is still {info.status} after {timeout / 60:.0f} minutes. Check the SageMaker console; "
                    "re-run this cell to keep waiting (it will not deploy twice)."
                )
            sleep(POLL_SCHEDULE[min(attempt, len(POLL_SCHEDULE) - 1)] * scale)
    finally:
        bar.close()
    raise AssertionError("unreachable")


def start_deploy(
    model_id: str = models.DEFAULT.id,
    *,
    name: str | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    serverless: ServerlessSpec | None = None,
    role_arn: str | None = None,
    owner: str | None = None,
    progress: bool = True,
) -> EndpointInfo:
    """Make the three create calls (Model -> EndpointConfig -> Endpoint) and return at once, the endpoint Creating.

    An existing endpoint of the same name is reused (``reused`` is True), never duplicated; a ``Failed`` one is
    reported with its reason. :func:`wait_until_in_service` waits for what is left.
    """
    spec = models.get(model_id)
    owner = owner_rules.normalize(owner) if owner else default_owner()
    name = name or endpoint_name_for(model_id, owner)
    if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name):
        raise BadInputError(f"{name!r} is not a valid endpoint name: letters, digits and hyphens, at most 63.")
    try:
        existing = describe(name)
    except EndpointNotFoundError:
        existing = None
    if existing is not None:
        check_owned(existing, owner, "reused")
        if existing.status == "Failed":
            raise EndpointNotReadyError(
                f"Endpoint {name} exists but failed: {existing.failure_reason or 'no reason given'}. "
                f"Delete it (`derm-assist cleanup {name}`) and deploy again."
            )
        if existing.model_id and existing.model_id != model_id:
            raise BadInputError(
                f"Endpoint {name} already serves {existing.model_id}, not {model_id}. Pick another name, "
                "or swap models with helpers.endpoint.swap_model."
            )
        if progress:
            since = provisioning_for(existing)
            created = f", created {format_duration(since)} ago" if since is not None else ""
            print(f"Reusing endpoint {name} ({existing.status}{created}); nothing new is created.")
        existing.reused = True
        return existing

    sm = aws.sagemaker()
    role = execution_role(role_arn)
    image = image_uri(instance_type=instance_type if not serverless else DEFAULT_INSTANCE_TYPE)
    tags = pack_tags(owner, model_id)
    model_name, config_name = resource_names(name)
    try:
        sm.create_model(
            ModelName=model_name,
            ExecutionRoleArn=role,
            PrimaryContainer={"Image": image, "Environment": spec.container_env(serverless=serverless is not None)},
            Tags=tags,
        )
        sm.create_endpoint_config(
            EndpointConfigName=config_name, ProductionVariants=[variant(model_name, instance_type, serverless)], Tags=tags
        )
        sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name, Tags=tags)
    except aws.ERRORS as exc:
        _delete_quietly(config_name=config_name, model_name=model_name)  # do not leave half a deploy behind
        raise explain_aws_error(exc, action=f"Deploying {model_id}", serverless=serverless is not None) from None
    if progress:
        print(f"Creating endpoint {name} for {model_id} on {serverless and 'serverless' or instance_type}.")
    return describe(name)


def deploy(
    model_id: str = models.DEFAULT.id,
    *,
    name: str | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    serverless: ServerlessSpec | None = None,
    role_arn: str | None = None,
    owner: str | None = None,
    wait: bool = True,
    progress: bool = True,
) -> EndpointInfo:
    """Deploy ``model_id`` (a model of :mod:`helpers.models`) as Model -> EndpointConfig -> Endpoint and wait for InService.

    :func:`start_deploy` followed by :func:`wait_until_in_service`. Re-running is safe: an existing endpoint of the
    same name is reused (waited for if still creating, only for what is left), never duplicated.
    """
    info = start_deploy(model_id, name=name, instance_type=instance_type, serverless=serverless, role_arn=role_arn,
                        owner=owner, progress=progress)
    if wait and info.status != "InService":
        reused = info.reused
        info = wait_until_in_service(info.name, progress=progress)
        info.reused = reused
    return info


# --- start a deploy ahead of the notebook that needs it -----------------------------------------------


@dataclass
class EarlyStart:
    """What a notebook started ahead of time (or why it did not), as lines a learner reads."""

    started: bool
    lines: list[str]
    info: EndpointInfo | None = None

    def text(self) -> str:
        return "\n".join(self.lines)


def early_start_allowed(requested: bool = True) -> bool:
    """The notebook's parameter (``START_DEPLOY_EARLY``) and a coach's $DERM_ASSIST_START_DEPLOY_EARLY=0 can each say no."""
    return bool(requested) and os.environ.get(START_DEPLOY_EARLY_ENV, "").strip().lower() not in ("0", "false", "no", "off")


def cost_line(instance_type: str = DEFAULT_INSTANCE_TYPE, serverless: ServerlessSpec | None = None, region: str | None = None) -> str:
    """What the endpoint costs on AWS, from the dated price table (helpers/data/sagemaker_prices.csv), with its date."""
    from .prices import PRICES_CSV, load_prices

    region = region or aws.region()
    try:
        table = load_prices(region=region)
        if serverless:
            per_second = table.serverless_per_second(serverless.memory_mb)
            return (f"Cost on AWS: serverless {serverless.memory_mb} MB bills ${per_second:.6f} per second of inference, "
                    f"nothing while idle (list price for {region} as of {table.as_of}; not your bill).")
        hourly = table.realtime_hourly(instance_type)
    except DermAssistError:
        return (f"Cost on AWS: {PRICES_CSV.name} has no list price for {serverless and 'serverless' or instance_type} in {region}: "
                "check the SageMaker pricing page. It bills from now until notebook 99 deletes it.")
    return (f"Cost on AWS: {instance_type} bills about ${hourly:.3f} an hour from now until notebook 99 deletes it "
            f"(list price for {region} as of {table.as_of}; not your bill).")


def start_early(
    model_id: str = models.DEFAULT.id,
    *,
    requested: bool = True,
    serverless: bool | None = None,
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    role_arn: str | None = None,
    started_by: str = "notebook 00",
    needed_in: str = "notebook 01",
) -> EarlyStart:
    """Start ``model_id``'s deploy now, so that ``needed_in`` waits only for what is left; never raises.

    ``serverless`` None: as the learner's remembered endpoint (real-time unless notebook 01 deployed serverless).
    An endpoint that exists already is reused. A full quota (sandboxes often allow 0 instances) or any other
    problem becomes one line, and ``needed_in`` deploys as it always did. What was started is recorded in the
    state file, so the notebook that needs it finds it and cleanup (notebook 99) deletes it.
    """
    from . import state

    spec = models.get(model_id)
    then = needed_in[:1].upper() + needed_in[1:]  # at the start of a sentence
    if not early_start_allowed(requested):
        why = "START_DEPLOY_EARLY = False" if not requested else f"${START_DEPLOY_EARLY_ENV} is {os.environ[START_DEPLOY_EARLY_ENV]!r}"
        return EarlyStart(False, [f"Not started early ({why}): {needed_in} deploys {spec.name} when you get there."])
    try:
        if serverless is None:
            serverless = bool(state.load_state().get("serverless", False))
        sls = ServerlessSpec.for_model(model_id) if serverless else None
        cost = cost_line(instance_type, sls)
        info = start_deploy(model_id, instance_type=instance_type, serverless=sls, role_arn=role_arn, progress=False)
    except QuotaExceededError:
        what = "serverless concurrency" if serverless else f"another {instance_type} endpoint instance"
        return EarlyStart(False, [f"Not started early: your account's quota has no room for {what} (ResourceLimitExceeded; "
                                  f"sandboxes often allow 0). {then} deploys {spec.name} as before."])
    except DermAssistError as exc:
        return EarlyStart(False, [f"Not started early: {exc}", f"{then} deploys {spec.name} as before."])
    state.remember_started(info.name, model_id, serverless=bool(serverless), by=started_by)
    if info.reused:
        first = f"Your {spec.name} endpoint {info.name} already exists ({info.status}, {info.kind}): nothing new started."
    else:
        first = f"Started {spec.name} on {info.kind}: endpoint {info.name} is {info.status} ({TYPICAL_DEPLOY})."
    return EarlyStart(True, [first, f"{then} waits only for what is left. {cost}"], info)


def variant(model_name: str, instance_type: str, serverless: ServerlessSpec | None) -> dict:
    base = {"VariantName": "AllTraffic", "ModelName": model_name}
    if serverless:
        return base | {"ServerlessConfig": {"MemorySizeInMB": serverless.memory_mb, "MaxConcurrency": serverless.max_concurrency}}
    return base | {"InstanceType": instance_type, "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}


# --- delete / cleanup ---------------------------------------------------------------------------------


def _delete_quietly(*, endpoint_name: str | None = None, config_name: str | None = None, model_name: str | None = None) -> list[str]:
    """Delete what exists; a resource that is already gone is not an error (safe to re-run)."""
    sm = aws.sagemaker()
    deleted = []
    for kind, call, value in (
        ("endpoint", lambda v: sm.delete_endpoint(EndpointName=v), endpoint_name),
        ("endpoint config", lambda v: sm.delete_endpoint_config(EndpointConfigName=v), config_name),
        ("model", lambda v: sm.delete_model(ModelName=v), model_name),
    ):
        if not value:
            continue
        try:
            call(value)
            deleted.append(f"{kind} {value}")
        except aws.ERRORS as exc:
            if _already_gone(exc):
                continue
            raise explain_aws_error(exc, action=f"Deleting {kind} {value}") from None
    return deleted


def _already_gone(exc: BaseException) -> bool:
    """A delete refused because the resource does not exist (``Could not find endpoint "..."``), nothing else.

    SageMaker also answers ValidationException when it cannot delete something that does exist (an endpoint
    still Creating or Updating, a model in use): that must be reported, not taken for "already gone"."""
    if error_code(exc) == "ResourceNotFound":
        return True
    message = error_message(exc).lower()
    return error_code(exc) in ("ValidationException", "ValidationError") and (
        "could not find" in message or "does not exist" in message or "not found" in message)


def delete_endpoint(name: str, *, wait_if_creating: bool = True, progress: bool = True) -> list[str]:
    """Delete the endpoint, its config and its model(s), then the data captured from it and its workflow.

    Returns what was deleted; [] if nothing was left. Captured data can outlive its endpoint (SageMaker delivers
    it a few minutes late), so it is looked for even when the endpoint is already gone.
    SageMaker cannot delete an endpoint while it is Creating or Updating (one started early may be): with
    ``wait_if_creating`` it is waited for first, with progress, so nothing is left behind billing.
    """
    try:
        info = describe(name)
    except EndpointNotFoundError:
        return delete_endpoint_data(name, strict=False)
    if wait_if_creating and info.status in ("Creating", "Updating"):
        if progress:
            print(f"{name} is still {info.status}; SageMaker deletes it only once that is done, so the cleanup waits.")
        try:
            info = wait_until_in_service(name, progress=progress)
        except EndpointNotReadyError:  # Failed (or still not done): delete what is there, as before
            info = describe(name)
    deleted = _delete_quietly(endpoint_name=name, config_name=info.config_name)
    for model_name in info.model_names:
        deleted += _delete_quietly(model_name=model_name)
    return deleted + delete_endpoint_data(name, strict=False)


def delete_endpoint_data(name: str, *, dry_run: bool = False, strict: bool = True) -> list[str]:
    """The data captured from endpoint ``name`` (S3) and the pack's state machines made for it: delete or list.

    ``strict=False``: a failure (e.g. a role without the pack's S3 permissions) becomes a line saying what was
    not checked, so that deleting or swapping an endpoint never stops half-way because of it.
    """
    from . import capture
    from .workflow import state_machine

    try:
        return capture.delete_capture(name, dry_run=dry_run) + state_machine.delete_workflows(name, dry_run=dry_run)
    except DermAssistError as exc:
        if strict:
            raise
        return [f"(captured data and workflows of {name} not checked: {exc})"]


def parse_age(text: str) -> timedelta:
    """``90m``, ``4h``, ``2d`` -> timedelta. One-line error for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text or "")
    if not match:
        raise BadInputError(f"{text!r} is not an age. Use a number and a unit: 30m, 4h, 2d.")
    value, unit = float(match.group(1)), match.group(2)
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: value})


def select_for_cleanup(endpoints: Iterable[EndpointInfo], older_than: timedelta | None) -> list[EndpointInfo]:
    if older_than is None:
        return list(endpoints)
    return [e for e in endpoints if e.age is not None and e.age >= older_than]


# --- swap the model behind an endpoint ----------------------------------------------------------------


def swap_model(
    new_model_id: str,
    current_name: str | None,
    *,
    mode: str = "replace",
    instance_type: str = DEFAULT_INSTANCE_TYPE,
    serverless: ServerlessSpec | None = None,
    role_arn: str | None = None,
    progress: bool = True,
) -> EndpointInfo:
    """Serve ``new_model_id`` instead of what ``current_name`` serves.

    ``replace`` (default): delete the old endpoint first, then deploy the new model — one instance at a
    time, which is what a sandbox quota of one or two instances allows.
    ``update``: keep the endpoint name and switch it to a new EndpointConfig with ``UpdateEndpoint``.
    No downtime, but SageMaker runs the old and the new instances side by side while it switches, so it
    needs room in the quota for both.
    """
    if mode not in ("replace", "update"):
        raise BadInputError(f"Swap mode must be 'replace' or 'update', not {mode!r}.")
    current = None
    if current_name:
        try:
            current = describe(current_name)
        except EndpointNotFoundError:
            current = None
    if current is not None:
        check_owned(current, default_owner(), "swapped or deleted")
    if current is not None and current.model_id == new_model_id:
        if progress:
            print(f"{current.name} already serves {new_model_id}; nothing to swap.")
        return current
    ahead = _started_ahead(new_model_id)
    if ahead is not None:  # notebook 03 started it: wait for what is left, then free the old endpoint's instance
        if progress:
            print(f"{ahead.name} serves {new_model_id}, started ahead of time ({ahead.status}); using it.")
        info = ahead if ahead.status == "InService" else wait_until_in_service(ahead.name, progress=progress)
        if current is not None and current.name != info.name:
            deleted = delete_endpoint(current.name, progress=progress)
            if progress:
                print(f"Deleted {current.name} ({len(deleted)} resources): one endpoint bills again, not two.")
        return info
    if mode == "replace" or current is None:
        if current is not None:
            deleted = delete_endpoint(current.name)
            if progress:
                print(f"Deleted {current.name} ({len(deleted)} resources) to free its instance.")
        return deploy(new_model_id, instance_type=instance_type, serverless=serverless, role_arn=role_arn, progress=progress)
    return _update_in_place(current, new_model_id, instance_type, serverless, role_arn, progress)


def _started_ahead(model_id: str) -> EndpointInfo | None:
    """The learner's endpoint for ``model_id`` that a notebook started ahead of time (state file), if it is alive."""
    from . import state

    for record in reversed(state.started_endpoints()):
        if record.get("model_id") != model_id:
            continue
        try:
            info = describe(record["endpoint_name"])
        except EndpointNotFoundError:
            continue
        if info.status not in ("Failed", "Deleting") and info.model_id in (None, model_id):
            return info
    return None


def _update_in_place(current: EndpointInfo, model_id: str, instance_type: str, serverless, role_arn, progress) -> EndpointInfo:
    spec = models.get(model_id)
    sm = aws.sagemaker()
    owner = current.tags.get(TAG_OWNER) or default_owner()
    tags = pack_tags(owner, model_id)
    model_name, config_name = resource_names(current.name)
    try:
        sm.create_model(
            ModelName=model_name, ExecutionRoleArn=execution_role(role_arn), Tags=tags,
            PrimaryContainer={"Image": image_uri(instance_type=instance_type if not serverless else DEFAULT_INSTANCE_TYPE),
                              "Environment": spec.container_env(serverless=serverless is not None)},
        )
        sm.create_endpoint_config(EndpointConfigName=config_name, ProductionVariants=[variant(model_name, instance_type, serverless)], Tags=tags)
        sm.update_endpoint(EndpointName=current.name, EndpointConfigName=config_name)
        arn = sm.describe_endpoint(EndpointName=current.name)["EndpointArn"]
        sm.add_tags(ResourceArn=arn, Tags=[t for t in tags if t["Key"] == TAG_MODEL])
    except aws.ERRORS as exc:
        _delete_quietly(config_name=config_name, model_name=model_name)
        raise explain_aws_error(exc, action=f"Updating {current.name} to {model_id}", serverless=serverless is not None) from None
    if progress:
        print(f"Updating {current.name} in place to {model_id} (old and new instances run side by side until it switches).")
    info = wait_until_in_service(current.name, progress=progress)
    _delete_quietly(config_name=current.config_name)
    for old_model in current.model_names:
        _delete_quietly(model_name=old_model)
    return info


@dataclass
class Orphans:
    """The pack's configs and models that no endpoint uses, and those whose tags could not be read."""

    found: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    unreadable: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, name, why)


def find_orphans() -> Orphans:
    """Endpoint configs and models named ``derm-assist-*`` that no endpoint uses any more.

    They cost nothing, but they clutter the account and a half-finished deploy can leave them behind.
    Only those tagged as the pack's are ``found``; those whose tags cannot be read are listed apart.
    """
    sm = aws.sagemaker()
    try:
        endpoints = [sm.describe_endpoint(EndpointName=n) for n in all_endpoint_names()]
        used_configs = {e["EndpointConfigName"] for e in endpoints}
        configs = [c for page in sm.get_paginator("list_endpoint_configs").paginate(NameContains="derm-assist-")
                   for c in page.get("EndpointConfigs", [])]
        model_list = [m for page in sm.get_paginator("list_models").paginate(NameContains="derm-assist-") for m in page.get("Models", [])]
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action="Looking for leftover configs and models") from None
    used_models = set()
    for config in configs:
        if config["EndpointConfigName"] in used_configs:
            detail = sm.describe_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
            used_models |= {v["ModelName"] for v in detail.get("ProductionVariants", [])}
    candidates = [("endpoint config", c["EndpointConfigName"], c["EndpointConfigArn"]) for c in configs
                  if c["EndpointConfigName"] not in used_configs]
    candidates += [("model", m["ModelName"], m["ModelArn"]) for m in model_list if m["ModelName"] not in used_models]
    orphans = Orphans()
    for kind, name, arn in candidates:
        try:
            tags = _tags(arn)
        except TagsUnreadableError as exc:
            orphans.unreadable.append((kind, name, exc.reason))
            continue
        if tags.get(TAG_PROJECT) == PROJECT_TAG:
            orphans.found.append((kind, name))
    return orphans


def list_orphans() -> list[tuple[str, str]]:
    """The pack's endpoint configs and models that no endpoint uses any more, as (kind, name)."""
    return find_orphans().found


def delete_orphans(orphans: list[tuple[str, str]]) -> list[str]:
    deleted = []
    for kind, name in orphans:
        deleted += _delete_quietly(**({"config_name": name} if kind == "endpoint config" else {"model_name": name}))
    return deleted
