"""Endpoint faults injected into the mock: what is transient is retried, the rest is one line with the remedy."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time

import corpus
import pytest

from helpers import classify, endpoint, state
from helpers.core import aws
from helpers.core.errors import (
    CredentialsError,
    DermAssistError,
    EndpointNotFoundError,
    EndpointNotReadyError,
    QuotaExceededError,
    TransientEndpointError,
)
from helpers.mock import control
from helpers.models import SKIN_VIT_ID

CLI = [sys.executable, "-m", "helpers.coach.cli"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return corpus.build(tmp_path_factory.mktemp("faults-corpus"))


@pytest.fixture
def image(cases):
    return cases["grey"].path


@pytest.fixture
def mock(mock_aws):
    mock_aws.state.rng = random.Random(2026)  # the same rolls every run
    return mock_aws


@pytest.fixture
def skin(mock):
    """An endpoint whose stand-in answers quickly (a rule-based simulation)."""
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_VIT_ID)
    return info


def faults(spec: dict) -> dict:
    return control(aws.endpoint_url(), "faults", spec)


def injected() -> dict:
    return control(aws.endpoint_url(), "health")["injected"]


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text.strip() == text
    return text


# --- transient faults are retried ---------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["throttle_rate", "model_error_rate", "timeout_rate"])
def test_transient_faults_are_retried_until_they_succeed(skin, image, fault):
    faults({fault: 0.5})
    results = [classify.classify(image) for _ in range(8)]
    retries = sum(r.attempts - 1 for r in results)
    assert retries > 0 and injected() == {fault: retries}  # every injected fault cost exactly one retry


def test_a_mix_of_faults_in_a_batch_still_classifies_everything(skin, cases):
    faults({"throttle_rate": 0.3, "model_error_rate": 0.2, "timeout_rate": 0.1})
    batch = classify.classify_many([cases["grey"].path.parent], progress=False)
    assert len(batch.results) == len(corpus.valid(cases)) and sum(r.attempts - 1 for r in batch.results) == sum(injected().values()) > 0
    assert {name.split("/")[-1] for name, _ in batch.failures} == {c.path.name for c in corpus.invalid(cases) if c.path.is_file()}


def test_slow_responses_still_succeed(skin, image):
    faults({"latency_ms": 400})
    result = classify.classify(image)
    assert result.attempts == 1 and result.latency_ms >= 400


@pytest.mark.parametrize("fault,expect", [
    ("throttle_rate", "busy or failing (ThrottlingException"),
    ("model_error_rate", "failed inside the container"),
    ("timeout_rate", "did not answer within SageMaker's 60-second limit"),
])
def test_persistent_transient_faults_give_up_in_time_with_one_line(skin, image, fault, expect):
    faults({fault: 1.0})
    started = time.monotonic()
    with pytest.raises(TransientEndpointError) as info:
        classify.classify(image, budget_seconds=1.0)
    assert time.monotonic() - started < 3.0  # the budget bounds the total time (+ at most 1 s of botocore's own quick retry)
    message = one_line(info.value)
    assert expect in message and "gave up after" in message and "try again" in message
    assert "Send a JPEG" not in message  # not the remedy for a refused payload
    assert injected()[fault] >= 2


def test_a_batch_reports_what_gave_up_and_keeps_going(skin, cases):
    faults({"endpoints": {skin.name: {"timeout_rate": 1.0}}})
    paths = [cases["grey"].path, cases["rgba"].path]
    batch = classify.classify_many(paths, progress=False, budget_seconds=0.3)
    assert batch.results == [] and [n for n, _ in batch.failures] == [str(p) for p in paths]
    assert all("did not answer" in reason for _, reason in batch.failures)
    assert batch.exit_codes == [1, 1] and not batch.only_bad_input


def test_read_timeouts_are_transient():
    from botocore.exceptions import ReadTimeoutError

    calls = []

    def slow_then_fine():
        calls.append(1)
        if len(calls) < 3:
            raise ReadTimeoutError(endpoint_url="http://x")
        return "ok"

    assert classify.invoke_with_retries(slow_then_fine, action="t", sleep=lambda s: None) == ("ok", 3)


# --- faults that are not transient: one line with the remedy -------------------------------------------


def test_endpoint_still_creating(mock, image):
    faults({"stuck_creating": True})
    info = endpoint.deploy(SKIN_VIT_ID, wait=False, progress=False)
    time.sleep(0.3)
    with pytest.raises(EndpointNotReadyError) as raised:
        classify.classify(image, info.name)
    message = one_line(raised.value)
    assert f"Endpoint {info.name} is Creating, not InService yet" in message and "derm-assist endpoints" in message
    with pytest.raises(EndpointNotReadyError) as waited:
        endpoint.wait_until_in_service(info.name, timeout=0.3, progress=False)
    assert "still Creating" in one_line(waited.value) and "will not deploy twice" in str(waited.value)


def test_failed_endpoint_reports_its_reason(mock, image):
    reason = "The primary container for production variant AllTraffic did not pass the ping health check."
    faults({"fail_deploy": reason})
    with pytest.raises(EndpointNotReadyError) as deployed:
        endpoint.deploy(SKIN_VIT_ID, progress=False)
    assert reason in one_line(deployed.value) and "cleanup" in str(deployed.value)
    name = endpoint.endpoint_name_for(SKIN_VIT_ID)
    with pytest.raises(EndpointNotReadyError) as invoked:
        classify.classify(image, name)
    message = one_line(invoked.value)
    assert f"Endpoint {name} failed to deploy: {reason}" in message and f"derm-assist cleanup {name}" in message
    assert len(endpoint.delete_endpoint(name)) == 3  # a failed endpoint still has a config and a model to clean up


def test_endpoint_deleted_while_a_batch_runs(skin, cases, monkeypatch):
    other = endpoint.deploy(name="derm-assist-other", serverless=endpoint.ServerlessSpec(2048, 1), progress=False)
    real_classify, done, lock = classify.classify_payload, [], threading.Lock()

    def classify_then_delete(*args, **kwargs):
        result = real_classify(*args, **kwargs)
        with lock:
            done.append(result)
            if len(done) == 2:
                endpoint.delete_endpoint(skin.name)  # a coach's cleanup, in the middle of the learner's batch
        return result

    monkeypatch.setattr(classify, "classify_payload", classify_then_delete)
    paths = [cases[k].path for k in ("grey", "rgba", "palette", "webp")] * 6
    with pytest.raises(EndpointNotFoundError) as info:
        classify.classify_many(paths, skin.name, progress=False, concurrency=4)
    message = one_line(info.value)
    assert f"Endpoint '{skin.name}' not found" in message and f"Endpoints that exist: {other.name}" in message
    # it stopped at once instead of failing every remaining image: only the calls already in flight finished
    assert 2 <= len(done) < 2 + 4


def test_expired_credentials(skin, image):
    faults({"expired_credentials": True})
    for call in (lambda: classify.classify(image), lambda: endpoint.list_pack_endpoints(),
                 lambda: endpoint.deploy(SKIN_VIT_ID, name="another", progress=False),
                 lambda: classify.classify_many([image, image], progress=False)):
        with pytest.raises(CredentialsError) as info:
            call()
        message = one_line(info.value)
        assert "expired" in message and "refresh your sandbox credentials" in message
    assert injected()["expired_credentials"] >= 4


def test_resource_limit_on_deploy_says_what_to_do_and_leaves_nothing_behind(mock):
    faults({"resource_limit": True})
    with pytest.raises(QuotaExceededError) as info:
        endpoint.deploy(progress=False)
    message = one_line(info.value)
    for remedy in ("--serverless", "smaller instance type", "derm-assist cleanup NAME", "derm-assist endpoints"):
        assert remedy in message
    sm = aws.sagemaker()
    assert sm.list_models()["Models"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_endpoints()["Endpoints"] == []
    info = endpoint.deploy(name="sls", serverless=endpoint.ServerlessSpec(), progress=False)  # the way out works
    assert info.status == "InService"


def test_resource_limit_from_the_cli_is_one_line(mock):
    faults({"resource_limit": True})
    result = subprocess.run([*CLI, "deploy", "--quiet"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "--serverless" in result.stderr and "quota" in result.stderr


def test_per_endpoint_faults_affect_only_that_endpoint(skin, mock, image):
    other = endpoint.deploy(SKIN_VIT_ID, name="derm-assist-healthy", serverless=endpoint.ServerlessSpec(2048, 1), progress=False)
    faults({"endpoints": {skin.name: {"throttle_rate": 1.0}}})
    assert [classify.classify(image, other.name).attempts for _ in range(5)] == [1] * 5
    with pytest.raises(TransientEndpointError):
        classify.classify(image, skin.name, budget_seconds=0.3)
    control(aws.endpoint_url(), "faults", method="DELETE")
    faults({"global": {"model_error_rate": 1.0}, "endpoints": {other.name: {"model_error_rate": 0.0}}})
    assert classify.classify(image, other.name).attempts == 1  # a per-endpoint value overrides the global one
    with pytest.raises(TransientEndpointError):
        classify.classify(image, skin.name, budget_seconds=0.3)


# --- the faults command -------------------------------------------------------------------------------


def cli(*args, env=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=120)


def test_faults_command_sets_shows_and_clears(mock):
    result = cli("faults", "--set", "throttle_rate=0.2", "model_error_rate=0.05", "expired_credentials=false")
    assert result.returncode == 0, result.stderr
    assert mock.state.faults["global"] == {"throttle_rate": 0.2, "model_error_rate": 0.05, "expired_credentials": False}
    result = cli("faults", "--endpoint", "derm-assist-x", "--set", "latency_ms=800", "fail_deploy=no capacity")
    assert result.returncode == 0 and mock.state.faults["endpoints"] == {"derm-assist-x": {"latency_ms": 800, "fail_deploy": "no capacity"}}
    shown = cli("faults")
    assert shown.returncode == 0 and '"latency_ms": 800' in shown.stdout and '"throttle_rate": 0.2' in shown.stdout
    assert cli("faults", "--clear").returncode == 0
    assert mock.state.faults == {"global": {}, "endpoints": {}}


@pytest.mark.parametrize("args,code,expect", [
    (["--set", "no_such_fault=1"], 2, "unknown fault 'no_such_fault'"),
    (["--set", "throttle_rate"], 2, "use KEY=VALUE"),
    (["--set", "throttle_rate=lots"], 2, "could not convert"),
])
def test_faults_command_refuses_nonsense_in_one_line(mock, args, code, expect):
    result = cli("faults", *args)
    assert result.returncode == code and result.stderr.count("\n") == 1, result.stderr
    assert expect in result.stderr and "Traceback" not in result.stderr
    assert mock.state.faults == {"global": {}, "endpoints": {}}


def test_faults_command_needs_the_mock(mock):
    env = dict(os.environ)
    env.pop("AWS_ENDPOINT_URL")
    result = cli("faults", "--set", "throttle_rate=1", env=env)
    assert result.returncode == 2 and "only be injected into the local mock" in result.stderr and result.stderr.count("\n") == 1
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens there
    result = cli("faults", env=env)
    assert result.returncode == 1 and "Cannot reach the local mock" in result.stderr and result.stderr.count("\n") == 1


def test_faults_set_from_the_cli_reach_classify(skin, image):
    assert cli("faults", "--endpoint", skin.name, "--set", "throttle_rate=1").returncode == 0
    with pytest.raises(DermAssistError) as info:
        classify.classify(image, budget_seconds=0.2)
    assert "ThrottlingException" in str(info.value)
