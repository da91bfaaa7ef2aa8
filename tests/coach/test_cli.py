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


def test_triage_command_uses_the_shared_assessment(mock_aws, capsys):
    from helpers import endpoint, state, triage
    from helpers.core.config import SKIN_PROXIES_DIR
    from helpers.models import SKIN_VIT_ID

    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_VIT_ID)
    image = sorted(SKIN_PROXIES_DIR.glob("*.png"))[0]
    assert cli.main(["triage", str(image), "--threshold", "0", "--note", "rehearsal"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Result for {image.name}: ") and triage.DISCLAIMER in out
    assert "stand-in (simulated), not the real skin-cancer ViT" in out and "Logged for review in" in out
    row = triage.ReviewLog().read().iloc[-1]
    assert row.reviewer_note == "rehearsal" and row.model_id == SKIN_VIT_ID


def test_numeric_defaults_come_from_their_owners():
    from helpers import models, triage
    from helpers.core import config

    parser = cli.build_parser()
    assert parser.parse_args(["triage", "x.png"]).threshold == triage.DEFAULT_THRESHOLD
    assert parser.parse_args(["classify", "x.png"]).top_k == config.DEFAULT_TOP_K
    deploy = parser.parse_args(["deploy"])
    assert deploy.model == models.DEFAULT.id and deploy.memory is None  # None: the model's own, from the registry
    assert deploy.max_concurrency == config.DEFAULT_SERVERLESS_CONCURRENCY
    mock = parser.parse_args(["mock"])
    assert (mock.port, mock.deploy_seconds, mock.instance_quota) == (config.MOCK_PORT, config.MOCK_DEPLOY_SECONDS, config.MOCK_INSTANCE_QUOTA)
