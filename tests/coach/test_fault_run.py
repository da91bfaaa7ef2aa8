"""A bad day on AWS, rehearsed: the whole workshop under 20 % throttling and 5 % model errors.

Every notebook must still execute; the retries absorb the faults and the report says how many fired.
Slow (about a minute and a half): it executes every notebook.
"""

from __future__ import annotations

import json

import pytest

from helpers.coach import cli, runner
from helpers.core.config import MOCK_TIME_SCALE_ENV, SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError
from helpers.curveball.fairness import wilson_interval

FAULTS = {"throttle_rate": 0.2, "model_error_rate": 0.05}


def outputs_text(path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.mark.skipif(not any(SKIN_PROXIES_DIR.glob("*.png")),
                    reason="skin_proxies/ is empty: generate the proxies (python -m helpers.maintainer.proxies) to run the workshop")
def test_the_whole_workshop_survives_throttling_and_model_errors(tmp_path, monkeypatch):
    from mockclock import TEST_TIME_SCALE

    monkeypatch.setenv(MOCK_TIME_SCALE_ENV, str(TEST_TIME_SCALE))  # deploys ready 10x sooner, as in the other tests
    out = tmp_path / "build"
    runs = runner.run_all(out, cards=("data-bias",), faults=FAULTS)
    for run in runs:
        print(f"{run.output.name:<40} {run.seconds:5.1f} s  {'ok' if run.ok else run.error}")
    assert {r.output.name: r.error for r in runs if not r.ok} == {}
    assert [r.output.name for r in runs] == [nb.name if not nb.name.startswith("05_") else "05_curveball--data-bias.ipynb"
                                            for nb in runner.notebooks()]
    stats = json.loads((out / "timings.json").read_text())["mock"]
    print("mock:", stats)
    assert stats["faults"] == FAULTS
    assert stats["injected"].get("throttle_rate", 0) >= 5 and stats["injected"].get("model_error_rate", 0) >= 1  # they fired
    assert "Fault rehearsal" in (out / "index.html").read_text()
    for name in ("02_fun_images.ipynb", "03_skin_proxies.ipynb"):  # every batch reported, none lost an image
        assert "images classified." in outputs_text(out / name) and " failed:" not in outputs_text(out / name)
    assert "0 endpoint(s) of yours (workshop-ci) still running." in outputs_text(out / "99_cleanup.ipynb")


# --- the plumbing, quickly ----------------------------------------------------------------------------


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


@pytest.mark.parametrize("n", range(1, 30))
def test_wilson_interval_always_contains_the_rate(n):
    """Found by the fault run: with every image of a group referred (n=4, 10, 14, ...), rounding put the upper
    bound a hair below 1 and matplotlib refused the negative error bar in the data-bias exercise."""
    for k in (0, n // 2, n):
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= k / n <= high <= 1.0
