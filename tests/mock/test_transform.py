"""The mock's Batch Transform: the documented S3 layout, the stand-ins' answers, InProgress -> Completed or Failed."""

from __future__ import annotations

import io
import json
import time

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from helpers import endpoint
from helpers.core import aws
from helpers.mock.transform import output_key
from helpers.models import SKIN_VIT_ID

BUCKET = "transform-test"


def jpeg(colour=(120, 60, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def skin_model(mock_aws):
    """A skin ViT endpoint (its Model is what the jobs run) and a bucket."""
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    aws.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.region()})
    mock_aws.state.settings.transform_startup_seconds = 0.2
    return info.model_names[0] if info.model_names else endpoint.describe(info.name).model_names[0]


def create(name, model, uri, *, content_type="image/jpeg", split="None", assemble="None"):
    return aws.sagemaker().create_transform_job(
        TransformJobName=name, ModelName=model,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
                        "ContentType": content_type, "SplitType": split},
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/out", "Accept": "application/json", "AssembleWith": assemble},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
        Tags=[{"Key": "project", "Value": "derm-assist-workshop"}],
    )


def wait(name, timeout=20):
    statuses = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = aws.sagemaker().describe_transform_job(TransformJobName=name)
        statuses.append(desc["TransformJobStatus"])
        if statuses[-1] in ("Completed", "Failed"):
            return desc, statuses
        time.sleep(0.05)
    raise AssertionError(f"job {name} never finished: {statuses[-3:]}")


def keys(prefix=""):
    return sorted(o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def test_output_key_follows_the_documented_layout():
    assert output_key("in/", "in/a.jpg", "out") == "out/a.jpg.out"
    assert output_key("in/", "in/sub/b.png", "out/") == "out/sub/b.png.out"
    assert output_key("in", "in/c.jpg", "") == "c.jpg.out"


def test_job_answers_every_object_with_the_stand_in(skin_model):
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="in/a.jpg", Body=jpeg())
    s3.put_object(Bucket=BUCKET, Key="in/sub/b.jpg", Body=jpeg((200, 30, 40)))
    create("job-ok", skin_model, f"s3://{BUCKET}/in/")
    desc, statuses = wait("job-ok")
    assert statuses[0] == "InProgress" and statuses[-1] == "Completed"
    assert desc["TransformEndTime"] >= desc["TransformStartTime"]
    assert keys("out/") == ["out/a.jpg.out", "out/sub/b.jpg.out"]
    answer = json.loads(s3.get_object(Bucket=BUCKET, Key="out/a.jpg.out")["Body"].read())
    # the same answer InvokeEndpoint gives for the same bytes: the toolkit's default top 5 of the ViT's labels
    invoked = json.loads(aws.runtime().invoke_endpoint(EndpointName=endpoint.describe(
        endpoint.endpoint_name_for(SKIN_VIT_ID)).name, Body=jpeg(), ContentType="image/jpeg")["Body"].read())
    assert answer == invoked and len(answer) == 5
    tags = aws.sagemaker().list_tags(ResourceArn=desc["TransformJobArn"])["Tags"]
    assert {"Key": "project", "Value": "derm-assist-workshop"} in tags


def test_a_refused_object_fails_the_job_with_a_reason_and_keeps_the_others(skin_model):
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="mixed/good.jpg", Body=jpeg())
    s3.put_object(Bucket=BUCKET, Key="mixed/notes.txt", Body=b"not an image")
    create("job-mixed", skin_model, f"s3://{BUCKET}/mixed/")
    desc, _ = wait("job-mixed")
    assert desc["TransformJobStatus"] == "Failed"
    assert "1 of 2 input objects failed" in desc["FailureReason"] and "mixed/notes.txt" in desc["FailureReason"]
    assert keys("out/") == ["out/good.jpg.out"]


def test_json_lines_split_and_assembled(skin_model):
    import base64

    line = json.dumps({"inputs": base64.b64encode(jpeg()).decode(), "parameters": {"top_k": 1}}).encode()
    aws.client("s3").put_object(Bucket=BUCKET, Key="lines/set.jsonl", Body=line + b"\n" + line + b"\n")
    create("job-lines", skin_model, f"s3://{BUCKET}/lines/", content_type="application/json", split="Line", assemble="Line")
    desc, _ = wait("job-lines")
    assert desc["TransformJobStatus"] == "Completed"
    out = aws.client("s3").get_object(Bucket=BUCKET, Key="out/set.jsonl.out")["Body"].read().split(b"\n")
    assert len(out) == 2 and all(len(json.loads(x)) == 1 for x in out)


def test_no_input_objects_fail_the_job(skin_model):
    create("job-empty", skin_model, f"s3://{BUCKET}/nothing-here/")
    desc, _ = wait("job-empty")
    assert desc["TransformJobStatus"] == "Failed" and "No S3 objects found under S3 URL" in desc["FailureReason"]


def test_unknown_model_and_duplicate_name_are_refused(skin_model):
    with pytest.raises(ClientError) as info:
        create("job-x", "no-such-model", f"s3://{BUCKET}/in/")
    assert info.value.response["Error"]["Code"] == "ValidationException" and "Could not find model" in str(info.value)
    aws.client("s3").put_object(Bucket=BUCKET, Key="in/a.jpg", Body=jpeg())
    create("job-twice", skin_model, f"s3://{BUCKET}/in/")
    with pytest.raises(ClientError, match="must be unique"):
        create("job-twice", skin_model, f"s3://{BUCKET}/in/")
