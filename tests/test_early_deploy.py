"""Starting a deploy ahead of the notebook that needs it (00 for 01, 03 for 04), and the mock's realistic timings."""

from __future__ import annotations

import re
import time

import pytest

from helpers import cleanup, endpoint, models, state
from helpers.core import aws
from helpers.core.config import (
    MOCK_REALISTIC_DEPLOY_SECONDS,
    MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS,
    MOCK_TIME_SCALE_ENV,
    MOCK_TIMINGS_ENV,
    START_DEPLOY_EARLY_ENV,
)
from helpers.core.errors import BadInputError
from helpers.mock import MockServer, MockSettings
from helpers.prices import load_prices


def endpoint_names() -> set[str]:
    return {e["EndpointName"] for e in aws.sagemaker().list_endpoints()["Endpoints"]}


DURATION = r"(?:(\d+) min )?(\d+) s"


def in_service_line(text: str) -> tuple[int, int]:
    """``"... is InService, 6 min 02 s after it was created; waited here 5 min 57 s."`` -> ``(362, 357)``."""
    match = re.search(rf"is InService, {DURATION} after it was created; waited here {DURATION}\.", text)
    assert match, text
    minutes_since, seconds_since, minutes_waited, seconds_waited = (int(g or 0) for g in match.groups())
    return 60 * minutes_since + seconds_since, 60 * minutes_waited + seconds_waited


# --- start_deploy / wait_until_in_service ---------------------------------------------------------------


def test_start_deploy_returns_at_once_with_the_endpoint_creating(mock_aws):
    mock_aws.state.settings.deploy_seconds = 30
    info = endpoint.start_deploy(progress=False)
    assert info.status == "Creating" and not info.reused
    assert endpoint_names() == {info.name}
    again = endpoint.start_deploy(progress=False)
    assert again.reused and again.name == info.name and endpoint_names() == {info.name}


def test_wait_finds_an_endpoint_that_became_ready_while_the_learner_read(mock_aws, capsys):
    mock_aws.state.settings.deploy_seconds = 3  # 0.3 s of wall time
    info = endpoint.start_deploy(progress=False)
    time.sleep(0.4)  # the reading, longer than the deploy
    polls = []
    ready = endpoint.wait_until_in_service(info.name, progress=True, sleep=polls.append)
    assert ready.status == "InService" and polls == []  # ready on the first look: no wait at all
    assert ready.waited_seconds is not None and ready.waited_seconds < 3


def test_wait_shows_the_time_since_creation_on_the_mocks_clock(mock_aws, monkeypatch, capsys):
    # 6 minutes on a clock 100x faster take 3.6 s; the learner still reads minutes.
    monkeypatch.setenv(MOCK_TIME_SCALE_ENV, "0.01")
    mock_aws.state.settings.deploy_seconds = 360
    monkeypatch.setattr(mock_aws.state.settings, "time_scale", 0.01)
    started = time.monotonic()
    info = endpoint.deploy(progress=True)
    assert 3.0 < time.monotonic() - started < 30
    out = capsys.readouterr().out
    assert "Creating endpoint" in out and f"{info.name} is InService" in out
    since, waited = in_service_line(out)
    assert 360 <= since < 7 * 60  # within a poll of the 6 minutes
    # The wait began after the create calls, so it can be under 6 minutes: on this clock a busy machine's 0.2 s for
    # those calls is 20 s. A minute of slack still tells the mock's minutes from the 3.6 s of wall time.
    assert since - 60 <= waited <= since
    assert since - 60 <= info.waited_seconds <= since + 1


# --- the mock's realistic timings -----------------------------------------------------------------------


def test_realistic_timings_are_aws_like_and_scale(monkeypatch):
    monkeypatch.setenv(MOCK_TIMINGS_ENV, "realistic")
    monkeypatch.setenv(MOCK_TIME_SCALE_ENV, "0.01")
    settings = MockSettings.from_environment()
    assert 5 * 60 <= settings.deploy_seconds <= 10 * 60  # real-time: typically 5-10 minutes
    assert settings.serverless_deploy_seconds < settings.deploy_seconds  # serverless: a few minutes
    assert settings.provisioning_seconds(False) == pytest.approx(MOCK_REALISTIC_DEPLOY_SECONDS * 0.01)
    assert settings.provisioning_seconds(True) == pytest.approx(MOCK_REALISTIC_SERVERLESS_DEPLOY_SECONDS * 0.01)
    monkeypatch.delenv(MOCK_TIMINGS_ENV)
    fast = MockSettings.from_environment()
    assert fast.provisioning_seconds(True) == fast.provisioning_seconds(False) == pytest.approx(fast.deploy_seconds * 0.01)


def test_the_mock_tells_kernels_its_clock(monkeypatch):
    monkeypatch.delenv(MOCK_TIME_SCALE_ENV, raising=False)
    assert MOCK_TIME_SCALE_ENV not in MockServer(settings=MockSettings()).environment()
    server = MockServer(settings=MockSettings(time_scale=0.01))
    try:
        assert server.environment()[MOCK_TIME_SCALE_ENV] == "0.01"
    finally:
        server._server.server_close()


def test_a_bad_time_scale_is_one_line(monkeypatch):
    monkeypatch.setenv(MOCK_TIME_SCALE_ENV, "fast")
    with pytest.raises(BadInputError, match="0.01"):
        MockSettings.from_environment()


def test_serverless_endpoints_take_their_own_provisioning_time(mock_aws, monkeypatch):
    mock_aws.state.settings.deploy_seconds = 30
    monkeypatch.setattr(mock_aws.state.settings, "serverless_deploy_seconds", 0.1)
    realtime = endpoint.start_deploy(progress=False)
    sls = endpoint.deploy(models.SKIN.id, serverless=endpoint.ServerlessSpec.for_model(models.SKIN.id), progress=False)
    assert sls.status == "InService" and endpoint.describe(realtime.name).status == "Creating"


# --- notebook 00: start MobileNetV2 early -----------------------------------------------------------------


def test_start_early_starts_records_and_prices_it(mock_aws):
    early = endpoint.start_early()
    assert early.started and early.info.status == "Creating"
    text = early.text()
    prices = load_prices(region=aws.region())
    assert f"${prices.realtime_hourly('ml.m5.large'):.3f} an hour" in text and prices.as_of in text  # from the dated table
    assert "Notebook 01 waits only for what is left" in text
    assert [s["endpoint_name"] for s in state.started_endpoints()] == [early.info.name]
    assert state.started_endpoints()[0]["by"] == "notebook 00"


def test_notebook_01_reuses_what_00_started_and_waits_only_for_the_rest(mock_aws, capsys):
    mock_aws.state.settings.deploy_seconds = 10  # on the tests' clock: 1 s of wall time
    early = endpoint.start_early()
    time.sleep(0.6)
    info = endpoint.deploy()
    out = capsys.readouterr().out
    assert info.name == early.info.name and info.reused and info.status == "InService"
    assert "Reusing endpoint" in out and "Creating, created" in out
    assert info.waited_seconds < 10  # less than the whole deploy: part of it passed while "reading"
    assert len(aws.sagemaker().list_models()["Models"]) == 1


@pytest.mark.parametrize("how", ["parameter", "coach"])
def test_start_early_can_be_turned_off(mock_aws, monkeypatch, how):
    if how == "coach":
        monkeypatch.setenv(START_DEPLOY_EARLY_ENV, "0")
    early = endpoint.start_early(requested=how != "parameter")
    assert not early.started and endpoint_names() == set()
    assert ("START_DEPLOY_EARLY = False" if how == "parameter" else START_DEPLOY_EARLY_ENV) in early.text()
    assert "notebook 01 deploys MobileNetV2 when you get there" in early.text()


def test_a_zero_quota_is_one_line_and_leaves_nothing(mock_aws, monkeypatch):
    monkeypatch.setattr(mock_aws.state.settings, "instance_quota", 0)  # a sandbox without real-time instances
    early = endpoint.start_early()
    assert not early.started and len(early.lines) == 1
    assert "quota has no room" in early.text() and "ResourceLimitExceeded" in early.text() and "deploys MobileNetV2 as before" in early.text()
    sm = aws.sagemaker()
    assert endpoint_names() == set() and sm.list_models()["Models"] == [] and sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert state.started_endpoints() == []


def test_start_early_reuses_an_existing_endpoint(deployed):
    early = endpoint.start_early()
    assert early.started and early.info.reused and "already exists" in early.text()
    assert endpoint_names() == {deployed.name}


def test_start_early_follows_a_serverless_learner(mock_aws):
    state.remember_endpoint("derm-assist-old", models.DEFAULT.id, serverless=True)
    early = endpoint.start_early(models.SKIN.id, started_by="notebook 03", needed_in="notebook 04")
    assert early.started and early.info.serverless == endpoint.ServerlessSpec.for_model(models.SKIN.id)
    assert "per second of inference" in early.text()


def test_a_problem_is_one_line_never_a_traceback(mock_aws):
    from helpers.mock import control

    control(aws.endpoint_url(), "faults", {"expired_credentials": True})
    early = endpoint.start_early()
    assert "credentials" in early.lines[0]
    assert not early.started and early.text().startswith("Not started early:") and "Traceback" not in early.text()
    assert early.lines[-1] == "Notebook 01 deploys MobileNetV2 as before."


# --- cleanup never leaves an early start behind -------------------------------------------------------------


def test_cleanup_deletes_an_endpoint_started_early_even_before_01_remembered_it(mock_aws):
    early = endpoint.start_early()
    result = cleanup.cleanup(nothing_remembered_ok=True)
    assert early.info.name in result.text() and "deleted" in result.text()
    assert endpoint_names() == set() and state.started_endpoints() == []


def test_cleanup_deletes_both_the_remembered_and_the_early_skin_endpoint(deployed, mock_aws, capsys):
    state.remember_endpoint(deployed.name, deployed.model_id)
    mock_aws.state.settings.deploy_seconds = 30  # still Creating when the cleanup reaches it
    early = endpoint.start_early(models.SKIN.id, started_by="notebook 03", needed_in="notebook 04")
    assert early.started
    cleanup.cleanup()
    assert endpoint_names() == set()
    assert "still Creating" in capsys.readouterr().out  # SageMaker refuses to delete a Creating endpoint: it waited


def test_delete_waits_for_a_creating_endpoint_first(mock_aws, monkeypatch):
    mock_aws.state.settings.deploy_seconds = 5
    info = endpoint.start_deploy(progress=False)
    seen = []
    real_wait = endpoint.wait_until_in_service
    monkeypatch.setattr(endpoint, "wait_until_in_service", lambda name, **kw: seen.append(name) or real_wait(name, **kw))
    assert len(endpoint.delete_endpoint(info.name, progress=False)) == 3
    assert seen == [info.name] and endpoint_names() == set()


# --- notebook 04: a skin model started in 03 --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["replace", "update"])
def test_swap_uses_the_skin_endpoint_started_in_03(deployed, mode):
    state.remember_endpoint(deployed.name, deployed.model_id)
    early = endpoint.start_early(models.SKIN.id, started_by="notebook 03", needed_in="notebook 04")
    assert early.started and endpoint_names() == {deployed.name, early.info.name}  # quota of 2: room for both
    info = endpoint.swap_model(models.SKIN.id, deployed.name, mode=mode, progress=False)
    assert info.name == early.info.name and info.status == "InService" and info.model_id == models.SKIN.id
    assert endpoint_names() == {early.info.name}  # MobileNetV2 deleted: one endpoint bills, not two


def test_no_room_for_the_skin_model_means_the_swap_of_today(deployed, mock_aws, monkeypatch):
    state.remember_endpoint(deployed.name, deployed.model_id)
    monkeypatch.setattr(mock_aws.state.settings, "instance_quota", 1)  # room for MobileNetV2 only
    early = endpoint.start_early(models.SKIN.id, started_by="notebook 03", needed_in="notebook 04")
    assert not early.started and "Notebook 04 deploys skin-cancer ViT as before" in early.text()
    info = endpoint.swap_model(models.SKIN.id, deployed.name, progress=False)
    assert info.model_id == models.SKIN.id and endpoint_names() == {info.name}


def test_the_mock_command_offers_realistic_timings_on_a_faster_clock():
    from helpers.coach import cli

    args = cli.build_parser().parse_args(["mock", "--realistic", "--time-scale", "0.01"])
    assert args.realistic and args.time_scale == 0.01
    assert cli.main(["mock", "--time-scale", "0", "--port", "18401"]) == 2  # one line, exit 2: bad input
