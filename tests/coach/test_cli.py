"""The derm-assist console script: --help everywhere, exit codes 0/1/2, one-line errors, no tracebacks."""

import subprocess
import sys

import pytest

from helpers.coach import cli
from helpers.core.config import FUN_IMAGES_DIR

COMMANDS = ["mock", "deploy", "classify", "endpoints", "cleanup", "run", "record", "proxies", "portfolio", "triage", "faults"]


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "helpers.coach.cli", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    assert "usage: derm-assist " + command in capsys.readouterr().out


def test_unknown_option_is_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["classify"])
    assert info.value.code == 2


def test_deploy_serverless_takes_the_models_memory_unless_told(mock_aws, capsys):
    from helpers import models

    assert cli.main(["deploy", "--model", models.SKIN.id, "--serverless", "--quiet"]) == 0
    assert f"serverless {models.SKIN.serverless_memory_mb} MB" in capsys.readouterr().out
    assert cli.main(["deploy", "--serverless", "--memory", "4096", "--name", "derm-assist-big", "--quiet"]) == 0
    assert "serverless 4096 MB" in capsys.readouterr().out


def test_classify_and_endpoints_against_the_mock(deployed, capsys):
    assert cli.main(["classify", str(FUN_IMAGES_DIR / "dog.jpg"), "--top-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dog.jpg: German shepherd")
    assert cli.main(["endpoints"]) == 0
    listing = capsys.readouterr().out
    assert deployed.name in listing and "ml.m5.large" in listing and "~$" in listing


@pytest.mark.parametrize("bad", ["/no/such/file.jpg"])
def test_bad_input_is_one_line_and_exit_2(deployed, capsys, bad):
    assert cli.main(["classify", bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("derm-assist: error: File not found")  # one file, one line
    assert "Traceback" not in "\n".join(err)


def test_unknown_endpoint_is_exit_1_and_lists_existing(deployed, capsys):
    assert cli.main(["classify", str(FUN_IMAGES_DIR / "dog.jpg"), "--endpoint", "typo"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and deployed.name in err and err.startswith("derm-assist: error:")


def test_cleanup_dry_run_then_real_then_again(deployed, capsys):
    assert cli.main(["cleanup", "--all", "--older-than", "0m", "--dry-run"]) == 0
    assert f"would delete {deployed.name}" in capsys.readouterr().out
    assert cli.main(["cleanup"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert cli.main(["cleanup", deployed.name]) == 0
    assert "already gone" in capsys.readouterr().out


def test_cleanup_rejects_contradictory_options(capsys):
    assert cli.main(["cleanup", "x", "--all"]) == 2
    assert cli.main(["cleanup", "--older-than", "4h"]) == 2


def test_no_credentials_is_one_line_in_a_real_process(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_DEFAULT_REGION": "eu-west-2", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "DERM_ASSIST_WORK_DIR": str(tmp_path)}
    result = run_cli("endpoints", env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "credentials" in result.stderr
    assert "Traceback" not in result.stderr
