"""The mock behaves like SageMaker + the Hugging Face inference toolkit (the design's endpoint contract)."""

import base64
import io
import json
import urllib.error

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from helpers import endpoint
from helpers.core import aws
from helpers.core.config import FUN_IMAGES_DIR
from helpers.core.errors import QuotaExceededError
from helpers.mock import MockSettings, control
from helpers.models import SKIN_VIT, SKIN_VIT_ID


def jpeg(colour=(200, 150, 120), size=(300, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def invoke(name, body, content_type="image/jpeg"):
    response = aws.runtime().invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type)
    return json.loads(response["Body"].read()), response.get("CustomAttributes", "")


def error_of(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


@pytest.mark.parametrize("ctype", ["image/jpeg", "image/png", "image/webp", "image/x-image"])
def test_accepted_image_types_answer_sorted_top5(deployed, ctype):
    predictions, attributes = invoke(deployed.name, jpeg(), ctype)
    assert len(predictions) == 5
    scores = [p["score"] for p in predictions]
    assert scores == sorted(scores, reverse=True)
    assert "mock=derm-assist" in attributes and "stand-in=" in attributes


@pytest.mark.parametrize("ctype", ["application/x-image", "image/jpg", "application/octet-stream", "image/jpeg; charset=binary", "IMAGE/JPEG"])
def test_rejected_content_types_are_model_errors(deployed, ctype):
    code, message = error_of(lambda: invoke(deployed.name, jpeg(), ctype))
    assert code == "ModelError"
    assert "Received client error (400)" in message and ctype.replace("=", "\\u003d") in message  # MMS escapes = as Gson does


def test_json_base64_carries_top_k(deployed):
    body = json.dumps({"inputs": base64.b64encode(jpeg()).decode(), "parameters": {"top_k": 2}})
    predictions, _ = invoke(deployed.name, body, "application/json")
    assert len(predictions) == 2


def test_not_an_image_is_a_model_error(deployed):
    code, message = error_of(lambda: invoke(deployed.name, b"this is text", "image/jpeg"))
    assert code == "ModelError" and "cannot identify image" in message


def test_unknown_endpoint_is_validation_error_like_sagemaker(mock_aws):
    code, message = error_of(lambda: invoke("nobody-home", jpeg()))
    assert code == "ValidationError"
    assert message == "Endpoint nobody-home of account 123456789012 not found."


def test_payload_over_6mb_is_refused(deployed):
    code, message = error_of(lambda: invoke(deployed.name, b"0" * (6 * 1024 * 1024 + 1)))
    assert code == "413" and "6291456" in message


def test_new_endpoint_is_creating_then_in_service(mock_aws):
    mock_aws.state.settings.deploy_seconds = 30
    info = endpoint.deploy(wait=False, progress=False)
    assert info.status == "Creating"
    code, message = error_of(lambda: invoke(info.name, jpeg()))
    assert code == "ValidationError" and "Creating" in message


def test_recorded_fun_images_answer_with_the_recording(deployed):
    from helpers import images

    dog = FUN_IMAGES_DIR / "dog.jpg"
    predictions, attributes = invoke(deployed.name, images.prepare_payload(dog).body)
    assert "stand-in=recording" in attributes
    assert predictions[0]["label"].startswith("German shepherd")
    assert predictions[0]["score"] >= 0.6


def test_skin_model_answers_in_its_seven_labels_marked_simulated(mock_aws):
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    predictions, attributes = invoke(info.name, jpeg((120, 80, 60)))
    assert {p["label"] for p in predictions} <= set(SKIN_VIT.labels)
    assert "stand-in=simulated" in attributes
    body = json.dumps({"inputs": base64.b64encode(jpeg()).decode(), "parameters": {"top_k": 50}})
    assert len(invoke(info.name, body, "application/json")[0]) == len(SKIN_VIT.labels)  # capped at the label count


def test_instance_quota_gives_resource_limit_exceeded(mock_aws):
    endpoint.deploy(name="first", progress=False)
    endpoint.deploy(name="second", progress=False)
    with pytest.raises(Exception) as info:
        endpoint.deploy(name="third", progress=False)
    assert "quota" in str(info.value).lower() and "serverless" in str(info.value)


def test_serverless_concurrency_quota_says_which_quota_bites(mock_aws):
    mock_aws.state.settings.serverless_concurrency_quota = 2
    try:
        endpoint.deploy(name="derm-assist-sls-a", serverless=endpoint.ServerlessSpec(2048, 2), progress=False)
        with pytest.raises(QuotaExceededError) as info:
            endpoint.deploy(name="derm-assist-sls-b", serverless=endpoint.ServerlessSpec(2048, 1), progress=False)
    finally:
        mock_aws.state.settings.serverless_concurrency_quota = MockSettings().serverless_concurrency_quota
    message = str(info.value)
    assert "serverless quota is used up" in message and "max concurrency of 1" in message and "\n" not in message
    assert "instance quota" not in message
    assert [e["EndpointName"] for e in aws.sagemaker().list_endpoints()["Endpoints"]] == ["derm-assist-sls-a"]


def test_faults_throttle_then_clear(deployed):
    control(deployed and aws.endpoint_url(), "faults", {"throttle_rate": 1.0})
    code, _ = error_of(lambda: invoke(deployed.name, jpeg()))
    assert code == "ThrottlingException"
    control(aws.endpoint_url(), "faults", method="DELETE")
    assert invoke(deployed.name, jpeg())[0]


def test_unknown_fault_is_refused(mock_aws):
    with pytest.raises(urllib.error.HTTPError) as refused:
        control(aws.endpoint_url(), "faults", {"no_such_fault": 1})
    assert refused.value.code == 400 and "no_such_fault" in refused.value.read().decode()


def test_simulated_skin_model_responds_smoothly_to_the_lesion():
    """Occlusion maps need a stand-in whose scores depend on the lesion, not a constant."""
    from PIL import ImageDraw

    from helpers import images
    from helpers.core.config import SKIN_PROXIES_DIR
    from helpers.mock import standins

    lesion = images.load_image(sorted(SKIN_PROXIES_DIR.glob("*irregular*"))[0])
    def scored(answer):
        return [{"label": label, "score": score} for label, score in zip(answer.labels, answer.probabilities)]

    before = {p["label"]: p["score"] for p in scored(standins.simulated_skin_vit(lesion))}
    top = max(before, key=before.get)
    covered = lesion.copy()
    w, h = covered.size
    skin = covered.getpixel((5, 5))
    ImageDraw.Draw(covered).rectangle((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=skin)
    after = {p["label"]: p["score"] for p in scored(standins.simulated_skin_vit(covered))}
    assert before[top] - after[top] > 0.1
    assert scored(standins.simulated_skin_vit(lesion)) == scored(standins.simulated_skin_vit(lesion))
    assert abs(sum(before.values()) - 1) < 1e-3


def test_a_model_the_registry_does_not_know_gets_a_loud_placeholder(mock_aws):
    """Never another model's answers: not even the recording of an image the mock has recorded."""
    from helpers import images, models

    sm = aws.sagemaker()
    env = {"HF_MODEL_ID": "someone/another-classifier", "HF_TASK": "image-classification"}
    sm.create_model(ModelName="derm-assist-other-m", ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
                    PrimaryContainer={"Image": "x", "Environment": env})
    sm.create_endpoint_config(EndpointConfigName="derm-assist-other-c", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "derm-assist-other-m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="derm-assist-other", EndpointConfigName="derm-assist-other-c")
    endpoint.wait_until_in_service("derm-assist-other", progress=False)
    predictions, attributes = invoke("derm-assist-other", images.prepare_payload(FUN_IMAGES_DIR / "dog.jpg").body)
    assert "stand-in=placeholder" in attributes and "unknown model 'someone/another-classifier'" in attributes
    assert all("unknown model someone/another-classifier" in p["label"] for p in predictions)
    known = set(models.MOBILENET_V2.labels) | set(models.SKIN_VIT.labels)
    assert not {p["label"] for p in predictions} & known
    assert max(p["score"] for p in predictions) < 0.5  # never confident: it is not a model


def test_every_stand_in_kind_of_the_registry_has_a_stand_in():
    from helpers import models
    from helpers.mock import standins, toolkit

    assert set(standins.STANDINS) == set(models.STANDIN_KINDS)
    for spec in models.ALL:
        if spec.stand_in == models.STANDIN_SIMULATED_SKIN:
            assert standins._WEIGHTS.shape[0] == len(spec.labels)  # one row of weights per label
            answer = standins.distribution(spec.id, Image.new("RGB", (64, 64), (90, 40, 30)))
            assert {p["label"] for p in toolkit.postprocess(answer, None, 7)} == set(spec.labels)
            assert answer.note.startswith("simulated skin classifier")
    answer = standins.distribution(models.SKIN_VIT_ID, Image.new("RGB", (64, 64), (200, 160, 140)))
    top3 = toolkit.postprocess(answer, None, 3)
    assert answer.stand_in == "simulated" and len(top3) == 3 and {p["label"] for p in top3} <= set(models.SKIN_VIT.labels)


def test_mobilenet_stand_in_answers_in_mobilenet_v2_labels(deployed):
    """The recordings and the live CNN speak MobileNetV2's label space, spelled as the real model spells it."""
    from helpers import images, models
    from helpers.mock import recordings

    predictions, _ = invoke(deployed.name, images.prepare_payload(FUN_IMAGES_DIR / "dog.jpg").body)
    recorded = {p["label"] for image in recordings.load_recordings()["images"] for p in recordings.predictions_of(image, 20)}
    assert {p["label"] for p in predictions} | recorded <= set(models.MOBILENET_V2.labels)
    everything, _ = invoke(deployed.name, json.dumps({"inputs": base64.b64encode(images.prepare_payload(FUN_IMAGES_DIR / "dog.jpg").body).decode(),
                                                       "parameters": {"top_k": 5000}}), "application/json")
    assert len(everything) == 1001 and {p["label"] for p in everything} == set(models.MOBILENET_V2.labels)  # background too
