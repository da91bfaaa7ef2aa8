"""The real Hugging Face inference toolkit, served as its container serves it, next to the session's mock.

``toolkit_servers`` starts one Multi Model Server per model of the registry (tests/reference/serve_toolkit.py, in
the reference environment that ``make reference`` builds) with a tiny randomly initialised model in that model's
label space and input geometry, and ``mock_endpoints`` deploys the same two models on the mock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers import models
from helpers.core.config import REPO_ROOT
from helpers.mock import control

REFERENCE_PYTHON = REPO_ROOT / ".venv-reference" / "bin" / "python"
SERVE = Path(__file__).with_name("serve_toolkit.py")
STARTUP_SECONDS = 240
# The architecture of the tiny model that stands in for each registry model in the reference container.
ARCHITECTURES = {models.MOBILENET_V2_ID: "mobilenet_v2", models.SKIN_VIT_ID: "vit"}


def _missing(reason: str):
    """Without the reference environment the test cannot run: skip locally, fail in CI (where make builds it)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run it: make reference)")
    pytest.skip(reason)


def model_spec(spec: models.ModelSpec) -> dict:
    """What serve_toolkit.py builds: the registry's labels and geometry for a tiny model of that architecture."""
    geometry = spec.geometry
    shape = ({"size": list(geometry.size)} if geometry.size else {"shortest_edge": geometry.shortest_edge})
    if geometry.center_crop:
        shape["center_crop"] = list(geometry.center_crop)
    return {"architecture": ARCHITECTURES[spec.id], "task": spec.task, "labels": list(spec.labels), "geometry": shape}


# Multi Model Server refuses ports above 32767; the servers take the first free ones from here. Each pytest-xdist
# worker starts 200 ports further on, so two workers never pick the same free port at the same moment.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
PORTS = range(int(os.environ.get("DERM_ASSIST_REFERENCE_PORT", "18080")) + 200 * _WORKER, 32767)


def _free_port(taken: set[int]) -> int:
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port for the reference toolkit")


def _ready(port: int) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=b"{}",
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.code == 400  # the model is loaded and answered (it refuses an empty request)
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def toolkit_servers():
    """{model id: port} of the real toolkit serving a tiny model of that registry model on loopback."""
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Multi Model Server, which the Hugging Face container runs, needs it")
    if not REFERENCE_PYTHON.exists():
        _missing(f"no reference environment at {REFERENCE_PYTHON.parent.parent}: run `make reference`")
    workdir = Path(tempfile.mkdtemp(prefix="dtk-"))  # short: MMS's unix sockets live here
    servers: dict[str, tuple[int, subprocess.Popen]] = {}
    taken: set[int] = set()
    try:
        for spec in (models.MOBILENET_V2, models.SKIN_VIT):
            folder = workdir / ARCHITECTURES[spec.id]
            folder.mkdir()
            (folder / "spec.json").write_text(json.dumps(model_spec(spec)), encoding="utf-8")
            port = _free_port(taken)
            log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen([str(REFERENCE_PYTHON), str(SERVE), str(folder / "spec.json"), str(folder), str(port)],
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            servers[spec.id] = (port, process)
        deadline = time.monotonic() + STARTUP_SECONDS
        for model_id, (port, process) in servers.items():
            while not _ready(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log_file = workdir / ARCHITECTURES[model_id] / "server.log"
                    tail = log_file.read_text(errors="replace")[-3000:]
                    pytest.fail(f"the reference toolkit for {model_id} did not start:\n{tail}")
                time.sleep(1)
        yield {model_id: port for model_id, (port, _) in servers.items()}
    finally:
        for _, process in servers.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for _, process in servers.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def mock_endpoints(mock_server):
    """{model id: endpoint name} on the session's mock, and a sagemaker-runtime client for it (no retries)."""
    import boto3
    from botocore.config import Config

    control(mock_server.url, "reset", {})
    mock_server.seed()
    env = mock_server.environment()
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                    aws_session_token=env["AWS_SESSION_TOKEN"], region_name=env["AWS_DEFAULT_REGION"])
    sagemaker = session.client("sagemaker", endpoint_url=mock_server.url)
    runtime = session.client("sagemaker-runtime", endpoint_url=mock_server.url,
                             config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120))
    mock_server.state.settings.deploy_seconds = 0.1
    names = {}
    for spec in (models.MOBILENET_V2, models.SKIN_VIT):
        name = f"reference-{ARCHITECTURES[spec.id].replace('_', '-')}"
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=env["DERM_ASSIST_ROLE_ARN"],
                               PrimaryContainer={"Image": "huggingface-pytorch-inference", "Environment": spec.container_env()})
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        names[spec.id] = name
    deadline = time.monotonic() + 30
    for name in names.values():
        while sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] != "InService":
            assert time.monotonic() < deadline, f"mock endpoint {name} never came InService"
            time.sleep(0.1)
    yield names, runtime
    control(mock_server.url, "reset", {})
    mock_server.seed()

