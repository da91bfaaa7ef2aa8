"""Data Capture on the learner's endpoint: outputs only by default, a private pack bucket, and nothing left behind."""

from __future__ import annotations

import base64
import json

import pytest

from helpers import capture, costs, endpoint, images, models, monitoring, state
from helpers.coach import cli
from helpers.core import aws
from helpers.core.config import FUN_IMAGES_DIR, PROJECT_TAG, SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError, DermAssistError, QuotaExceededError
from helpers.mock import control
from helpers.workflow import state_machine


@pytest.fixture
def skin(mock_aws):
    """The learner's skin-model endpoint, real-time and remembered."""
    info = endpoint.deploy(models.SKIN.id, progress=False)
    state.remember_endpoint(info.name, models.SKIN.id)
    return info


def bucket_keys(bucket: str | None = None) -> list[str]:
    s3 = aws.client("s3")
    names = [bucket] if bucket else [b["Name"] for b in s3.list_buckets()["Buckets"]]
    return [o["Key"] for name in names for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]


def test_default_capture_is_outputs_only_into_a_private_tagged_bucket(skin):
    old_config = skin.config_name
    settings = capture.enable_capture(progress=False)
    sm = aws.sagemaker()
    live = sm.describe_endpoint(EndpointName=skin.name)
    assert live["EndpointConfigName"] == settings.config_name != old_config
    config = sm.describe_endpoint_config(EndpointConfigName=settings.config_name)
    assert config["DataCaptureConfig"]["CaptureOptions"] == [{"CaptureMode": "Output"}]
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 100
    assert config["ProductionVariants"][0]["ModelName"] == skin.model_names[0]  # same model, same instance
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=config["EndpointConfigArn"])["Tags"]}
    assert tags["project"] == PROJECT_TAG and tags["owner"] == "tester" and tags["hf-model-id"] == models.SKIN.id
    assert old_config not in {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    assert live["DataCaptureConfig"]["CaptureStatus"] == "Started"

    s3 = aws.client("s3")
    bucket = settings.location.bucket
    assert bucket == f"derm-assist-sagemaker-123456789012-{aws.region()}" and "sagemaker" in bucket
    assert settings.location.s3_uri == f"s3://{bucket}/data-capture/tester"
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}["project"] == PROJECT_TAG
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Filter"]["Prefix"] == "data-capture/tester/" and rule["Expiration"]["Days"] == capture.DEFAULT_RETENTION_DAYS

    again = capture.enable_capture(progress=False)  # safe to re-run: nothing new is created
    assert not again.changed and again.config_name == settings.config_name


def test_by_default_no_input_payload_is_ever_captured(skin):
    """Every byte the endpoint received is compared with everything in the capture bucket."""
    settings = capture.enable_capture(progress=False)
    control(aws.endpoint_url(), "requests", {"record": True})
    sent = monitoring.send_traffic({"fun images": [FUN_IMAGES_DIR], "skin proxies": sorted(SKIN_PROXIES_DIR.glob("*.png"))[:4]},
                                   progress=False)
    bodies = [base64.b64decode(r["body_b64"]) for r in control(aws.endpoint_url(), "requests")["requests"]]
    assert len(bodies) == len(sent) == len(images.list_images(FUN_IMAGES_DIR)) + 4
    stored = "".join(aws.client("s3").get_object(Bucket=settings.location.bucket, Key=k)["Body"].read().decode()
                     for k in bucket_keys(settings.location.bucket))
    assert stored.count('"endpointOutput"') == len(sent) and "endpointInput" not in stored
    for body in bodies:
        image_b64 = json.loads(body)["inputs"]
        assert image_b64[100:160] not in stored and body[:200].decode() not in stored
    table = capture.read_capture(progress=False)
    assert not table["input_captured"].any()


def test_inputs_need_a_dpia_reference_and_are_then_captured(skin):
    with pytest.raises(BadInputError, match="DPIA"):
        capture.enable_capture(capture_inputs=True, progress=False)
    assert "DataCaptureConfig" not in aws.sagemaker().describe_endpoint(EndpointName=skin.name)  # nothing changed
    settings = capture.enable_capture(capture_inputs=True, dpia_reference="DPIA-07, signed off 2026-11-20", progress=False)
    config = aws.sagemaker().describe_endpoint_config(EndpointConfigName=settings.config_name)["DataCaptureConfig"]
    assert sorted(o["CaptureMode"] for o in config["CaptureOptions"]) == ["Input", "Output"]
    monitoring.send_traffic({"fun images": [FUN_IMAGES_DIR / "dog.jpg"]}, progress=False)
    assert capture.read_capture(progress=False)["input_captured"].all()


@pytest.mark.parametrize("kwargs,expect", [({"sampling": 150}, "0 to 100"), ({"retention_days": 0}, "retention_days")])
def test_bad_settings_are_one_line(skin, kwargs, expect):
    with pytest.raises(BadInputError, match=expect):
        capture.enable_capture(progress=False, **kwargs)


def test_what_was_captured_is_what_the_caller_saw(skin):
    capture.enable_capture(progress=False)
    sent = monitoring.send_traffic({"skin proxies": [SKIN_PROXIES_DIR], "darker proxies": monitoring.drifted(
        sorted(SKIN_PROXIES_DIR.glob("*.png"))[:6], "darker")}, progress=False)
    table = capture.read_capture(expect=len(sent), progress=False)
    assert len(table) == len(sent) == 30
    merged = table.merge(sent, on="inference_id", suffixes=("_captured", "_seen"))
    assert len(merged) == 30 and (merged.top_label_captured == merged.top_label_seen).all()
    assert (merged.top_score_captured - merged.top_score_seen).abs().max() < 1e-9
    # Oldest first: the sets arrive one after the other, as sent; within a set, requests in flight together land in
    # the order they finished.
    assert [monitoring.set_of(i) for i in table["inference_id"]] == list(sent["set"])
    assert sorted(table["inference_id"]) == sorted(sent["inference_id"])
    per_request = capture.stored_bytes(skin.name) / len(sent)
    assert 300 < per_request < 2000  # answers only: well under a kilobyte or two each
    estimate = costs.capture_storage(per_request, requests_per_day=500, retention_days=30, region=aws.region())
    assert estimate["monthly_usd"] == pytest.approx(per_request * 500 * 30 / 1e9 * estimate["usd_per_gb_month"])
    assert estimate["usd_per_gb_month"] > 0 and estimate["as_of"]


def test_waiting_for_late_files_gives_up_politely(skin, capsys):
    capture.enable_capture(progress=False)
    waits = []
    table = capture.read_capture(expect=3, timeout=0, progress=False, sleep=waits.append)
    assert table.empty and "Only 0 of 3 records" in capsys.readouterr().out


def test_a_damaged_capture_line_is_one_clear_error():
    with pytest.raises(DermAssistError, match="not a SageMaker capture record"):
        capture.parse_line('{"captureData": {}}', "x.jsonl")


def test_serverless_cannot_capture_and_realtime_endpoint_replaces_it(mock_aws):
    sls = endpoint.deploy(models.SKIN.id, name="derm-assist-tester-sls", serverless=endpoint.ServerlessSpec(3072, 2), progress=False)
    state.remember_endpoint(sls.name, models.SKIN.id, serverless=True)
    with pytest.raises(BadInputError, match="serverless"):
        capture.enable_capture(progress=False)
    info = capture.realtime_endpoint(models.SKIN.id, progress=False)
    assert info.serverless is None and info.model_id == models.SKIN.id and info.status == "InService"
    assert state.current_endpoint() == info.name and sls.name not in endpoint.all_endpoint_names()
    assert capture.realtime_endpoint(models.SKIN.id, progress=False).name == info.name  # reused, not redeployed


# --- nothing left behind ----------------------------------------------------------------------------------


def test_turning_capture_on_needs_room_for_one_more_instance(mock_aws, skin, monkeypatch):
    monkeypatch.setattr(mock_aws.state.settings, "instance_quota", 1)  # a sandbox with room for one instance only
    with pytest.raises(QuotaExceededError, match="room for one more ml.m5.large"):
        capture.enable_capture(progress=False)
    assert "DataCaptureConfig" not in aws.sagemaker().describe_endpoint(EndpointName=skin.name)
    configs = [c["EndpointConfigName"] for c in aws.sagemaker().list_endpoint_configs()["EndpointConfigs"]]
    assert configs == [skin.config_name]  # the half-made config was removed again


@pytest.fixture
def two_capturing(mock_aws, monkeypatch):
    """Ana's and Ben's endpoints, both capturing, with traffic, and a workflow for Ana's."""
    monkeypatch.setattr(mock_aws.state.settings, "instance_quota", 4)  # UpdateEndpoint runs old and new side by side
    made = {}
    for owner in ("ana", "ben"):
        monkeypatch.setenv("DERM_ASSIST_OWNER", owner)
        info = endpoint.deploy(models.SKIN.id, progress=False)
        capture.enable_capture(info.name, progress=False)
        monitoring.send_traffic({"skin proxies": sorted(SKIN_PROXIES_DIR.glob("*.png"))[:3]}, info.name, progress=False)
        made[owner] = info.name
    monkeypatch.setenv("DERM_ASSIST_OWNER", "ana")
    state_machine.create(made["ana"], 0.5, progress=False)
    return made


def test_cleanup_name_removes_its_captured_data_and_workflow_only(two_capturing, capsys):
    ana, ben = two_capturing["ana"], two_capturing["ben"]
    assert cli.main(["cleanup", ana, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would delete {ana} (endpoint, its config and model, 1 captured file(s) in s3://" in out and "state machine" in out
    assert len(bucket_keys()) == 2 and len(state_machine.pack_workflows()) == 1  # a dry run deletes nothing

    assert cli.main(["cleanup", ana]) == 0
    out = capsys.readouterr().out
    assert "captured file(s)" in out and "state machine derm-assist-ana-triage" in out
    assert all(f"/{ben}/" in key for key in bucket_keys()) and len(bucket_keys()) == 1
    assert state_machine.pack_workflows() == []
    assert cli.main(["cleanup", ana]) == 0 and capsys.readouterr().out.strip() == f"{ana}: already gone"


def test_captured_data_that_outlives_its_endpoint_is_still_found(two_capturing):
    ana = two_capturing["ana"]
    aws.sagemaker().delete_endpoint(EndpointName=ana)  # deleted by hand: its capture files stay behind
    assert endpoint.delete_endpoint(ana) == [f"1 captured file(s) in s3://{capture.bucket_name()}/data-capture/ana/{ana}/",
                                             "state machine derm-assist-ana-triage"]


def test_cleanup_all_leaves_no_pack_object_in_s3(two_capturing, capsys):
    assert cli.main(["cleanup", "--all", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete leftover bucket derm-assist-sagemaker-" in out and len(bucket_keys()) == 2
    assert out.count("captured file(s)") == 2  # listed once each, with its endpoint

    assert cli.main(["cleanup", "--all"]) == 0
    assert aws.client("s3").list_buckets()["Buckets"] == []  # no object, no bucket
    assert state_machine.pack_workflows() == [] and endpoint.list_pack_endpoints() == []
    assert cli.main(["cleanup", "--all"]) == 0 and capsys.readouterr().out.strip().endswith("Nothing to clean up.")


def test_cleanup_by_age_keeps_young_endpoints_data_and_the_bucket(two_capturing, capsys):
    from test_cleanup_safety import age_by

    age_by(two_capturing["ana"], 6)
    assert cli.main(["cleanup", "--all", "--older-than", "4h"]) == 0
    keys = bucket_keys()
    assert keys and all(f"/{two_capturing['ben']}/" in k for k in keys)  # Ben's is young: kept, and his bucket too
    assert capture.capture_status(two_capturing["ben"])["CaptureStatus"] == "Started"


def test_a_role_without_the_s3_permissions_still_deletes_the_endpoint(skin, monkeypatch):
    def refused(*args, **kwargs):
        raise DermAssistError("Checking bucket x: access denied")

    monkeypatch.setattr(capture, "delete_capture", refused)
    deleted = endpoint.delete_endpoint(skin.name)
    assert f"endpoint {skin.name}" in deleted and deleted[-1].startswith(f"(captured data and workflows of {skin.name} not checked")
    assert skin.name not in endpoint.all_endpoint_names()
    with pytest.raises(DermAssistError, match="access denied"):
        endpoint.delete_endpoint_data(skin.name)
