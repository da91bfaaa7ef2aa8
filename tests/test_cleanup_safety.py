"""Nothing left running: the listing a coach reads, cleanup by age with a dry run, and the IAM policy."""

from __future__ import annotations

import inspect
import json
import re
from datetime import timedelta

import pytest

from helpers import costs, endpoint, state
from helpers.coach import cli
from helpers.core import aws
from helpers.core.config import NOTEBOOKS_DIR, PACKAGE_DIR, REPO_ROOT
from helpers.core.errors import EndpointNotReadyError
from helpers.mock import control
from helpers.mock.server import MockApp
from helpers.models import SKIN_VIT_ID


def age_by(name: str, hours: float) -> None:
    """Pretend endpoint ``name`` was created ``hours`` ago (the mock's clock for it)."""
    fake = MockApp.backend(aws.region()).endpoints[name]
    fake.creation_time = fake.creation_time - timedelta(hours=hours)


def table(out: str) -> dict[str, dict[str, str]]:
    """Parse the fixed-width table `derm-assist endpoints` prints, by the header's column starts."""
    lines = [l for l in out.splitlines() if l.strip()]
    header = lines[0]
    names = re.findall(r"\S+(?: \S+)*", header)
    starts = [header.index(n) for n in names]
    rows = {}
    for line in lines[1:]:
        if not line.startswith("derm-assist-"):
            continue
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows[cells[0]] = dict(zip([n.lower() for n in names], cells))
    return rows


@pytest.fixture
def fleet(mock_aws):
    """An old real-time endpoint, a young one, a serverless one, one stuck Creating, one Failed, and one not of the pack."""
    control(aws.endpoint_url(), "faults", {"endpoints": {"derm-assist-stuck": {"stuck_creating": True},
                                                         "derm-assist-broken": {"fail_deploy": "ping health check failed"}}})
    old = endpoint.deploy(SKIN_VIT_ID, name="derm-assist-old", progress=False, owner="ana")
    young = endpoint.deploy(SKIN_VIT_ID, name="derm-assist-young", progress=False, owner="ben")
    sls = endpoint.deploy(SKIN_VIT_ID, name="derm-assist-sls", serverless=endpoint.ServerlessSpec(2048, 1), progress=False)
    endpoint.deploy(SKIN_VIT_ID, name="derm-assist-stuck", instance_type="ml.c5.large", wait=False, progress=False)
    with pytest.raises(EndpointNotReadyError, match="ping health check failed"):
        endpoint.deploy(SKIN_VIT_ID, name="derm-assist-broken", instance_type="ml.t2.medium", progress=False)
    sm = aws.sagemaker()
    sm.create_endpoint_config(EndpointConfigName="not-ours", ProductionVariants=[
        {"VariantName": "v", "ModelName": old.model_names[0], "InstanceType": "ml.c5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="derm-assist-untagged", EndpointConfigName="not-ours")
    age_by("derm-assist-old", 5)
    age_by("derm-assist-stuck", 6)
    age_by("derm-assist-broken", 30)
    return {"old": old, "young": young, "sls": sls}


def endpoint_names() -> set[str]:
    return {e["EndpointName"] for e in aws.sagemaker().list_endpoints()["Endpoints"]}


def test_endpoints_lists_status_size_age_and_cost(fleet, capsys):
    assert cli.main(["endpoints"]) == 0
    out = capsys.readouterr().out
    rows = table(out)
    assert set(rows) == {"derm-assist-old", "derm-assist-young", "derm-assist-sls", "derm-assist-stuck", "derm-assist-broken"}
    assert "derm-assist-untagged" not in out  # found by tag, not by name
    assert {n: r["status"] for n, r in rows.items()} == {
        "derm-assist-old": "InService", "derm-assist-young": "InService", "derm-assist-sls": "InService",
        "derm-assist-stuck": "Creating", "derm-assist-broken": "Failed"}
    assert rows["derm-assist-old"]["size"] == "1 x ml.m5.large" and rows["derm-assist-sls"]["size"] == "serverless 2048 MB"
    assert rows["derm-assist-old"]["age"] == "5h00m" and rows["derm-assist-young"]["age"] == "0m"
    assert rows["derm-assist-broken"]["age"] == "30h00m" and rows["derm-assist-old"]["owner"] == "ana"
    hourly = costs.hourly_price("ml.m5.large")
    assert hourly and rows["derm-assist-old"]["cost so far"] == costs.format_cost(hourly * 5)
    assert rows["derm-assist-young"]["cost so far"] == "~$0.00" and rows["derm-assist-sls"]["cost so far"] == "per request"
    assert "estimates" in out


def test_all_older_than_dry_run_deletes_nothing_then_the_real_run_only_the_old(fleet, capsys):
    sm = aws.sagemaker()
    before = (endpoint_names(), len(sm.list_endpoint_configs()["EndpointConfigs"]), len(sm.list_models()["Models"]))
    assert cli.main(["cleanup", "--all", "--older-than", "4h", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert sorted(re.findall(r"would delete (\S+)", out)) == ["derm-assist-broken", "derm-assist-old", "derm-assist-stuck"]
    assert (endpoint_names(), len(sm.list_endpoint_configs()["EndpointConfigs"]), len(sm.list_models()["Models"])) == before

    old_resources = endpoint.describe("derm-assist-old")
    assert cli.main(["cleanup", "--all", "--older-than", "4h"]) == 0
    out = capsys.readouterr().out
    assert f"endpoint derm-assist-old, endpoint config {old_resources.config_name}, model {old_resources.model_names[0]} deleted" in out
    assert "derm-assist-broken: endpoint derm-assist-broken" in out  # a Failed endpoint still had a config and a model
    assert endpoint_names() == {"derm-assist-young", "derm-assist-sls", "derm-assist-untagged"}
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    assert old_resources.config_name not in configs and "not-ours" in configs

    assert cli.main(["cleanup", "--all", "--older-than", "4h"]) == 0  # safe to re-run
    assert capsys.readouterr().out.strip() == "Nothing to clean up."


def test_cleanup_by_name_is_idempotent_and_forgets_the_state(fleet, capsys):
    state.remember_endpoint("derm-assist-sls", SKIN_VIT_ID)  # the learner's own (owner tester)
    assert cli.main(["cleanup"]) == 0
    assert "derm-assist-sls: endpoint derm-assist-sls" in capsys.readouterr().out
    assert state.load_state().get("endpoint_name") is None
    for _ in range(2):
        assert cli.main(["cleanup", "derm-assist-sls"]) == 0
        assert capsys.readouterr().out.strip() == "derm-assist-sls: already gone"
    assert endpoint.delete_endpoint("never-existed") == []


def test_cleanup_all_without_an_age_takes_every_pack_endpoint_but_nothing_else(fleet, capsys):
    assert cli.main(["cleanup", "--all"]) == 0
    assert endpoint_names() == {"derm-assist-untagged"}
    assert capsys.readouterr().out.count(" deleted\n") == 5
    assert aws.sagemaker().list_models()["Models"] == []  # every model of the pack went with its endpoint
    assert [c["EndpointConfigName"] for c in aws.sagemaker().list_endpoint_configs()["EndpointConfigs"]] == ["not-ours"]


@pytest.mark.parametrize("args,expect", [(["--all", "--older-than", "four hours"], "is not an age"), (["x", "--all"], "not both")])
def test_cleanup_bad_options_are_one_line(mock_aws, capsys, args, expect):
    assert cli.main(["cleanup", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expect in err


def refuse_call(monkeypatch, method: str, matches, code: str, message: str) -> None:
    """The SageMaker client's ``method`` fails with ``code``/``message`` when ``matches(kwargs)``, as AWS answers."""
    from botocore.exceptions import ClientError

    sm = aws.sagemaker()
    real = getattr(sm, method)

    def refused(**kwargs):
        if matches(kwargs):
            raise ClientError({"Error": {"Code": code, "Message": message.format(**kwargs)}}, method)
        return real(**kwargs)

    monkeypatch.setattr(sm, method, refused)


def deny_list_tags(monkeypatch, name: str) -> None:
    """ListTags fails for endpoint ``name`` as it does on AWS when the policy lacks sagemaker:ListTags."""
    refuse_call(monkeypatch, "list_tags", lambda kw: kw["ResourceArn"].endswith(f"/{name}"), "AccessDeniedException",
                "User is not authorized to perform: sagemaker:ListTags on {ResourceArn}")


def test_an_endpoint_whose_tags_cannot_be_read_is_still_listed(fleet, capsys, monkeypatch):
    deny_list_tags(monkeypatch, "derm-assist-young")
    assert cli.main(["endpoints"]) == 0
    rows = table(capsys.readouterr().out)
    assert rows["derm-assist-young"]["status"] == "InService"  # it bills: a coach must see it
    assert rows["derm-assist-young"]["owner"] == "unknown (tags unreadable: AccessDeniedException)"
    assert rows["derm-assist-old"]["owner"] == "ana" and "derm-assist-untagged" not in rows


def deny(monkeypatch, method: str, operation: str, name: str) -> None:
    """``method`` of the SageMaker client fails for the resource named ``name`` (AccessDenied, as without its permission)."""
    from botocore.exceptions import ClientError

    sm = aws.sagemaker()
    real = getattr(sm, method)

    def refuse(**kwargs):
        if name in kwargs.values():
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": f"not authorized: sagemaker:{operation}"}}, operation)
        return real(**kwargs)

    monkeypatch.setattr(sm, method, refuse)


def test_an_unreadable_endpoint_config_is_listed_with_the_reason(fleet, capsys, monkeypatch):
    deny(monkeypatch, "describe_endpoint_config", "DescribeEndpointConfig", fleet["young"].config_name)
    assert cli.main(["endpoints"]) == 0
    rows = table(capsys.readouterr().out)
    assert rows["derm-assist-young"]["size"] == "? (DescribeEndpointConfig failed: AccessDeniedException)"
    assert rows["derm-assist-young"]["status"] == "InService" and rows["derm-assist-young"]["owner"] == "ben"
    assert rows["derm-assist-old"]["size"] == fleet["old"].kind and "?" not in fleet["old"].kind


def test_an_unreadable_model_is_shown_as_unknown_with_the_reason(fleet, capsys, monkeypatch):
    sm = aws.sagemaker()
    sm.delete_tags(ResourceArn=sm.describe_endpoint(EndpointName="derm-assist-young")["EndpointArn"], TagKeys=[endpoint.TAG_MODEL])
    deny(monkeypatch, "describe_model", "DescribeModel", fleet["young"].model_names[0])
    assert cli.main(["endpoints"]) == 0
    rows = table(capsys.readouterr().out)
    assert rows["derm-assist-young"]["model"] == "? (DescribeModel failed: AccessDeniedException)"
    assert rows["derm-assist-old"]["model"] == SKIN_VIT_ID


def test_cleanup_all_names_what_it_could_not_check_and_keeps_it(fleet, capsys, monkeypatch):
    deny_list_tags(monkeypatch, "derm-assist-young")
    assert cli.main(["cleanup", "--all"]) == 1  # not everything is known to be gone
    out = capsys.readouterr().out
    assert re.search(r"skipped endpoint derm-assist-young: its tags could not be read \(AccessDeniedException: .*ListTags", out)
    assert "derm-assist cleanup derm-assist-young" in out  # what to do about it
    assert endpoint_names() == {"derm-assist-young", "derm-assist-untagged"}  # the rest went; an unknown one is not deleted blind


def test_the_cleanup_notebook_uses_the_same_code():
    nb = json.loads((NOTEBOOKS_DIR / "99_cleanup.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    command = inspect.getsource(cli.cmd_cleanup) + inspect.getsource(cli.cmd_endpoints)
    for shared in ("cleanup.cleanup(", "cleanup.endpoint_report("):  # deleting and the endpoint table: one function each
        assert shared in code and shared in command
    assert "sagemaker()" not in code and "delete_endpoint" not in code  # no private delete logic
    assert "estimate_cost" not in code + command and "list_pack_endpoints" not in code + command  # no second table


def test_cleanup_notebook_path_deletes_the_remembered_endpoint_or_says_there_is_none(fleet):
    from helpers import cleanup

    assert cleanup.cleanup(nothing_remembered_ok=True).lines == ["No endpoint remembered: nothing of yours to delete."]
    state.remember_endpoint("derm-assist-sls", SKIN_VIT_ID)
    assert cleanup.cleanup(dry_run=True, nothing_remembered_ok=True).lines == [
        "would delete derm-assist-sls (endpoint, its config and model)"]
    result = cleanup.cleanup(nothing_remembered_ok=True)
    assert result.complete and result.lines[0].startswith("derm-assist-sls: endpoint derm-assist-sls")
    assert "derm-assist-sls" not in endpoint_names() and state.load_state().get("endpoint_name") is None
    report = cleanup.endpoint_report()
    assert {i.name for i in report.endpoints} == {"derm-assist-old", "derm-assist-young", "derm-assist-stuck", "derm-assist-broken"}
    assert report.summary().startswith("4 endpoint(s) of the pack still running. If they are your group's")
    mine = cleanup.endpoint_report(mine=True)  # what notebook 99 shows the learner (tester): their stuck and broken ones
    assert {i.name for i in mine.endpoints} == {"derm-assist-stuck", "derm-assist-broken"} and mine.others == 2
    assert mine.summary().startswith("2 endpoint(s) of yours (tester) still running. 2 more of the pack belong to other learners")


def test_a_remembered_endpoint_of_another_owner_is_not_deleted(fleet):
    from helpers import cleanup

    state.remember_endpoint("derm-assist-young", SKIN_VIT_ID)  # ben's
    result = cleanup.cleanup(nothing_remembered_ok=True)
    assert not result.complete and "belongs to ben, not to you (tester)" in result.text()
    assert "derm-assist-young" in endpoint_names() and state.load_state().get("endpoint_name") is None


# --- least-privilege IAM policy ------------------------------------------------------------------------


# S3's IAM actions are not its API names (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
S3_ACTIONS = {
    "head_bucket": "s3:ListBucket", "list_objects_v2": "s3:ListBucket", "create_bucket": "s3:CreateBucket",
    "delete_bucket": "s3:DeleteBucket", "put_bucket_tagging": "s3:PutBucketTagging", "get_bucket_tagging": "s3:GetBucketTagging",
    "put_public_access_block": "s3:PutBucketPublicAccessBlock",
    "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
    "put_bucket_lifecycle_configuration": "s3:PutLifecycleConfiguration",
    "get_object": "s3:GetObject", "delete_objects": "s3:DeleteObject", "put_object": "s3:PutObject",
}


def actions_the_pack_calls() -> set[str]:
    """Every AWS API the helpers and notebooks call, as IAM actions (found in the source)."""
    sources = [p.read_text() for p in PACKAGE_DIR.rglob("*.py") if "mock" not in p.parts]
    for nb in NOTEBOOKS_DIR.glob("*.ipynb"):
        sources += ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
    text = "\n".join(sources)

    def camel(snake: str) -> str:
        return "".join(part.title() for part in snake.split("_"))

    sm, s3, sfn = r"\b(?:sm|aws\.sagemaker\(\))", r"\b(?:s3|aws\.client\(\"s3\"\))", r"\b(?:sfn|aws\.client\(\"stepfunctions\"\))"
    found = set()
    for pattern, service in ((sm + r"\.(?!get_paginator|meta)([a-z_]+)\(", "sagemaker"),
                             (sm + r"\.get_paginator\(\"([a-z_]+)\"\)", "sagemaker"),
                             (r"\b(?:runtime|aws\.runtime\(\))\.([a-z_]+)\(", "sagemaker"),
                             (r"aws\.client\(\"sts\"\)\.([a-z_]+)\(", "sts"),
                             (r"aws\.client\(\"iam\"\)\.([a-z_]+)\(", "iam"),
                             (sfn + r"\.(?!get_paginator|meta)([a-z_]+)\(", "states"),
                             (sfn + r"\.get_paginator\(\"([a-z_]+)\"\)", "states")):
        found |= {f"{service}:{camel(m)}" for m in re.findall(pattern, text)}
    for call in re.findall(s3 + r"\.(?!meta)(?:get_paginator\(\")?([a-z_0-9]+)", text):
        assert call in S3_ACTIONS, f"s3 {call}: add its IAM action to S3_ACTIONS (and to the policy)"
        found.add(S3_ACTIONS[call])
    return found


def test_iam_policy_allows_exactly_what_the_pack_calls():
    policy = json.loads((REPO_ROOT / "iam" / "derm-assist-policy.json").read_text())
    allowed = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and "*" not in json.dumps(statement["Action"])
        actions = statement["Action"]
        allowed |= {actions} if isinstance(actions, str) else set(actions)
    used = actions_the_pack_calls()
    assert {"sagemaker:CreateEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:ListEndpoints", "sts:GetCallerIdentity",
            "s3:PutLifecycleConfiguration", "s3:DeleteObject", "states:CreateStateMachine", "states:TagResource"} <= used
    assert used - allowed == set(), "called but not allowed"
    assert allowed - used == {"iam:PassRole"}, "allowed but never called (PassRole is what CreateModel needs)"


def test_iam_policy_limits_writes_to_the_packs_resources():
    policy = json.loads((REPO_ROOT / "iam" / "derm-assist-policy.json").read_text())
    for statement in policy["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        writes = [a for a in actions if re.match(r"sagemaker:(Create|Update|Delete|AddTags|Invoke)", a)]
        if writes:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert all(r.split(":")[-1].split("/")[-1] == "derm-assist-*" for r in resources), statement["Sid"]
        if any(a.startswith("sagemaker:Create") for a in actions):
            assert statement["Condition"]["StringEquals"]["aws:RequestTag/project"] == "derm-assist-workshop"
        if any(a.startswith("sagemaker:Delete") for a in actions):
            assert statement["Condition"]["StringEquals"]["aws:ResourceTag/project"] == "derm-assist-workshop"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if any(a.startswith("s3:") for a in actions):  # only the pack's capture bucket, never the account's others
            assert all(r.startswith("arn:aws:s3:::derm-assist-sagemaker-") for r in resources), statement["Sid"]
        if any(re.match(r"states:(Create|Update|Delete|Tag)", a) for a in actions):
            assert all(r.endswith(":stateMachine:derm-assist-*") for r in resources), statement["Sid"]
            tag = "RequestTag" if any(a.startswith("states:Create") for a in actions) else "ResourceTag"
            assert statement["Condition"]["StringEquals"][f"aws:{tag}/project"] == "derm-assist-workshop"


def refuse_delete_while_creating(monkeypatch, name: str) -> None:
    """DeleteEndpoint refused for endpoint ``name`` with a ValidationException that is not "not found"."""
    refuse_call(monkeypatch, "delete_endpoint", lambda kw: kw["EndpointName"] == name, "ValidationException",
                "Cannot delete endpoint {EndpointName} while it is Creating.")


def test_cleanup_all_reports_an_endpoint_sagemaker_refused_to_delete(fleet, capsys, monkeypatch):
    refuse_delete_while_creating(monkeypatch, "derm-assist-stuck")
    assert cli.main(["cleanup", "--all"]) == 1  # not everything is gone: never "already gone" for a refusal
    out = capsys.readouterr().out
    assert re.search(r"derm-assist-stuck: not deleted: .*Creating.* Run the cleanup again in a few minutes", out)
    assert "derm-assist-stuck: already gone" not in out
    assert endpoint_names() == {"derm-assist-stuck", "derm-assist-untagged"}  # the others went


@pytest.mark.parametrize("message,gone", [
    ('Could not find endpoint "arn:aws:sagemaker:eu-west-2:123456789012:endpoint/x".', True),
    ("Could not find model \"arn:aws:sagemaker:eu-west-2:123456789012:model/x\".", True),
    ("Cannot delete endpoint x while it is Creating.", False),
    ("Cannot update in-progress endpoint", False),
])
def test_only_a_missing_resource_counts_as_already_gone(message, gone):
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "DeleteEndpoint")
    assert endpoint._already_gone(error) is gone
