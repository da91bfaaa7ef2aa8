"""Shared fixtures: a local mock of SageMaker for the whole session, a clean account for each test."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from mock_settings import TEST_TIME_SCALE

from helpers.core import aws
from helpers.core.config import CACHE_DIR_ENV, MOCK_TIME_SCALE_ENV
from helpers.mock import MockServer, control

# The slowest files (they execute notebooks, start servers or processes, or deploy many times), slowest first: under
# pytest-xdist (`make test` passes --no-loadscope-reorder, so this order holds) they start first and the many short
# files fill the other workers around them, instead of one long file starting last. Measured with
# `pytest -n 4 --dist loadfile --durations=0` on 2 cores; the order matters more than the exact figures.
SLOWEST_FIRST = ("tests/test_notebooks.py",  # the whole workshop, once: ~95 s
                 "tests/mock/test_faults.py", "tests/test_bad_inputs.py", "tests/maintainer/test_space.py",
                 "tests/reference/test_toolkit_differential.py", "tests/test_cleanup_safety.py", "tests/test_capture.py",
                 "tests/test_early_deploy.py", "tests/core/test_secrets.py", "tests/test_endpoint.py",
                 "tests/maintainer/test_proxies.py", "tests/mock/test_mock.py")  # 34 s down to 10 s


def pytest_configure(config):
    """One cache folder (helpers.core.config.cache_dir) for the whole session, never the user's own.

    Set before pytest-xdist starts its workers, which inherit it, as do the notebook kernels and CLI processes: the
    first process that deploys asks the SageMaker SDK for the container URI, all the others read its answer.
    """
    if hasattr(config, "workerinput") or os.environ.get(CACHE_DIR_ENV):
        return
    folder = tempfile.mkdtemp(prefix="derm-assist-test-cache-")
    os.environ[CACHE_DIR_ENV] = folder
    config.add_cleanup(lambda: (os.environ.pop(CACHE_DIR_ENV, None), shutil.rmtree(folder, ignore_errors=True)))


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
