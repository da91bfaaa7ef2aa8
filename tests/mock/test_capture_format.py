"""The mock's Data Capture files, decoded against the format AWS documents.

Reference: Amazon SageMaker developer guide, "Capture data from real-time endpoint" (the S3 path
``s3://<DestinationS3Uri>/{endpoint-name}/{variant-name}/yyyy/mm/dd/hh/filename.jsonl`` and its JSON Lines
sample), and the API reference for ``DataCaptureConfig``, ``CaptureContentTypeHeader`` ("If no headers are
specified SageMaker will by default base64 encode") and ``DataCaptureConfigSummary``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from helpers import endpoint, models
from helpers.core import aws
from helpers.mock import capture as mock_capture
from helpers.mock import control

BUCKET = "derm-assist-sagemaker-test"
PREFIX = "capture-test/owner"

# The developer guide's sample line (CSV in, CSV out), as printed there.
DOCUMENTED_SAMPLE = json.loads(
    '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
    '"data":"69,0,153.7,109,194.0,105,256.1,114,14.1,6,1\\n","encoding":"CSV"},'
    '"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"0.0254181120544672",'
    '"encoding":"CSV"}},"eventMetadata":{"eventId":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",'
    '"inferenceTime":"2022-02-14T17:25:49Z"},"eventVersion":"0"}'
)
KEY_PATTERN = re.compile(
    rf"^{re.escape(PREFIX)}/(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/(?P<y>\d{{4}})/(?P<m>\d\d)/(?P<d>\d\d)/(?P<h>\d\d)/"
    r"\d\d-\d\d-\d{3}-[0-9a-f-]{36}\.jsonl$"
)


def jpeg(colour=(205, 160, 130)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (224, 224), colour)
    image.paste((70, 40, 30), (80, 80, 150, 150))
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def capture_config(modes=("Output",), sampling=100, header=None, enable=True) -> dict:
    config = {"EnableCapture": enable, "InitialSamplingPercentage": sampling, "DestinationS3Uri": f"s3://{BUCKET}/{PREFIX}",
              "CaptureOptions": [{"CaptureMode": m} for m in modes]}
    if header is not None:
        config["CaptureContentTypeHeader"] = header
    return config


@pytest.fixture
def skin(mock_aws):
    """A skin-model endpoint and the capture bucket."""
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region()})
    return endpoint.deploy(models.SKIN.id, name="derm-assist-capture", progress=False)


def switch_to(info, data_capture: dict | None):
    """A new config for the endpoint (same variant), as notebook 06 does: CreateEndpointConfig + UpdateEndpoint."""
    sm = aws.sagemaker()
    name = f"{info.name}-c-{uuid.uuid4().hex[:6]}"
    extra = {"DataCaptureConfig": data_capture} if data_capture else {}
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[endpoint.variant(info.model_names[0], "ml.m5.large", None)], **extra)
    sm.update_endpoint(EndpointName=info.name, EndpointConfigName=name)
    endpoint.wait_until_in_service(info.name, progress=False)


def invoke(name, body, content_type="image/jpeg", **extra) -> bytes:
    return aws.runtime().invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type, **extra)["Body"].read()


def capture_files(name="derm-assist-capture") -> dict[str, list[dict]]:
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/{name}/").get("Contents", [])]
    return {k: [json.loads(line) for line in s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode().splitlines()] for k in keys}


def test_output_only_capture_matches_the_documented_layout_field_by_field(skin):
    switch_to(skin, capture_config(("Output",), header={"JsonContentTypes": ["application/json"]}))
    answers = [invoke(skin.name, jpeg(), InferenceId=f"proxies-{i:03d}") for i in range(3)]
    files = capture_files()
    assert len(files) == 1  # one file collects the records of the hour, as SageMaker's buffered delivery does
    key, records = next(iter(files.items()))
    match = KEY_PATTERN.match(key)
    assert match and match["endpoint"] == skin.name and match["variant"] == "AllTraffic"
    assert len(records) == 3
    for index, (record, answer) in enumerate(zip(records, answers)):
        assert set(record) == set(DOCUMENTED_SAMPLE) == {"captureData", "eventMetadata", "eventVersion"}
        assert record["eventVersion"] == DOCUMENTED_SAMPLE["eventVersion"] == "0"
        assert set(record["captureData"]) == {"endpointOutput"}  # inputs were not asked for, so they are not there
        output = record["captureData"]["endpointOutput"]
        assert set(output) == set(DOCUMENTED_SAMPLE["captureData"]["endpointOutput"])
        assert output["mode"] == "OUTPUT" and output["observedContentType"] == "application/json" and output["encoding"] == "JSON"
        assert output["data"] == answer.decode()  # the answer exactly as the caller got it, as text
        assert [p["label"] for p in json.loads(output["data"])]  # and it is the model's label/score list
        meta = record["eventMetadata"]
        assert uuid.UUID(meta["eventId"]) and meta["inferenceId"] == f"proxies-{index:03d}"
        when = datetime.strptime(meta["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert (match["y"], match["m"], match["d"], match["h"]) == (f"{when:%Y}", f"{when:%m}", f"{when:%d}", f"{when:%H}")
    assert len({r["eventMetadata"]["eventId"] for r in records}) == 3


def test_output_only_never_stores_a_byte_of_the_image(skin):
    switch_to(skin, capture_config(("Output",)))
    image = jpeg()
    invoke(skin.name, image)
    invoke(skin.name, json.dumps({"inputs": base64.b64encode(image).decode()}).encode(), "application/json")
    raw = "".join(json.dumps(records) for records in capture_files().values())
    assert raw.count('"endpointOutput"') == 2 and "endpointInput" not in raw and '"INPUT"' not in raw
    assert base64.b64encode(image).decode()[:64] not in raw and base64.b64encode(image[:48]).decode()[:40] not in raw


def test_without_content_type_header_everything_is_base64(skin):
    switch_to(skin, capture_config(("Input", "Output")))
    image = jpeg()
    answer = invoke(skin.name, image)
    (record,) = next(iter(capture_files().values()))
    sent, got = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert (sent["mode"], sent["encoding"], sent["observedContentType"]) == ("INPUT", "BASE64", "image/jpeg")
    assert base64.b64decode(sent["data"]) == image
    assert (got["mode"], got["encoding"]) == ("OUTPUT", "BASE64") and base64.b64decode(got["data"]) == answer


def test_json_and_csv_lists_decide_the_encoding(skin):
    switch_to(skin, capture_config(("Input", "Output"), header={"JsonContentTypes": ["application/json"], "CsvContentTypes": ["text/csv"]}))
    body = json.dumps({"inputs": base64.b64encode(jpeg()).decode(), "parameters": {"top_k": 2}})
    invoke(skin.name, body.encode(), "application/json")
    invoke(skin.name, jpeg(), "image/jpeg")
    first, second = next(iter(capture_files().values()))
    assert first["captureData"]["endpointInput"]["encoding"] == "JSON" and first["captureData"]["endpointInput"]["data"] == body
    assert second["captureData"]["endpointInput"]["encoding"] == "BASE64"  # image/jpeg is in neither list
    assert mock_capture.encoding_for("text/csv; charset=utf-8", {"CsvContentTypes": ["text/csv"]}) == "CSV"
    assert mock_capture.encoding_for("Application/JSON", {"JsonContentTypes": ["application/json"]}) == "JSON"


def test_the_documented_sample_is_what_the_writer_builds():
    """The developer guide's CSV sample, rebuilt from its own inputs: every field and value agrees."""
    documented = DOCUMENTED_SAMPLE
    config = capture_config(("Input", "Output"), header={"CsvContentTypes": ["text/csv"]})
    request = (documented["captureData"]["endpointInput"]["data"].encode(), "text/csv")
    response = (documented["captureData"]["endpointOutput"]["data"].encode(), "text/csv; charset=utf-8")
    built = mock_capture.build_record(config, request, response, None, datetime(2022, 2, 14, 17, 25, 49, tzinfo=UTC),
                                      documented["eventMetadata"]["eventId"])
    assert built == documented


def test_sampling_percentage_is_honoured(skin):
    switch_to(skin, capture_config(("Output",), sampling=0))
    for _ in range(5):
        invoke(skin.name, jpeg())
    assert capture_files() == {}
    switch_to(skin, capture_config(("Output",), sampling=40))
    calls = 60
    for _ in range(calls):
        invoke(skin.name, jpeg())
    captured = sum(len(r) for r in capture_files().values())
    assert 0.2 * calls < captured < 0.6 * calls


def test_describe_endpoint_shows_the_capture_summary(skin):
    assert "DataCaptureConfig" not in aws.sagemaker().describe_endpoint(EndpointName=skin.name)
    switch_to(skin, capture_config(("Output",), sampling=100))
    summary = aws.sagemaker().describe_endpoint(EndpointName=skin.name)["DataCaptureConfig"]
    assert summary == {"EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 100,
                       "DestinationS3Uri": f"s3://{BUCKET}/{PREFIX}"}
    switch_to(skin, None)  # a config without capture turns it off
    assert "DataCaptureConfig" not in aws.sagemaker().describe_endpoint(EndpointName=skin.name)
    invoke(skin.name, jpeg())
    assert capture_files() == {}


def test_serverless_endpoints_cannot_capture(skin):
    sm = aws.sagemaker()
    with pytest.raises(ClientError) as info:
        sm.create_endpoint_config(EndpointConfigName="derm-assist-sls-capture", DataCaptureConfig=capture_config(),
                                  ProductionVariants=[endpoint.variant(skin.model_names[0], "", endpoint.ServerlessSpec(2048, 1))])
    assert info.value.response["Error"]["Code"] == "ValidationException" and "Serverless" in info.value.response["Error"]["Message"]


def test_a_missing_bucket_loses_the_record_and_the_answer_still_arrives(skin):
    switch_to(skin, {**capture_config(), "DestinationS3Uri": "s3://derm-assist-no-such-bucket/x"})
    assert json.loads(invoke(skin.name, jpeg()))
    assert control(aws.endpoint_url(), "health")["capture_failed"] == 1
