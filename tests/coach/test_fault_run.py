"""`derm-assist run --faults`: how a coach rehearses a bad day on AWS.

The whole workshop on a bad day is executed once, by tests/test_notebooks.py (``mock_settings.BAD_DAY``); here is
the plumbing: parsing the faults, refusing bad ones before anything runs.
"""

from __future__ import annotations

import pytest
from mock_settings import BAD_DAY as FAULTS

from helpers.coach import cli, runner
from helpers.core.errors import BadInputError


def test_run_command_parses_faults(monkeypatch):
    seen = {}
    monkeypatch.setattr(runner, "run_all", lambda *args, **kwargs: seen.update(kwargs) or [])
    assert cli.main(["run", "--faults", "throttle_rate=0.2,model_error_rate=0.05", "--cards", "data-bias"]) == 0
    assert seen["faults"] == FAULTS and seen["cards"] == ("data-bias",)
    assert cli.main(["run"]) == 0 and seen["faults"] is None


@pytest.mark.parametrize("args,expect", [
    (["--faults", "throttle_rate"], "use KEY=VALUE"),
    (["--faults", "throttle_rate=0.2", "--no-mock"], "needs the local mock"),
])
def test_run_command_refuses_bad_faults_in_one_line(monkeypatch, capsys, args, expect):
    monkeypatch.setattr(runner, "run_all", lambda *a, **k: pytest.fail("must not run"))
    assert cli.main(["run", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err


def test_runner_refuses_unknown_faults_before_executing_anything(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("must not execute"))
    with pytest.raises(BadInputError) as info:
        runner.run_all(tmp_path, faults={"throttle_rate": 0.2, "no_such_fault": 1}, report=False)
    assert "unknown fault 'no_such_fault'" in str(info.value)
    with pytest.raises(BadInputError):
        runner.run_all(tmp_path, faults=FAULTS, with_mock=False, report=False)
