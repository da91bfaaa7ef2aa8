"""The execution role, found the way the SageMaker SDK v3 finds it, with Studio-shaped identities.

Identities are real ones on the mock: an IAM role with Studio's ``service-role/`` path, assumed through
STS like Studio's kernel does, and an IAM user. The same cases also run through the SDK's own
``get_execution_role`` (installed with the pack) and must give the same answer.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from helpers import endpoint
from helpers.core import aws, roles
from helpers.core.errors import BadInputError, DermAssistError

ACCOUNT = "123456789012"
STUDIO_ROLE = "AmazonSageMaker-ExecutionRole-20240315T101010"
STUDIO_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/{STUDIO_ROLE}"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def account(mock_aws, monkeypatch, tmp_path):
    """The mock with no role ARN in the environment and no Studio metadata file."""
    monkeypatch.delenv("DERM_ASSIST_ROLE_ARN", raising=False)
    monkeypatch.setattr(roles, "STUDIO_METADATA_FILE", tmp_path / "absent" / "resource-metadata.json")
    return mock_aws


def become(monkeypatch, credentials: dict) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    if credentials.get("SessionToken"):
        monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    aws.reset_clients()


def assume(monkeypatch, name: str, path: str = "/service-role/", *, then_delete: bool = False) -> str:
    """Run as Studio's kernel does: an assumed-role session of ``name`` (created with ``path``)."""
    iam = aws.client("iam")
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    credentials = aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="SageMaker")["Credentials"]
    if then_delete:  # GetRole now fails, as it does for a role without iam:GetRole
        iam.delete_role(RoleName=name)
    become(monkeypatch, credentials)
    assert aws.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/SageMaker"
    return arn


def as_user(monkeypatch, name: str = "workshop-admin") -> None:
    iam = aws.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    become(monkeypatch, key)


def studio_metadata(monkeypatch, tmp_path, **fields) -> None:
    path = tmp_path / "resource-metadata.json"
    path.write_text(json.dumps({"AppType": "JupyterLab", "ResourceName": "default", **fields}))
    monkeypatch.setattr(roles, "STUDIO_METADATA_FILE", path)


def sdk_role(monkeypatch, sagemaker_client=None) -> str:
    """What the SageMaker SDK's own get_execution_role answers for the same identity (STS sent to the mock)."""
    from sagemaker.core.helper import session_helper

    monkeypatch.setattr(session_helper, "sts_regional_endpoint", lambda region: aws.endpoint_url())
    monkeypatch.setattr(session_helper, "NOTEBOOK_METADATA_FILE", str(roles.STUDIO_METADATA_FILE))
    session = session_helper.Session(boto_session=boto3.Session(region_name=aws.region()),
                                     sagemaker_client=sagemaker_client or aws.sagemaker())
    return session_helper.get_execution_role(session)


# --- explicit ----------------------------------------------------------------------------------------


def test_an_explicit_role_wins_and_is_validated(account, monkeypatch):
    assert endpoint.execution_role(STUDIO_ROLE_ARN) == STUDIO_ROLE_ARN  # the service-role/ path is a valid ARN
    monkeypatch.setenv("DERM_ASSIST_ROLE_ARN", f"arn:aws:iam::{ACCOUNT}:role/Mine")
    assert endpoint.execution_role() == f"arn:aws:iam::{ACCOUNT}:role/Mine"
    monkeypatch.setenv("DERM_ASSIST_ROLE_ARN", f"arn:aws:sts::{ACCOUNT}:assumed-role/{STUDIO_ROLE}/SageMaker")
    with pytest.raises(BadInputError) as info:
        endpoint.execution_role()
    assert "is not an IAM role ARN" in str(info.value)


# --- the caller identity -----------------------------------------------------------------------------


def test_studio_assumed_role_gets_its_service_role_path_from_iam(account, monkeypatch):
    assume(monkeypatch, STUDIO_ROLE)
    assert endpoint.execution_role() == STUDIO_ROLE_ARN
    assert sdk_role(monkeypatch) == STUDIO_ROLE_ARN


def test_a_role_with_another_path_keeps_it(account, monkeypatch):
    arn = assume(monkeypatch, "WorkshopLearners", path="/teaching/derm/")
    assert arn == f"arn:aws:iam::{ACCOUNT}:role/teaching/derm/WorkshopLearners"
    assert endpoint.execution_role() == arn == sdk_role(monkeypatch)


def test_without_get_role_a_console_role_is_guessed_under_service_role(account, monkeypatch):
    assume(monkeypatch, STUDIO_ROLE, then_delete=True)
    assert endpoint.execution_role() == STUDIO_ROLE_ARN
    assert sdk_role(monkeypatch) == STUDIO_ROLE_ARN


def test_without_get_role_another_role_stays_at_the_root(account, monkeypatch):
    assume(monkeypatch, "TeamRole", path="/", then_delete=True)
    assert endpoint.execution_role() == f"arn:aws:iam::{ACCOUNT}:role/TeamRole" == sdk_role(monkeypatch)


def test_an_iam_user_gets_the_sdks_reason_in_one_line(account, monkeypatch):
    as_user(monkeypatch)
    with pytest.raises(ValueError) as sdk:
        sdk_role(monkeypatch)
    with pytest.raises(DermAssistError) as ours:
        endpoint.execution_role()
    message = str(ours.value)
    assert str(sdk.value) in message  # "The current AWS identity is not a role: arn:...:user/workshop-admin, ..."
    assert "DERM_ASSIST_ROLE_ARN" in message and "\n" not in message


# --- SageMaker Studio's metadata ---------------------------------------------------------------------


def test_the_role_named_in_studios_metadata_is_used_first(account, monkeypatch, tmp_path):
    assume(monkeypatch, "SomethingElse", path="/")
    studio_metadata(monkeypatch, tmp_path, DomainId="d-abc", UserProfileName="alice", ExecutionRoleArn=STUDIO_ROLE_ARN)
    assert endpoint.execution_role() == STUDIO_ROLE_ARN == sdk_role(monkeypatch)


def stubbed_sagemaker(responses: list[tuple[str, dict, dict]] | None = None, error: tuple[str, str] | None = None):
    client = boto3.client("sagemaker", region_name="eu-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for method, response, params in responses or []:
        stubber.add_response(method, response, params)
    if error:
        stubber.add_client_error(error[0], service_error_code=error[1], service_message="User profile does not exist")
    stubber.activate()
    return client, stubber


@pytest.mark.parametrize("profile_role", [STUDIO_ROLE_ARN, None], ids=["profile's own role", "domain default"])
def test_studio_user_profile_then_domain(account, monkeypatch, tmp_path, profile_role):
    assume(monkeypatch, "NotThisOne", path="/")
    studio_metadata(monkeypatch, tmp_path, DomainId="d-abc", UserProfileName="alice")
    profile = {"UserSettings": {"ExecutionRole": profile_role}} if profile_role else {"UserSettings": {}}
    calls = [("describe_user_profile", profile, {"DomainId": "d-abc", "UserProfileName": "alice"})]
    if not profile_role:
        calls.append(("describe_domain", {"DefaultUserSettings": {"ExecutionRole": STUDIO_ROLE_ARN}}, {"DomainId": "d-abc"}))
    ours, ours_stub = stubbed_sagemaker(calls)
    monkeypatch.setattr(aws, "sagemaker", lambda: ours)
    assert endpoint.execution_role() == STUDIO_ROLE_ARN
    ours_stub.assert_no_pending_responses()
    theirs, _ = stubbed_sagemaker(calls)
    assert sdk_role(monkeypatch, theirs) == STUDIO_ROLE_ARN


def test_a_refused_profile_lookup_falls_back_to_the_identity(account, monkeypatch, tmp_path):
    assume(monkeypatch, STUDIO_ROLE)
    studio_metadata(monkeypatch, tmp_path, DomainId="d-abc", UserProfileName="alice")
    client, _ = stubbed_sagemaker(error=("describe_user_profile", "ResourceNotFound"))
    monkeypatch.setattr(aws, "sagemaker", lambda: client)
    assert endpoint.execution_role() == STUDIO_ROLE_ARN


def test_a_shared_space_uses_the_identity_it_runs_as(account, monkeypatch, tmp_path):
    assume(monkeypatch, STUDIO_ROLE)
    studio_metadata(monkeypatch, tmp_path, DomainId="d-abc", SpaceName="team-space")
    monkeypatch.setattr(aws, "sagemaker", lambda: pytest.fail("no describe call is needed"))
    assert endpoint.execution_role() == STUDIO_ROLE_ARN


def test_refusals_are_kept_in_the_error(account, monkeypatch, tmp_path):
    as_user(monkeypatch)
    studio_metadata(monkeypatch, tmp_path, DomainId="d-abc", UserProfileName="alice")
    client, _ = stubbed_sagemaker(error=("describe_user_profile", "AccessDeniedException"))
    monkeypatch.setattr(aws, "sagemaker", lambda: client)
    with pytest.raises(DermAssistError) as info:
        endpoint.execution_role()
    assert "AccessDeniedException" in str(info.value) and "is not a role" in str(info.value)
