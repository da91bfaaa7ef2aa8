"""Deploying, reusing, listing and deleting the pack's endpoints against the mock."""

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from helpers import endpoint, models, state
from helpers.core import aws
from helpers.core.config import CACHE_DIR_ENV, PROJECT_TAG, REPO_ROOT
from helpers.core.errors import BadInputError, EndpointNotFoundError, EndpointNotReadyError
from helpers.mock import control
from helpers.models import MOBILENET_V2_ID, SKIN_VIT_ID


def test_deploy_creates_three_tagged_resources(deployed):
    sm = aws.sagemaker()
    assert deployed.status == "InService"
    assert deployed.name == "derm-assist-tester-mobilenet-v2-1-0-224"
    model = sm.describe_model(ModelName=deployed.model_names[0])
    env = model["PrimaryContainer"]["Environment"]
    assert env == {"HF_MODEL_ID": MOBILENET_V2_ID, "HF_TASK": "image-classification",
                   "HF_MODEL_REVISION": models.MOBILENET_V2.revision}  # real-time: no worker cap
    assert "huggingface-pytorch-inference" in model["PrimaryContainer"]["Image"] and "cpu" in model["PrimaryContainer"]["Image"]
    for arn in (model["ModelArn"], sm.describe_endpoint(EndpointName=deployed.name)["EndpointArn"]):
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
        assert tags["project"] == PROJECT_TAG and tags["owner"] == "tester" and tags["created"]
    assert deployed.kind == "1 x ml.m5.large"


def test_redeploy_reuses_instead_of_duplicating(deployed, capsys):
    again = endpoint.deploy(progress=True)
    assert again.name == deployed.name
    assert "Reusing" in capsys.readouterr().out
    assert len(aws.sagemaker().list_endpoints()["Endpoints"]) == 1
    assert len(aws.sagemaker().list_models()["Models"]) == 1


def test_serverless_deploy(mock_aws):
    info = endpoint.deploy(name="sls", serverless=endpoint.ServerlessSpec(2048, 1), progress=False)
    assert info.serverless == endpoint.ServerlessSpec(2048, 1)
    assert info.kind == "serverless 2048 MB"


@pytest.mark.parametrize("spec", models.ALL, ids=lambda s: s.name)
def test_serverless_gets_the_registry_memory_and_one_model_server_worker(mock_aws, spec):
    serverless = endpoint.ServerlessSpec.for_model(spec.id)
    assert serverless.memory_mb == spec.serverless_memory_mb
    info = endpoint.deploy(spec.id, name="derm-assist-sls", serverless=serverless, progress=False)
    assert info.kind == f"serverless {spec.serverless_memory_mb} MB"
    env = aws.sagemaker().describe_model(ModelName=info.model_names[0])["PrimaryContainer"]["Environment"]
    assert env["SAGEMAKER_MODEL_SERVER_WORKERS"] == "1" and env["HF_MODEL_REVISION"] == spec.revision


def test_bad_serverless_memory_is_bad_input():
    with pytest.raises(BadInputError):
        endpoint.ServerlessSpec(memory_mb=1500)


def test_failed_deploy_reports_the_reason(mock_aws):
    control(aws.endpoint_url(), "faults", {"fail_deploy": "The primary container did not pass the ping health check."})
    with pytest.raises(EndpointNotReadyError) as info:
        endpoint.deploy(progress=False)
    assert "ping health check" in str(info.value) and "cleanup" in str(info.value)


def test_not_found_lists_existing_endpoints(deployed):
    with pytest.raises(EndpointNotFoundError) as info:
        endpoint.describe("typo-endpoint")
    assert deployed.name in str(info.value)


def test_delete_is_complete_and_idempotent(deployed):
    deleted = endpoint.delete_endpoint(deployed.name)
    assert len(deleted) == 3
    sm = aws.sagemaker()
    assert sm.list_endpoints()["Endpoints"] == [] and sm.list_models()["Models"] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert endpoint.delete_endpoint(deployed.name) == []


def test_list_pack_endpoints_ignores_untagged(deployed):
    sm = aws.sagemaker()
    sm.create_endpoint_config(EndpointConfigName="other", ProductionVariants=[{"VariantName": "v", "ModelName": deployed.model_names[0], "InstanceType": "ml.t2.medium", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="someone-elses", EndpointConfigName="other")
    assert [e.name for e in endpoint.list_pack_endpoints()] == [deployed.name]
    assert endpoint.list_pack_endpoints(owner="somebody") == []


@pytest.mark.parametrize("text,expected", [("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)), ("2d", timedelta(days=2)), ("90s", timedelta(seconds=90))])
def test_parse_age(text, expected):
    assert endpoint.parse_age(text) == expected


@pytest.mark.parametrize("text", ["", "4", "four hours", "4w", "-1h"])
def test_parse_age_rejects_nonsense(text):
    with pytest.raises(BadInputError):
        endpoint.parse_age(text)


def test_select_for_cleanup_by_age(deployed):
    found = endpoint.list_pack_endpoints()
    assert endpoint.select_for_cleanup(found, timedelta(hours=1)) == []
    assert endpoint.select_for_cleanup(found, timedelta(0)) == found


def test_state_remembers_and_forgets(deployed, tmp_path):
    assert state.current_endpoint() == deployed.name
    state.forget_endpoint(deployed.name)
    with pytest.raises(Exception) as info:
        state.current_endpoint()
    assert "notebook 01" in str(info.value)


def test_execution_role_from_environment_is_validated(monkeypatch):
    monkeypatch.setenv("DERM_ASSIST_ROLE_ARN", "not-an-arn")
    with pytest.raises(BadInputError):
        endpoint.execution_role()


@pytest.mark.parametrize("model_id,short", [("google/mobilenet_v2_1.0_224", "mobilenet-v2-1-0-224"), ("Anwarkh1/Skin_Cancer-Image_Classification", "skin-cancer-image-classi")])
def test_endpoint_names_are_valid(model_id, short):
    name = endpoint.endpoint_name_for(model_id, "A Learner@Example.com")
    assert name.startswith("derm-assist-a-learner-e-03c0-") and name.endswith(short)  # cut to 16, plus a hash of the whole owner
    assert len(name) <= 63


def test_swap_replace_frees_the_instance_first(deployed):
    swapped = endpoint.swap_model(SKIN_VIT_ID, deployed.name, progress=False)
    assert swapped.model_id == SKIN_VIT_ID and swapped.status == "InService"
    assert [e["EndpointName"] for e in aws.sagemaker().list_endpoints()["Endpoints"]] == [swapped.name]
    assert len(aws.sagemaker().list_models()["Models"]) == 1  # the old model went with its endpoint


def test_swap_update_keeps_the_name_and_cleans_old_config(deployed):
    swapped = endpoint.swap_model(SKIN_VIT_ID, deployed.name, mode="update", progress=False)
    assert swapped.name == deployed.name and swapped.model_id == SKIN_VIT_ID
    assert swapped.config_name != deployed.config_name
    sm = aws.sagemaker()
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == [swapped.config_name]
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == swapped.model_names


def test_swap_to_the_same_model_is_a_no_op(deployed):
    assert endpoint.swap_model(deployed.model_id, deployed.name, progress=False).name == deployed.name


def test_swap_mode_is_validated(deployed):
    with pytest.raises(BadInputError):
        endpoint.swap_model("x/y", deployed.name, mode="sideways")


def test_leftover_configs_and_models_are_found_and_cleaned(deployed):
    from helpers.coach import cli

    sm = aws.sagemaker()
    sm.delete_endpoint(EndpointName=deployed.name)  # as if a cleanup was interrupted half-way
    orphans = endpoint.list_orphans()
    assert sorted(kind for kind, _ in orphans) == ["endpoint config", "model"]
    assert cli.main(["cleanup", "--all", "--dry-run"]) == 0
    assert len(endpoint.list_orphans()) == 2
    assert cli.main(["cleanup", "--all"]) == 0
    assert endpoint.list_orphans() == [] and sm.list_models()["Models"] == []


def test_orphan_search_ignores_what_a_live_endpoint_uses_and_untagged_resources(deployed):
    sm = aws.sagemaker()
    sm.create_model(ModelName="derm-assist-someone-else", ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
                    PrimaryContainer={"Image": "x"})
    assert endpoint.list_orphans() == []


@pytest.fixture
def sdk_calls(monkeypatch, tmp_path):
    """A fresh cache folder, and the regions the SageMaker SDK is asked about (it still answers)."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    asked, resolve = [], endpoint._resolve_image_uri

    def counting(region, instance_type):
        asked.append(region)
        return resolve(region, instance_type)

    monkeypatch.setattr(endpoint, "_resolve_image_uri", counting)
    return asked


def test_image_uri_is_asked_of_the_sdk_once_then_read_by_other_processes(sdk_calls, tmp_path):
    first = endpoint.image_uri("eu-west-2")
    assert first.startswith("763104351884.dkr.ecr.eu-west-2.amazonaws.com/huggingface-pytorch-inference:") and "-cpu-" in first
    assert endpoint.image_uri("eu-west-2") == first and sdk_calls == ["eu-west-2"]
    assert list(json.loads((tmp_path / "cache" / endpoint.IMAGE_URI_CACHE_FILE).read_text()).values()) == [first]
    # Another kernel (a new process) reads the answer without importing the SDK, which takes seconds.
    script = ("import sys; from helpers import endpoint; print(endpoint.image_uri('eu-west-2')); "
              "print('sagemaker.core' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.stdout.split() == [first, "False"], done.stderr


def test_image_uri_asks_the_sdk_again_for_another_sdk_version_region_or_processor(sdk_calls, monkeypatch):
    cpu = endpoint.image_uri("eu-west-2")
    assert "-gpu-" in endpoint.image_uri("eu-west-2", instance_type="ml.g5.xlarge")
    assert endpoint.image_uri("us-east-1").startswith("763104351884.dkr.ecr.us-east-1.amazonaws.com/")
    monkeypatch.setattr(endpoint, "_sdk_versions", lambda: "sagemaker-core-99.0.0/botocore-1.99.0")
    assert endpoint.image_uri("eu-west-2") == cpu
    assert sdk_calls == ["eu-west-2", "eu-west-2", "us-east-1", "eu-west-2"]


@pytest.mark.parametrize("damage", ["{not json", '["a list"]', '{"key": 3}'])
def test_a_damaged_uri_cache_is_asked_again_and_rewritten(sdk_calls, tmp_path, damage):
    cached = tmp_path / "cache" / endpoint.IMAGE_URI_CACHE_FILE
    cached.parent.mkdir()
    cached.write_text(damage)
    uri = endpoint.image_uri("eu-west-2")
    assert sdk_calls == ["eu-west-2"] and list(json.loads(cached.read_text()).values()) == [uri]


def test_an_unwritable_cache_folder_still_gives_the_uri(sdk_calls, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "a-file" / "cache"))
    assert endpoint.image_uri("eu-west-2") == endpoint.image_uri("eu-west-2") and sdk_calls == ["eu-west-2"] * 2


def test_deploy_refuses_a_model_the_registry_does_not_know_before_creating_anything(mock_aws):
    with pytest.raises(BadInputError) as info:
        endpoint.deploy("someone/another-classifier", progress=False)
    assert "someone/another-classifier" in str(info.value) and MOBILENET_V2_ID in str(info.value)
    assert aws.sagemaker().list_models()["Models"] == []


def test_a_pinned_revision_reaches_the_container(mock_aws, monkeypatch):
    from helpers import models

    pinned = models.ModelSpec(**{**vars(models.SKIN_VIT), "revision": "a" * 40})
    monkeypatch.setitem(models._BY_ID, SKIN_VIT_ID, pinned)
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    env = aws.sagemaker().describe_model(ModelName=info.model_names[0])["PrimaryContainer"]["Environment"]
    assert env == {"HF_MODEL_ID": SKIN_VIT_ID, "HF_TASK": "image-classification", "HF_MODEL_REVISION": "a" * 40}


def test_serverless_memory_for_a_model_comes_from_the_registry():
    from helpers import models

    assert endpoint.ServerlessSpec.for_model(SKIN_VIT_ID).memory_mb == models.SKIN_VIT.serverless_memory_mb
    assert endpoint.ServerlessSpec.for_model(MOBILENET_V2_ID, 3).max_concurrency == 3
