"""Owners in a shared account: SageMaker Studio's identities, two learners, and the coach's cleanup.

In Studio every kernel calls AWS as ``arn:aws:sts::<acct>:assumed-role/AmazonSageMaker-ExecutionRole-.../SageMaker``
and runs as the OS user ``sagemaker-user``; only Studio's resource metadata file tells learners apart. The
identities here are real ones on the mock (a role assumed through STS with the session name Studio uses).
"""

from __future__ import annotations

import json
import re

import pytest

from helpers import cleanup, endpoint, preflight, state
from helpers.coach import cli
from helpers.core import aws, owner, roles
from helpers.core.errors import BadInputError
from helpers.models import SKIN_VIT_ID

ACCOUNT = "123456789012"
STUDIO_ROLE = "AmazonSageMaker-ExecutionRole-20240315T101010"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture
def studio(mock_aws, monkeypatch, tmp_path):
    """The mock, called as Studio's kernel calls AWS: the shared execution role, session name SageMaker."""
    monkeypatch.delenv("DERM_ASSIST_OWNER", raising=False)
    monkeypatch.setattr(roles, "STUDIO_METADATA_FILE", tmp_path / "absent" / "resource-metadata.json")
    iam = aws.client("iam")
    arn = iam.create_role(RoleName=STUDIO_ROLE, Path="/service-role/", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    credentials = aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="SageMaker")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    aws.reset_clients()
    assert aws.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{STUDIO_ROLE}/SageMaker"
    return tmp_path


def as_learner(monkeypatch, base, profile: str | None = None, **fields) -> None:
    """Studio's metadata file for this learner's space, and their own work folder (their home directory)."""
    path = base / f"meta-{profile or fields.get('SpaceName')}.json"
    data = {"AppType": "JupyterLab", "DomainId": "d-abc123xyz", "SpaceName": f"{profile}-space" if profile else None,
            "ResourceArn": f"arn:aws:sagemaker:eu-west-2:{ACCOUNT}:app/d-abc123xyz/{profile}-space/jupyterlab/default",
            "ResourceName": "default", "AppImageVersion": "4.4.1", **fields}
    if profile:
        data["UserProfileName"] = profile
    path.write_text(json.dumps(data))
    monkeypatch.setattr(roles, "STUDIO_METADATA_FILE", path)
    monkeypatch.setenv("DERM_ASSIST_WORK_DIR", str(base / f"home-{profile or fields.get('SpaceName')}" / "work"))


def test_studio_without_metadata_refuses_the_shared_role_with_one_line(studio):
    with pytest.raises(owner.OwnerUnknownError) as caught:
        endpoint.default_owner()
    message = str(caught.value)
    assert "\n" not in message and "DERM_ASSIST_OWNER" in message and f"assumed-role/{STUDIO_ROLE}/SageMaker" in message
    with pytest.raises(owner.OwnerUnknownError):
        endpoint.deploy(progress=False)
    assert endpoint.all_endpoint_names() == []  # nothing was created under a shared name


def test_studio_owner_is_the_user_profile_else_the_space(studio, monkeypatch):
    as_learner(monkeypatch, studio, "Alice.Smith")
    found = owner.resolve()
    assert found.name == "alice-smith" and "UserProfileName" in found.source
    as_learner(monkeypatch, studio, None, SpaceName="bob-space")
    assert owner.resolve().name == "bob-space"
    as_learner(monkeypatch, studio, None, SpaceName="default", UserProfileName="")  # generic: refused, not shared
    with pytest.raises(owner.OwnerUnknownError):
        owner.resolve()
    monkeypatch.setenv("DERM_ASSIST_OWNER", "Carol")  # the variable wins over everything
    assert owner.resolve() == owner.Owner("carol", "$DERM_ASSIST_OWNER")


@pytest.mark.parametrize("arn", [
    "arn:aws:sts::123456789012:assumed-role/AmazonSageMaker-ExecutionRole-20240315T101010/SageMaker",
    "arn:aws:iam::123456789012:user/moto",  # the mock's identity
    "arn:aws:iam::123456789012:root",
    "arn:aws:sts::123456789012:assumed-role/WorkshopRole/botocore-session-1732000000",
    "arn:aws:sts::123456789012:assumed-role/EC2Role/i-0123456789abcdef0",
    "arn:aws:sts::123456789012:assumed-role/Role/sagemaker-user",
    "arn:aws:sts::123456789012:assumed-role/Role/jovyan",
    "arn:aws:sts::123456789012:assumed-role/Role/ec2-user",
])
def test_shared_identities_are_refused(arn):
    assert owner.is_generic(owner.from_identity(arn))


@pytest.mark.parametrize(("arn", "expected"), [
    ("arn:aws:iam::123456789012:user/alice", "alice"),
    ("arn:aws:iam::123456789012:user/division/Bob_Jones", "bob-jones"),
    ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Learner_0123abcd/carol@example.com", "carol-example-com"),
])
def test_personal_identities_name_the_owner(arn, expected):
    name = owner.from_identity(arn)
    assert not owner.is_generic(name) and owner.normalize(name) == expected


def test_owners_are_valid_in_names_and_tags_and_long_ones_stay_apart():
    first = owner.normalize("Alexandra-Montgomery-Fitzwilliam-Smythe-1")
    second = owner.normalize("Alexandra-Montgomery-Fitzwilliam-Smythe-2")
    assert first != second and len(first) <= owner.MAX_LENGTH and len(second) <= owner.MAX_LENGTH
    names = {endpoint.endpoint_name_for(SKIN_VIT_ID, who) for who in (first, second)}
    assert len(names) == 2
    for name in names:
        assert len(name) <= 63 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    with pytest.raises(BadInputError, match="DERM_ASSIST_OWNER"):
        owner.normalize("!!!")


def test_two_learners_in_one_account_never_touch_each_others_endpoints(studio, monkeypatch, capsys):
    as_learner(monkeypatch, studio, "alice")
    alice = endpoint.deploy(progress=False)
    state.remember_endpoint(alice.name, alice.model_id)
    as_learner(monkeypatch, studio, "bob")
    bob = endpoint.deploy(progress=False)  # same model, same role, same OS user: still a new endpoint of his own
    state.remember_endpoint(bob.name, bob.model_id)
    assert alice.name != bob.name and alice.tags["owner"] == "alice" and bob.tags["owner"] == "bob"

    # Bob sees his own, and only counts Alice's.
    report = cleanup.endpoint_report(mine=True)
    assert [e.name for e in report.endpoints] == [bob.name] and report.others == 1
    assert alice.name not in report.text() and "1 more of the pack belong to other learners" in report.summary()

    # He can neither reuse nor swap away nor delete hers, even by naming it.
    with pytest.raises(BadInputError, match="belongs to alice"):
        endpoint.deploy(name=alice.name, progress=False)
    with pytest.raises(BadInputError, match="belongs to alice"):
        endpoint.swap_model(SKIN_VIT_ID, alice.name, progress=False)
    state.remember_endpoint(alice.name, alice.model_id)  # e.g. a work folder copied from a classmate
    result = cleanup.cleanup(nothing_remembered_ok=True)
    assert not result.complete and "belongs to alice" in result.text()
    assert alice.name in endpoint.all_endpoint_names()

    # His own swap and cleanup work and leave hers alone.
    swapped = endpoint.swap_model(SKIN_VIT_ID, bob.name, progress=False)
    state.remember_endpoint(swapped.name, swapped.model_id)
    assert cleanup.cleanup(nothing_remembered_ok=True).complete
    assert endpoint.all_endpoint_names() == [alice.name]

    # The coach (any identity) still finds and removes everyone's.
    monkeypatch.setenv("DERM_ASSIST_OWNER", "coach")
    assert cli.main(["endpoints"]) == 0
    assert alice.name in capsys.readouterr().out
    assert cli.main(["cleanup", "--all"]) == 0
    assert endpoint.all_endpoint_names() == []



def test_an_owner_set_in_notebook_00_reaches_the_other_notebooks(studio, monkeypatch):
    """Each notebook runs in its own kernel: `%env` in notebook 00 is remembered in the work folder for the rest."""
    as_learner(monkeypatch, studio, None, SpaceName="default", UserProfileName="")  # nothing tells this learner apart
    monkeypatch.setenv("DERM_ASSIST_OWNER", "Dana Lee")
    check = preflight.check_owner()
    assert check.ok and "dana-lee (from $DERM_ASSIST_OWNER)" in check.line()
    monkeypatch.delenv("DERM_ASSIST_OWNER")  # another notebook's kernel
    found = owner.resolve()
    assert found.name == "dana-lee" and "remembered by notebook 00" in found.source
    assert endpoint.deploy(progress=False).name.startswith("derm-assist-dana-lee-")
