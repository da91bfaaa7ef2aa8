"""A local server that speaks the SageMaker APIs, for CI and offline rehearsal.

moto answers the control plane (STS, IAM, S3, SageMaker Model / EndpointConfig / Endpoint). This
module adds what moto lacks or does differently from the real service:

- ``InvokeEndpoint`` that checks the endpoint exists and is ``InService``, enforces the Hugging Face
  toolkit's content types and SageMaker's payload limits, and answers from a stand-in model;
- endpoints that take a moment in ``Creating`` (so progress displays are exercised), an instance
  quota (``ResourceLimitExceeded``), ``UpdateEndpoint``, and a cold start for serverless endpoints;
- Batch Transform jobs that read their input from S3 and write ``<input>.out`` objects with the same stand-ins
  (:mod:`helpers.mock.transform`), moving ``InProgress`` -> ``Completed`` or ``Failed`` with a reason;
- Data Capture: JSON Lines files in moto's S3 for endpoints whose config captures (:mod:`.capture`),
  and the ``DataCaptureConfig`` summary DescribeEndpoint shows;
- fault injection (throttling, model errors, slow answers, timeouts, expired credentials, failed
  deploys) and optional request recording, driven through ``/_mock/...`` control routes.

Responses from the stand-ins carry ``CustomAttributes`` such as
``mock=derm-assist; stand-in=recording; note=...`` so nobody mistakes them for the real models.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.config import (
    MOCK_COLD_START_SECONDS,
    MOCK_DEPLOY_SECONDS,
    MOCK_INSTANCE_QUOTA,
    MOCK_REALISTIC_DEPLOY_SECONDS,
    MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS,
    MOCK_SERVERLESS_CONCURRENCY_QUOTA,
    MOCK_TRANSFORM_STARTUP_SECONDS,
    REALTIME_PAYLOAD_LIMIT,
    SERVERLESS_PAYLOAD_LIMIT,
    mock_realistic_timings,
    mock_time_scale,
)
from . import standins, toolkit, transform
from .capture import CaptureWriter
from .capture import summary as capture_summary

ACCOUNT_ID = "123456789012"
ROLE_NAME = "DermAssistWorkshopRole"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
WORKFLOW_ROLE_NAME = "DermAssistWorkflowRole"  # what Step Functions assumes to run the triage workflow
WORKFLOW_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{WORKFLOW_ROLE_NAME}"

INVOKE_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
FAULT_KEYS = {
    "throttle_rate": float,  # share of invocations answered with ThrottlingException
    "model_error_rate": float,  # share answered with a 5xx ModelError from the container
    "timeout_rate": float,  # share answered with the 60-second invocation timeout ModelError
    "latency_ms": int,  # extra delay before every answer
    "expired_credentials": bool,  # every request refused with ExpiredTokenException
    "resource_limit": bool,  # CreateEndpoint / UpdateEndpoint refused with ResourceLimitExceeded
    "stuck_creating": bool,  # new endpoints stay in Creating
    "fail_deploy": str,  # new endpoints go to Failed with this reason
}


@dataclass
class MockSettings:
    deploy_seconds: float = MOCK_DEPLOY_SECONDS  # how long a new endpoint stays Creating
    cold_start_seconds: float = MOCK_COLD_START_SECONDS  # first call to a serverless endpoint
    instance_quota: int = MOCK_INSTANCE_QUOTA  # instances per type, like a sandbox account
    serverless_concurrency_quota: int = MOCK_SERVERLESS_CONCURRENCY_QUOTA  # total MaxConcurrency of all serverless endpoints
    transform_startup_seconds: float = MOCK_TRANSFORM_STARTUP_SECONDS  # a transform job's instances starting
    seed: int = 7
    serverless_deploy_seconds: float | None = None  # how long a new serverless endpoint stays Creating (None: deploy_seconds)
    time_scale: float = 1.0  # provisioning times run on this clock: 0.01 makes 6 minutes take 3.6 s

    @classmethod
    def realistic(cls, **overrides) -> MockSettings:
        """AWS-like provisioning: a real-time endpoint Creating for 6 minutes, a serverless one for 3 (times ``time_scale``)."""
        values = {"deploy_seconds": MOCK_REALISTIC_DEPLOY_SECONDS, "serverless_deploy_seconds": MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS}
        return cls(**{**values, **overrides})

    @classmethod
    def from_environment(cls, **overrides) -> MockSettings:
        """The settings $DERM_ASSIST_MOCK_TIMINGS (``realistic``) and $DERM_ASSIST_MOCK_TIME_SCALE ask for."""
        overrides.setdefault("time_scale", mock_time_scale())
        return cls.realistic(**overrides) if mock_realistic_timings() else cls(**overrides)

    def provisioning_seconds(self, serverless: bool) -> float:
        """Wall-clock seconds a new (or updated) endpoint stays Creating (Updating) on this mock."""
        nominal = self.serverless_deploy_seconds if serverless and self.serverless_deploy_seconds is not None else self.deploy_seconds
        return nominal * self.time_scale


@dataclass
class MockState:
    settings: MockSettings = field(default_factory=MockSettings)
    faults: dict[str, dict[str, Any]] = field(default_factory=lambda: {"global": {}, "endpoints": {}})
    ready_at: dict[str, float] = field(default_factory=dict)
    pending_failure: dict[str, str] = field(default_factory=dict)
    warm: set = field(default_factory=set)
    record_requests: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    invocations: int = 0
    injected: dict[str, int] = field(default_factory=dict)  # how often each fault fired (for reports and tests)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.settings.seed)
        self.capture = CaptureWriter(ACCOUNT_ID, seed=self.settings.seed)

    def fault(self, key: str, endpoint: str | None = None):
        per_endpoint = self.faults["endpoints"].get(endpoint or "", {})
        return per_endpoint.get(key, self.faults["global"].get(key))

    def roll(self, key: str, endpoint: str) -> bool:
        rate = float(self.fault(key, endpoint) or 0.0)
        with self.lock:
            fired = rate > 0 and self.rng.random() < rate
            if fired:
                self.count(key)
            return fired

    def count(self, key: str) -> None:
        """Note that fault ``key`` fired (call with the lock held, or where races do not matter)."""
        self.injected[key] = self.injected.get(key, 0) + 1


def set_faults(state: MockState, spec: dict[str, Any]) -> dict[str, Any]:
    """Merge ``{"global": {...}, "endpoints": {name: {...}}}`` (or a flat dict = global) into the state."""
    if not any(k in spec for k in ("global", "endpoints")):
        spec = {"global": spec}
    for scope, values in (("global", spec.get("global", {})), *((n, v) for n, v in spec.get("endpoints", {}).items())):
        clean = {}
        for key, value in (values or {}).items():
            if key not in FAULT_KEYS:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(FAULT_KEYS))}")
            clean[key] = FAULT_KEYS[key](value)
        target = state.faults["global"] if scope == "global" else state.faults["endpoints"].setdefault(scope, {})
        target.update(clean)
    return state.faults


# --- WSGI plumbing ------------------------------------------------------------------------------------


def _json_response(start_response, status: int, payload: Any, headers: dict[str, str] | None = None):
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large", 424: "Failed Dependency"}
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))] + list((headers or {}).items()),
    )
    return [body]


def _aws_error(start_response, status: int, code: str, message: str, extra: dict | None = None):
    """An error both botocore protocols (json and rest-json) parse into ``code`` and ``message``."""
    payload = {"__type": code, "message": message, "Message": message, **(extra or {})}
    return _json_response(start_response, status, payload, {"x-amzn-ErrorType": f"{code}:"})


def container_answer(model_id: str, body: bytes, content_type: str | None, accept: str | None = None) -> toolkit.ContainerResponse:
    """What the model container answers for one request: the toolkit's handling around the model's stand-in.

    The one path behind InvokeEndpoint and Batch Transform; raises :class:`toolkit.ContainerError` (HTTP 400 from
    the container) for a request the toolkit refuses.
    """
    return toolkit.handle(body, content_type, accept, lambda image: standins.distribution(model_id, image))


def _utcnow():
    from moto.core.utils import utcnow  # the clock moto stamps its own resources with

    return utcnow()


def _region(environ) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/\d+/([^/]+)/", auth)
    return match.group(1) if match else "us-east-1"


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class MockApp:
    """The WSGI app: our routes first, everything else to moto."""

    def __init__(self, state: MockState | None = None):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.state = state or MockState()
        self.moto = DomainDispatcherApplication(create_backend_app)
        # moto looks the request's host up afresh on every request (a listing of its ~200 service folders and
        # a regex per service, about 1 ms); the answer for a host never changes, so remember it.
        self.moto.get_backend_for_host = functools.lru_cache(maxsize=None)(self.moto.get_backend_for_host)

    # moto's in-process SageMaker backend for a region
    @staticmethod
    def backend(region: str):
        from moto.sagemaker.models import sagemaker_backends

        return sagemaker_backends[ACCOUNT_ID][region]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_mock/"):
            return self.control(environ, start_response, path)
        if self.state.fault("expired_credentials"):
            self.state.count("expired_credentials")
            return _aws_error(start_response, 400, "ExpiredTokenException", "The security token included in the request is expired")
        region = _region(environ)
        self.refresh(region)
        match = INVOKE_PATH.match(path)
        if match and environ.get("REQUEST_METHOD") == "POST":
            try:
                return self.invoke(environ, start_response, match.group("name"), region)
            except Exception as exc:  # noqa: BLE001 - a stand-in bug is a 500 from the container (as on AWS), logged in one line
                print(f"mock: stand-in failed: {type(exc).__name__}: {exc}", flush=True)
                return self._model_error(start_response, match.group("name"), region, 500, f"stand-in failed: {type(exc).__name__}: {exc}")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("SageMaker."):
            action = target.split(".", 1)[1]
            handler: Callable | None = getattr(self, f"before_{action}", None)
            if handler is not None:
                body = json.loads(_read_body(environ) or b"{}")
                answer = handler(start_response, body, region)
                if answer is not None:
                    return answer
                result = self.moto(environ, start_response)
                after = getattr(self, f"after_{action}", None)
                if after is not None:
                    after(body, region)
                return result
        return self.moto(environ, start_response)

    # --- endpoint lifecycle -------------------------------------------------------------------------

    def refresh(self, region: str) -> None:
        """Endpoints whose deploy time has passed become InService (or Failed)."""
        now = time.monotonic()
        with self.state.lock:
            due = [name for name, when in self.state.ready_at.items() if when <= now]
            for name in due:
                del self.state.ready_at[name]
        for name in due:
            endpoint = self.backend(region).endpoints.get(name)
            if endpoint is None:
                continue
            reason = self.state.pending_failure.pop(name, None)
            endpoint.endpoint_status = "Failed" if reason else "InService"
            endpoint.failure_reason = reason
            endpoint.last_modified_time = _utcnow()  # as on AWS: the status change is the endpoint's last change

    def _in_use(self, region: str, count, exclude: str | None = None) -> int:
        """``count(variant)`` summed over the variants of every live endpoint (but ``exclude``)."""
        backend = self.backend(region)
        used = 0
        for name, endpoint in backend.endpoints.items():
            if name == exclude or endpoint.endpoint_status in ("Failed", "Deleting"):
                continue
            config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
            used += sum(count(variant) for variant in (config.production_variants if config else []))
        return used

    def _instances_in_use(self, region: str, instance_type: str, exclude: str | None = None) -> int:
        return self._in_use(region, lambda v: int(v.get("InitialInstanceCount", 1)) if v.get("InstanceType") == instance_type else 0, exclude)

    def _serverless_concurrency_in_use(self, region: str, exclude: str | None = None) -> int:
        return self._in_use(region, lambda v: int((v.get("ServerlessConfig") or {}).get("MaxConcurrency", 0)), exclude)

    def _quota_error(self, start_response, body: dict, region: str, exclude: str | None = None):
        config = self.backend(region).endpoint_configs.get(body.get("EndpointConfigName", ""))
        uses_instances = any(v.get("InstanceType") for v in (config.production_variants if config else []))
        if self.state.fault("resource_limit") and uses_instances:  # serverless uses no instances: the way out
            self.state.count("resource_limit")
            return _aws_error(start_response, 400, "ResourceLimitExceeded", "The account-level service limit for endpoint usage is 0 Instances (injected fault).")
        for variant in (config.production_variants if config else []):
            itype = variant.get("InstanceType")
            if variant.get("ServerlessConfig"):
                want = int(variant["ServerlessConfig"].get("MaxConcurrency", 1))
                used = self._serverless_concurrency_in_use(region, exclude)
                quota = self.state.settings.serverless_concurrency_quota
                if used + want > quota:  # the mock's wording, modelled on the instance quota's
                    return _aws_error(
                        start_response, 400, "ResourceLimitExceeded",
                        "The account-level service limit 'Maximum total concurrency that can be allocated across all "
                        f"serverless endpoints' is {quota}, with current utilization of {used} and a request delta of {want}. "
                        "Please use AWS Service Quotas to request an increase for this quota.",
                    )
            if not itype:
                continue
            want = int(variant.get("InitialInstanceCount", 1))
            used = self._instances_in_use(region, itype, exclude)
            quota = self.state.settings.instance_quota
            if used + want > quota:
                return _aws_error(
                    start_response,
                    400,
                    "ResourceLimitExceeded",
                    f"The account-level service limit '{itype} for endpoint usage' is {quota} Instances, with current "
                    f"utilization of {used} Instances and a request delta of {want} Instances. Please use AWS Service "
                    "Quotas to request an increase for this quota.",
                )
        return None

    def _start_deploy(self, name: str, region: str, config_name: str) -> None:
        config = self.backend(region).endpoint_configs.get(config_name)
        serverless = any(v.get("ServerlessConfig") for v in (config.production_variants if config else []))
        with self.state.lock:
            self.state.warm.discard(name)
            if self.state.fault("stuck_creating", name):
                self.state.count("stuck_creating")
                return  # never becomes ready
            self.state.ready_at[name] = time.monotonic() + self.state.settings.provisioning_seconds(serverless)
            reason = self.state.fault("fail_deploy", name)
            if reason:
                self.state.count("fail_deploy")
                self.state.pending_failure[name] = reason

    def before_CreateEndpointConfig(self, start_response, body, region):
        """Serverless endpoints do not support Data Capture (a documented exclusion); refuse the mix."""
        serverless = any(v.get("ServerlessConfig") for v in body.get("ProductionVariants", []))
        if serverless and body.get("DataCaptureConfig"):
            return _aws_error(start_response, 400, "ValidationException",
                              "DataCaptureConfig is not supported for endpoint configurations with a ServerlessConfig.")
        return None

    def before_CreateEndpoint(self, start_response, body, region):
        return self._quota_error(start_response, body, region)

    def after_CreateEndpoint(self, body, region):
        endpoint = self.backend(region).endpoints.get(body.get("EndpointName", ""))
        if endpoint is not None:
            endpoint.endpoint_status = "Creating"
            config = self.backend(region).endpoint_configs.get(endpoint.endpoint_config_name)
            endpoint.data_capture_config = capture_summary(config.data_capture_config if config else None)
            self._start_deploy(endpoint.endpoint_name, region, endpoint.endpoint_config_name)

    def before_UpdateEndpoint(self, start_response, body, region):
        """moto has no UpdateEndpoint: switch the endpoint to the new config, Updating for a moment."""
        backend = self.backend(region)
        name, config_name = body.get("EndpointName", ""), body.get("EndpointConfigName", "")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            return _aws_error(start_response, 400, "ValidationException", f"Could not find endpoint \"{name}\".")
        config = backend.endpoint_configs.get(config_name)
        if config is None:
            return _aws_error(start_response, 400, "ValidationException", f"Could not find endpoint configuration \"{config_name}\".")
        refused = self._quota_error(start_response, body, region, exclude=None)
        if refused is not None:
            return refused
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.data_capture_config = capture_summary(config.data_capture_config)
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = _utcnow()
        self._start_deploy(name, region, config_name)
        return _json_response(start_response, 200, {"EndpointArn": endpoint.arn})

    # --- InvokeEndpoint ----------------------------------------------------------------------------

    def invoke(self, environ, start_response, name: str, region: str):
        state = self.state
        body = _read_body(environ)
        content_type = environ.get("CONTENT_TYPE")
        accept = environ.get("HTTP_ACCEPT")
        with state.lock:
            state.invocations += 1
            if state.record_requests and len(state.requests) < 200:
                state.requests.append(
                    {"endpoint": name, "content_type": content_type, "size": len(body), "body_b64": base64.b64encode(body).decode()}
                )
        backend = self.backend(region)
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            return _aws_error(start_response, 400, "ValidationError", f"Endpoint {name} of account {ACCOUNT_ID} not found.")
        if endpoint.endpoint_status != "InService":
            return _aws_error(
                start_response, 400, "ValidationError",
                f"Endpoint {name} of account {ACCOUNT_ID} is not in service (status: {endpoint.endpoint_status}).",
            )
        latency = state.fault("latency_ms", name) or 0
        if latency:
            time.sleep(latency / 1000.0)
        if state.roll("throttle_rate", name):
            return _aws_error(start_response, 400, "ThrottlingException", "Rate exceeded")
        config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        variants = config.production_variants if config else []
        serverless = any(v.get("ServerlessConfig") for v in variants)
        limit = SERVERLESS_PAYLOAD_LIMIT if serverless else REALTIME_PAYLOAD_LIMIT
        if len(body) > limit:
            return _json_response(start_response, 413, {"message": f"HTTP content length exceeded {limit} bytes."})
        cold = False
        if serverless:
            with state.lock:
                cold = name not in state.warm
                state.warm.add(name)
            if cold:
                time.sleep(state.settings.cold_start_seconds)
        if state.roll("timeout_rate", name):
            return self._model_error(start_response, name, region, 0, "Your invocation timed out while waiting for a response from container primary.")
        if state.roll("model_error_rate", name):
            return self._model_error(start_response, name, region, 500, "Internal server error (injected fault).")
        model_id = self._model_id(backend, config)
        try:
            result = container_answer(model_id, body, content_type, accept)
        except toolkit.ContainerError as exc:
            return self._model_error(start_response, name, region, exc.status, toolkit.error_body(str(exc), exc.status))
        first = result.answers[0] if result.answers else None
        stand_in, note = (first.stand_in, first.note) if first else ("none", "no image in the request")
        attributes = f"mock=derm-assist; stand-in={stand_in}; note={note}; requested-model={model_id}"
        if cold:
            attributes += "; cold-start=true"
        variant = variants[0].get("VariantName", "AllTraffic") if variants else "AllTraffic"
        state.capture.capture(
            config.data_capture_config if config else None, name, variant, (body, content_type),
            (result.body, result.content_type),  # exactly the body the client receives
            inference_id=environ.get("HTTP_X_AMZN_SAGEMAKER_INFERENCE_ID"),
        )
        start_response("200 OK", [
            ("Content-Type", result.content_type), ("Content-Length", str(len(result.body))),
            ("X-Amzn-Invoked-Production-Variant", variant), ("X-Amzn-SageMaker-Custom-Attributes", attributes),
        ])
        return [result.body]

    # --- Batch Transform ---------------------------------------------------------------------------

    def before_CreateTransformJob(self, start_response, body, region):
        backend = self.backend(region)
        name, model_name = body.get("TransformJobName", ""), body.get("ModelName", "")
        if name in backend.transform_jobs:
            return _aws_error(start_response, 400, "ValidationException",
                              "Job name must be unique within an AWS account and region, and a job with this name "
                              f"already exists ({backend.transform_jobs[name].arn})")
        if model_name not in getattr(backend, "_models", {}):
            arn = f"arn:aws:sagemaker:{region}:{ACCOUNT_ID}:model/{model_name.lower()}"
            return _aws_error(start_response, 400, "ValidationException", f"Could not find model \"{arn}\".")
        return None

    def after_CreateTransformJob(self, body, region):
        backend = self.backend(region)
        job = backend.transform_jobs.get(body.get("TransformJobName", ""))
        if job is None:
            return
        job.transform_job_status = "InProgress"
        job.transform_end_time = None
        model = backend._models[job.model_name]
        env = dict((getattr(model, "primary_container", None) or {}).get("Environment", {}))
        model_id = env.get("HF_MODEL_ID", "unknown")
        transform.JobRun(job, model_id, ACCOUNT_ID, lambda m, b, c: container_answer(m, b, c).predictions,
                         self.state.settings.transform_startup_seconds).start()

    @staticmethod
    def _model_id(backend, config) -> str:
        for variant in (config.production_variants if config else []):
            model = backend._models.get(variant.get("ModelName", "")) if hasattr(backend, "_models") else None
            if model is not None:
                env = (model.primary_container or {}).get("Environment", {}) if hasattr(model, "primary_container") else {}
                if env.get("HF_MODEL_ID"):
                    return env["HF_MODEL_ID"]
        return "unknown"

    @staticmethod
    def _model_error(start_response, name, region, original_status, message):
        kind = "client" if 400 <= original_status < 500 else "server"
        if 400 <= original_status < 500:
            text = toolkit.model_error_message(message, name, region, ACCOUNT_ID, original_status)
        else:
            text = f"Received {kind} error ({original_status}) from primary with message \"{message}\"."
        return _aws_error(
            start_response, 424, "ModelError", text,
            {"OriginalStatusCode": original_status, "OriginalMessage": message,
             "LogStreamArn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/{name}"},
        )

    # --- control routes ----------------------------------------------------------------------------

    def control(self, environ, start_response, path: str):
        method = environ.get("REQUEST_METHOD", "GET")
        state = self.state
        if path == "/_mock/health":
            return _json_response(start_response, 200, {"ok": True, "invocations": state.invocations, "injected": dict(state.injected),
                                                         "captured": state.capture.written, "capture_failed": state.capture.failed})
        if path == "/_mock/faults":
            if method == "DELETE":
                state.faults = {"global": {}, "endpoints": {}}
            elif method == "POST":
                try:
                    set_faults(state, json.loads(_read_body(environ) or b"{}"))
                except (ValueError, TypeError) as exc:
                    return _json_response(start_response, 400, {"error": str(exc)})
            return _json_response(start_response, 200, state.faults)
        if path == "/_mock/requests":
            if method == "POST":
                state.record_requests = bool(json.loads(_read_body(environ) or b"{}").get("record", True))
            elif method == "DELETE":
                state.requests.clear()
            return _json_response(start_response, 200, {"record": state.record_requests, "requests": state.requests})
        if path == "/_mock/settings" and method == "POST":
            values = json.loads(_read_body(environ) or b"{}")
            for key, value in values.items():
                if not hasattr(state.settings, key):
                    return _json_response(start_response, 400, {"error": f"unknown setting {key!r}"})
                current = getattr(state.settings, key)
                setattr(state.settings, key, None if value is None else (float if current is None else type(current))(value))
            return _json_response(start_response, 200, vars(state.settings))
        if path == "/_mock/reset" and method == "POST":
            from moto.backends import get_backend  # noqa: F401  (import keeps moto's registry loaded)
            from moto.core.models import default_user_config  # noqa: F401
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()
            state.faults = {"global": {}, "endpoints": {}}
            state.ready_at.clear()
            state.pending_failure.clear()
            state.warm.clear()
            state.requests.clear()
            state.record_requests = False
            state.injected.clear()
            state.capture.reset()
            state.rng = random.Random(state.settings.seed)  # a new account draws the same faults whatever ran before
            return _json_response(start_response, 200, {"reset": True})
        return _json_response(start_response, 404, {"error": f"no mock route {path}"})
