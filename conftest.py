"""Root pytest configuration: when nbval executes notebooks, serve them the local mock.

nbval's cells are not ordinary test functions, so fixtures cannot reach them: the mock is started
once per session here and the kernel inherits the environment that points boto3 at it.
"""

import os
import tempfile

_mock = None


def pytest_configure(config):
    global _mock
    if not getattr(config.option, "nbval_lax", False) and not getattr(config.option, "nbval", False):
        return
    from helpers.mock import MockServer

    _mock = MockServer().start()
    os.environ.update(_mock.environment())
    os.environ["DERM_ASSIST_WORK_DIR"] = tempfile.mkdtemp(prefix="derm-assist-nbval-")
    os.environ["DERM_ASSIST_NONINTERACTIVE"] = "1"
    os.environ["DERM_ASSIST_OWNER"] = "nbval"
    os.environ["MPLBACKEND"] = "Agg"


def pytest_unconfigure(config):
    if _mock is not None:
        _mock.stop()
