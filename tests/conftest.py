"""Shared fixtures: a local mock of SageMaker for the whole session, a clean account for each test."""

from __future__ import annotations

import pytest
from mockclock import TEST_TIME_SCALE

from helpers.core import aws
from helpers.core.config import MOCK_TIME_SCALE_ENV
from helpers.mock import MockServer, control

# The files that execute notebooks or start processes take a minute or more each: under pytest-xdist they start first,
# so that the many short tests fill the other workers around them instead of waiting behind them at the end.
SLOWEST_FIRST = ("tests/coach/test_fault_run.py", "tests/test_notebooks.py", "tests/core/test_secrets.py",
                 "tests/test_bad_inputs.py", "tests/maintainer/test_space.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return SLOWEST_FIRST.index(path) if path in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: every file keeps its own order


@pytest.fixture(scope="session")
def mock_server():
    server = MockServer().start()
    yield server
    server.stop()


@pytest.fixture
def mock_aws(mock_server, monkeypatch, tmp_path):
    """Point the pack at the mock with an empty account and a fresh work folder."""
    control(mock_server.url, "reset", {})
    for key, value in mock_server.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DERM_ASSIST_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("DERM_ASSIST_OWNER", "tester")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    mock_server.seed()
    # The tests' clock runs 10x faster than AWS's (DERM_ASSIST_MOCK_TIME_SCALE): a new endpoint is Creating for
    # 2 s on it, 0.2 s of wall time, and the pack's deploy waits poll as often.
    monkeypatch.setenv(MOCK_TIME_SCALE_ENV, str(TEST_TIME_SCALE))
    settings, clock = mock_server.state.settings, mock_server.state.settings.time_scale
    settings.time_scale, settings.deploy_seconds = TEST_TIME_SCALE, 2.0
    settings.cold_start_seconds = 0.3
    aws.reset_clients()
    yield mock_server
    settings.time_scale = clock
    # Leave the session's mock as a new account again: a test's endpoints must not use up the quota of the
    # tests after it (the browser tests share this mock with their JupyterLab kernels).
    control(mock_server.url, "reset", {})
    mock_server.seed()
    aws.reset_clients()


@pytest.fixture
def deployed(mock_aws):
    """A MobileNetV2 endpoint, InService and remembered."""
    from helpers import endpoint, state

    info = endpoint.deploy(progress=False)
    state.remember_endpoint(info.name, info.model_id)
    return info
