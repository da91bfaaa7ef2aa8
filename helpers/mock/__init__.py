"""The local mock of SageMaker: start it, point boto3 at it, drive its faults.

>>> with MockServer() as mock:          # a free port on 127.0.0.1, in a background thread
...     os.environ.update(mock.environment())
...     ...                             # the pack's code runs unchanged against it
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from typing import Any

from ..core.config import MOCK_TIME_SCALE_ENV
from .server import ACCOUNT_ID, ROLE_ARN, ROLE_NAME, WORKFLOW_ROLE_ARN, WORKFLOW_ROLE_NAME, MockApp, MockSettings, MockState

__all__ = ["MockServer", "ACCOUNT_ID", "ROLE_ARN", "control", "environment_for"]

MOCK_REGION = "eu-west-2"


def environment_for(url: str, region: str = MOCK_REGION) -> dict[str, str]:
    """The variables that point boto3 (and the pack) at a mock served at ``url``."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "DERM_ASSIST_ROLE_ARN": ROLE_ARN,
        "DERM_ASSIST_WORKFLOW_ROLE_ARN": WORKFLOW_ROLE_ARN,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MockServer:
    """The mock served on 127.0.0.1 from a background thread (or the foreground with ``serve_forever``)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", settings: MockSettings | None = None, log_requests: bool = False):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class _Handler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):  # one line per request only when asked
                if log_requests:
                    super().log_request(*args, **kwargs)

        self.app = MockApp(MockState(settings=settings or MockSettings.from_environment()))
        self.host, self.port = host, port or _free_port()
        self._server = make_server(host, self.port, self.app, threaded=True, request_handler=_Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> MockState:
        return self.app.state

    def environment(self, region: str = MOCK_REGION) -> dict[str, str]:
        env = environment_for(self.url, region)
        if self.state.settings.time_scale != 1:  # progress displays show times on the mock's clock
            env[MOCK_TIME_SCALE_ENV] = f"{self.state.settings.time_scale:g}"
        return env

    def start(self) -> MockServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="derm-assist-mock", daemon=True)
        self._thread.start()
        self.seed()
        return self

    def serve_forever(self) -> None:
        self.seed()
        self._server.serve_forever()

    @staticmethod
    def seed() -> None:
        """Create what a workshop account already has: the SageMaker execution role and the workflow role."""
        from moto.iam.models import iam_backends

        iam = iam_backends[ACCOUNT_ID]["global"]
        existing = [role.name for role in iam.roles.values()]
        for name, service, about in ((ROLE_NAME, "sagemaker.amazonaws.com", "Execution role"),
                                     (WORKFLOW_ROLE_NAME, "states.amazonaws.com", "Step Functions role for the triage workflow")):
            if name not in existing:
                policy = json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
                )
                iam.create_role(name, policy, "/", None, f"{about} seeded by the local mock", [], None)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def control(url: str, route: str, payload: dict[str, Any] | None = None, method: str | None = None) -> dict:
    """Call a mock control route, e.g. ``control(url, "faults", {"throttle_rate": 0.2})``."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        f"{url.rstrip('/')}/_mock/{route}", data=data, method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
        return json.loads(response.read())
