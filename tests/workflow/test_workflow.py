"""The triage workflow: three Lambda-style handlers, and the state machine that chains them (Amazon States Language)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from helpers import endpoint, images, models, state, triage
from helpers.core import aws
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError
from helpers.workflow import LowConfidence, classify_image, confidence_filter, serialize_image, state_machine

PROXY = SKIN_PROXIES_DIR / "proxy-01_fitzpatrick-I_regular.png"


def photo_with_gps(size=(1600, 1200)) -> bytes:
    """A phone-like JPEG with EXIF GPS and a camera comment: what a GP's upload might carry."""
    image = images.load_image(PROXY).resize(size)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"patient J. Smith")
    return buffer.getvalue()


@pytest.fixture
def skin(mock_aws):
    info = endpoint.deploy(models.SKIN.id, progress=False)
    state.remember_endpoint(info.name, models.SKIN.id)
    return info


def test_serialize_cleans_the_photo_and_drops_the_upload():
    upload = photo_with_gps()
    assert b"PhoneMaker" in upload and b"Smith" in upload  # the test photo really carries them
    out = serialize_image.handler({"image_b64": base64.b64encode(upload).decode(), "inference_id": "r1", "threshold": 0.5})
    assert "image_b64" not in out and out["inference_id"] == "r1" and out["threshold"] == 0.5
    cleaned = base64.b64decode(out["image_data"])
    assert out["image_sha256"] == images.sha256_bytes(cleaned)
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size[::-1] == serialize_image.GEOMETRY.input_size and not image.getexif() and "comment" not in image.info
    assert b"PhoneMaker" not in cleaned and b"Smith" not in cleaned
    assert len(json.dumps(out).encode()) < serialize_image.STATE_LIMIT_BYTES


@pytest.mark.parametrize("event,expect", [({}, "no image_b64"), ({"image_b64": "***"}, "not valid base64")])
def test_serialize_bad_events(event, expect):
    with pytest.raises(BadInputError, match=expect):
        serialize_image.handler(event)


def test_classify_calls_the_endpoint_and_drops_the_image(skin):
    event = serialize_image.handler({"image_b64": base64.b64encode(PROXY.read_bytes()).decode(), "endpoint_name": skin.name})
    out = classify_image.handler(event)
    assert "image_data" not in out and out["endpoint_name"] == skin.name and out["image_sha256"] == event["image_sha256"]
    scores = [p["score"] for p in out["predictions"]]
    assert len(out["predictions"]) == len(models.SKIN.labels) and scores == sorted(scores, reverse=True)
    with pytest.raises(BadInputError, match="No endpoint"):
        classify_image.handler({"image_data": event["image_data"]})


def test_the_filter_is_the_mvp_rule_and_raises_below_the_threshold():
    predictions = [{"label": "melanoma", "score": 0.62}, {"label": "melanocytic_Nevi", "score": 0.3}]
    out = confidence_filter.handler({"predictions": predictions, "threshold": 0.5, "inference_id": "r2"})
    assert out["outcome"] == triage.triage(predictions, 0.5).outcome == triage.CONCERNING
    assert out["inference_id"] == "r2" and "predictions" not in out
    with pytest.raises(LowConfidence, match="below the threshold 0.70"):
        confidence_filter.handler({"predictions": predictions, "threshold": 0.7})
    assert LowConfidence.__name__ in json.loads(state_machine.definition("e", 0.5, "o", "eu-west-2", "123456789012"))[
        "States"]["ConfidenceFilter"]["Catch"][0]["ErrorEquals"]  # the error name the state machine catches


def test_the_definition_is_valid_asl_with_every_name_filled_in():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    text = state_machine.definition("derm-assist-ana-skin", 0.65, "ana", "eu-west-2", "123456789012")
    AmazonStateLanguageParser.parse(text)  # raises on anything that is not Amazon States Language
    asl = json.loads(text)
    states = asl["States"]
    assert "${" not in text
    assert states["UseLearnerSettings"]["Parameters"]["threshold"] == 0.65  # a number, not the text "0.65"
    assert states["UseLearnerSettings"]["Parameters"]["endpoint_name"] == "derm-assist-ana-skin"
    assert states["ReferForSpecialistReview"]["Parameters"]["outcome"] == triage.UNCERTAIN
    order, name = [], asl["StartAt"]
    while name:
        order.append(name)
        name = states[name].get("Next")
    assert order == ["UseLearnerSettings", "SerializeImage", "ClassifyImage", "ConfidenceFilter"]
    for step, function in zip(order[1:], state_machine.STEPS.values()):
        assert states[step]["Resource"] == "arn:aws:states:::lambda:invoke"
        assert states[step]["Parameters"]["FunctionName"] == f"arn:aws:lambda:eu-west-2:123456789012:function:derm-assist-ana-{function}"
    assert states["ConfidenceFilter"]["Catch"][0]["Next"] == "ReferForSpecialistReview"
    with pytest.raises(BadInputError):
        state_machine.definition("e", 1.5, "ana", "eu-west-2", "123456789012")


def test_created_through_the_step_functions_api_tagged_and_updated_in_place(skin):
    made = state_machine.create(skin.name, 0.5, progress=False)
    assert made.created and made.name == "derm-assist-tester-triage"
    sfn = aws.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=made.arn)
    assert json.loads(described["definition"]) == json.loads(made.definition)
    assert described["roleArn"].endswith(":role/DermAssistWorkflowRole")
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=made.arn)["tags"]}
    assert tags["project"] == "derm-assist-workshop" and tags["owner"] == "tester" and tags["endpoint"] == skin.name
    again = state_machine.create(skin.name, 0.8, progress=False)
    assert not again.created and again.arn == made.arn
    assert json.loads(sfn.describe_state_machine(stateMachineArn=made.arn)["definition"])["States"]["UseLearnerSettings"][
        "Parameters"]["threshold"] == 0.8
    assert [m["name"] for m in state_machine.pack_workflows(skin.name)] == [made.name]
    assert state_machine.delete_workflows(skin.name) == [f"state machine {made.name}"] and state_machine.pack_workflows() == []


def test_without_a_role_nothing_is_created_and_it_says_why(skin, monkeypatch, capsys):
    monkeypatch.delenv(state_machine.ROLE_VARIABLE)
    assert state_machine.create(skin.name, 0.5) is None
    assert state_machine.ROLE_VARIABLE in capsys.readouterr().out
    assert state_machine.pack_workflows() == []
    with pytest.raises(BadInputError, match="not an IAM role ARN"):
        state_machine.create(skin.name, 0.5, role_arn="DermAssistWorkflowRole")


def test_run_locally_follows_the_state_machine_both_ways(skin):
    confident = state_machine.run_locally(PROXY, skin.name, 0.05, "local/001")
    assert confident["outcome"] in (triage.BENIGN, triage.CONCERNING) and confident["inference_id"] == "local/001"
    referred = state_machine.run_locally(PROXY, skin.name, 0.99)
    assert referred["outcome"] == triage.UNCERTAIN and "below the threshold 0.99" in referred["reason"]
    assert set(referred) == set(json.loads(state_machine.definition("e", 0.5, "o", "eu-west-2", "1"))["States"][
        "ReferForSpecialistReview"]["Parameters"]) - {"reason.$", "image_sha256.$", "inference_id.$", "threshold.$"} | {
        "reason", "image_sha256", "inference_id", "threshold"}
