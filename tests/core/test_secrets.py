"""Credentials never appear in CLI output or errors (executed notebooks and the report: tests/test_notebooks.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import corpus
import pytest
from botocore.exceptions import ClientError
from fake_credentials import SECRET_KEY, SECRETS, SESSION_TOKEN, leaks

from helpers.core import aws, errors
from helpers.core.config import FUN_IMAGES_DIR
from helpers.mock import control

CLI = [sys.executable, "-m", "helpers.coach.cli"]


# --- errors -------------------------------------------------------------------------------------------


def test_error_messages_redact_the_secrets_in_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    exc = ClientError({"Error": {"Code": "SomethingOdd", "Message": f"request had token {SESSION_TOKEN} and key {SECRET_KEY}"},
                       "ResponseMetadata": {"HTTPStatusCode": 400}}, "ListEndpoints")
    message = str(errors.explain_aws_error(exc, action="Listing endpoints"))
    assert "SomethingOdd" in message and "***" in message and not leaks(message)
    assert not leaks(str(errors.DermAssistError(f"oops {SECRET_KEY}")))


def test_secret_looking_values_are_redacted_even_when_not_in_the_environment():
    text = errors.redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and X-Amz-Security-Token: IQoJb3JpZ2luX2VjEJr")
    assert "wJalrXUtnFEMI" not in text and "IQoJb3JpZ2lu" not in text and text.count("***") == 2


def test_short_placeholders_are_not_redacted(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # the mock's value; must not blank the word everywhere
    assert errors.redact("testing the endpoint") == "testing the endpoint"


# --- the CLI in real processes ------------------------------------------------------------------------


@pytest.fixture
def secret_env(deployed, tmp_path):
    env = dict(os.environ, **SECRETS)
    env["DERM_ASSIST_WORK_DIR"] = os.environ["DERM_ASSIST_WORK_DIR"]
    return env


def run(env, *args):
    return subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_cli_output_never_shows_credentials(secret_env, deployed, tmp_path):
    cases = corpus.build(tmp_path / "corpus")
    image = str(cases["gps"].path)
    commands = {
        "classify ok": ["classify", image, "--top-k", "2"],
        "classify json": ["classify", image, "--json"],
        "endpoints": ["endpoints"],
        "deploy again": ["deploy", "--quiet"],
        "faults": ["faults"],
        "bad image": ["classify", str(cases["text"].path)],
        "missing": ["classify", str(cases["missing"].path)],
        "typo endpoint": ["classify", image, "--endpoint", "typo"],
        "typo endpoint debug": ["--debug", "classify", image, "--endpoint", "typo"],
        "bad faults": ["faults", "--set", "nope=1"],
    }
    outputs = {name: run(secret_env, *args) for name, args in commands.items()}
    offline = dict(secret_env, AWS_ENDPOINT_URL="http://127.0.0.1:9")  # nothing listens: a connection error
    outputs["unreachable"] = run(offline, "endpoints")
    outputs["unreachable debug"] = run(dict(offline, DERM_ASSIST_DEBUG="1"), "endpoints")
    results = {name: (proc.communicate(timeout=120)[0], proc.returncode) for name, proc in outputs.items()}
    assert results["classify ok"][1] == 0 and results["endpoints"][1] == 0 and results["deploy again"][1] == 0
    assert results["typo endpoint"][1] == 1 and results["bad image"][1] == 2 and results["unreachable"][1] == 1
    assert "Traceback" in results["typo endpoint debug"][0]  # --debug really shows the internals
    for name, (output, _) in results.items():
        assert not leaks(output), f"{name}: {output}"


def test_cli_errors_about_credentials_do_not_repeat_them(secret_env, deployed):
    control(aws.endpoint_url(), "faults", {"expired_credentials": True})
    procs = {"endpoints": run(secret_env, "endpoints"), "classify": run(secret_env, "classify", str(FUN_IMAGES_DIR)),
             "cleanup": run(secret_env, "--debug", "cleanup", "--all", "--dry-run")}
    outputs = {}
    for name, proc in procs.items():
        outputs[name] = proc.communicate(timeout=120)[0]
        assert proc.returncode == 1 and not leaks(outputs[name]), f"{name}: {outputs[name]}"
    assert "credentials were refused or have expired" in outputs["endpoints"] and outputs["endpoints"].count("\n") == 1
    assert "Traceback" in outputs["cleanup"]  # --debug: the traceback is shown, still without the secrets
