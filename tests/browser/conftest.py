"""Fixtures for the browser tests: the mock, one JupyterLab server and one Chromium for the whole session.

Every test module here carries ``pytestmark = BROWSER`` (labdriver): marked ``browser``, and where Chromium, Playwright or JupyterLab is missing (a user's machine)
they skip with one line saying what to install; `make test` and CI install all three.
"""

from __future__ import annotations

import os

import pytest
from labdriver import Lab

from helpers.core.config import REPO_ROOT


@pytest.fixture(scope="session")
def lab(mock_server, tmp_path_factory):
    """JupyterLab 4 on a free loopback port, its kernels pointed at the mock, and a headless Chromium."""
    mock_server.state.settings.deploy_seconds = 0.3
    mock_server.state.settings.cold_start_seconds = 0.3
    base = tmp_path_factory.mktemp("browser")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DERM_ASSIST_", "AWS_", "JUPYTER_"))
           or key == "JUPYTER_PATH"}
    env.update(mock_server.environment())
    env.update({
        "DERM_ASSIST_WORK_DIR": str(base / "work" / "default"),
        "DERM_ASSIST_OWNER": "browser",
        # The kernel imports the pack under test, wherever the notebooks are copied.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    })
    env.pop("MPLBACKEND", None)
    root = base / "root"
    root.mkdir()
    lab = Lab(root, env).start()
    _labs.append(lab)
    yield lab
    lab.stop()


_labs: list[Lab] = []


def pytest_terminal_summary(terminalreporter):
    for lab in _labs:
        if lab.timings:
            terminalreporter.section("Run All in JupyterLab")
            for line in lab.timing_lines():
                terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "lab" in getattr(item, "fixturenames", ()):
        lab = item.funcargs.get("lab")
        if lab is not None:
            saved = lab.save_failure(item.nodeid)
            if saved:
                report.sections.append(("browser", "saved " + ", ".join(str(p) for p in saved)))
