"""The GitHub Actions workflow runs the README's test command on every push and nightly, keeps what a failure
needs to be understood, and `make test` includes the reference and browser tests."""

from __future__ import annotations

import re
import subprocess

import yaml

from helpers.core.config import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def load_workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def readme_test_command() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    return next(c for c in commands if "test" in c)


def steps() -> list[dict]:
    (job,) = load_workflow()["jobs"].values()
    return job["steps"]


def test_workflow_runs_on_push_and_nightly():
    triggers = load_workflow()["on"]
    assert "push" in triggers
    (schedule,) = triggers["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*") and hour.isdigit(), "the schedule must run every night"


def test_workflow_runs_the_readme_test_command():
    assert readme_test_command() == "make test"
    commands = [step.get("run", "") for step in steps()]
    ci_run = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    runs_ci = any(re.search(r"(^|\s)(bash\s+)?\.ci/run\b", c) for c in commands)
    assert runs_ci or any("make test" in c for c in commands)
    if runs_ci:
        assert re.search(r"^make test$", ci_run, re.MULTILINE)
    assert "apt-get install" in ci_run and "chromium" in ci_run, ".ci/run must install Chromium when it is missing"


def test_workflow_caches_pip_and_keeps_the_artifacts():
    python = next(s for s in steps() if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip"
    assert set(python["with"]["cache-dependency-path"].split()) == {"requirements/constraints.txt", "pyproject.toml"}
    upload = next(s for s in steps() if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
    kept = set(upload["with"]["path"].split())
    assert {"build/test-notebooks/", "build/browser-failures/"} <= kept  # executed notebooks + HTML report, screenshots


def test_make_test_runs_the_reference_and_browser_tests_apart():
    dry = subprocess.run(["make", "-n", "--always-make", "test", "VENV=/nonexistent-venv"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    pytest_runs = [line for line in dry.replace("\\\n", " ").splitlines() if " -m pytest " in line]
    assert len(pytest_runs) == 3, dry
    core, reference, browser = pytest_runs  # the fast loop first, then the runs that need Java and Chromium
    assert '-m "not browser and not reference"' in core and "-n " in core
    assert "tests/reference -m reference" in reference, f"make test does not run the reference test:\n{dry}"
    assert "tests/browser" in browser, f"make test does not run the browser tests:\n{dry}"
