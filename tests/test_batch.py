"""Batch Transform from the notebook's side: upload, job, answers read back into the same evaluation, cleanup."""

from __future__ import annotations

import pytest

from helpers import batch, cleanup, endpoint, evaluation, state
from helpers.core import aws
from helpers.core.errors import DermAssistError
from helpers.models import SKIN_VIT_ID


@pytest.fixture
def skin(mock_aws):
    mock_aws.state.settings.transform_startup_seconds = 0.1
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, info.model_id)
    return info


@pytest.fixture(scope="module")
def labelled():
    return evaluation.load_labelled_set(evaluation.EVAL_SET_DIR)


def _keys(prefix):
    bucket = batch.bucket_name()
    return [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_batch_and_realtime_give_the_same_report(skin, labelled):
    report, job = batch.evaluate(labelled, skin.name, progress=False)
    assert job.status == "Completed" and job.seconds is not None
    assert len(_keys(f"{job.prefix}/input/")) == len(labelled) == len(_keys(f"{job.prefix}/output/"))
    assert all(k.endswith(".out") for k in _keys(f"{job.prefix}/output/"))
    realtime = evaluation.evaluate_endpoints(labelled, [skin.name], progress=False).reports[0]
    assert list(report.table["predicted"]) == list(realtime.table["predicted"])  # identical images, identical answers
    assert report.accuracy == realtime.accuracy and not report.failures
    desc = aws.sagemaker().describe_transform_job(TransformJobName=job.name)
    tags = {t["Key"]: t["Value"] for t in aws.sagemaker().list_tags(ResourceArn=desc["TransformJobArn"])["Tags"]}
    assert tags["project"] == "derm-assist-workshop" and tags["owner"] == "tester"


def test_a_failed_job_is_one_line_with_the_reason(skin, labelled, mock_aws):
    mock_aws.state.settings.transform_startup_seconds = 1.0  # time to slip a bad object in before the job reads
    job = batch.start(labelled, skin.name, progress=False)
    aws.client("s3").put_object(Bucket=job.bucket, Key=f"{job.prefix}/input/zz.txt", Body=b"text")  # before it starts
    with pytest.raises(DermAssistError) as caught:
        batch.wait(job, progress=False)
    assert "failed: ClientError" in str(caught.value) and "zz.txt" in str(caught.value)


def test_cleanup_removes_the_jobs_objects(skin, labelled):
    batch.evaluate(labelled, skin.name, progress=False)
    assert batch.list_objects("tester")[1]
    dry = cleanup.cleanup(dry_run=True)
    assert any("would delete Batch Transform objects" in line for line in dry.lines) and batch.list_objects()[1]
    result = cleanup.cleanup()
    assert any(line.startswith("deleted Batch Transform objects") for line in result.lines)
    assert batch.list_objects()[1] == []


def test_cost_comparison_uses_the_dated_price_table():
    comparison = batch.compare_cost(300, realtime_seconds=3600, batch_seconds=1800, region="us-east-1")
    assert comparison.realtime_usd == pytest.approx(0.115) and comparison.batch_usd == pytest.approx(0.0575)
    assert "as of 2025-06-01" in comparison.sentence()
