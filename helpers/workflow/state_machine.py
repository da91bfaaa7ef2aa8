"""The triage workflow as an AWS Step Functions state machine, and the same three steps run here.

``triage_workflow.asl.json`` is the Amazon States Language definition: a Pass state that fixes the learner's
endpoint and threshold, the three Lambda tasks (serialize -> classify -> confidence filter, with retries
on Lambda's transient errors), and a Catch that sends ``LowConfidence`` to *refer for specialist review*.
:func:`create` fills in the names and creates it through the Step Functions API (``CreateStateMachine``,
tagged like everything the pack makes).

The pack does not deploy the three Lambda functions (that needs a deployment package, a Lambda role and
permissions most workshop sandboxes do not give). So nothing executes the state machine here: the local mock's
Step Functions engine (moto's) runs Lambda tasks only in Docker, which this course does not assume. Instead
:func:`run_locally` calls the three handlers in the order the state machine would, and does what its one Catch
does — and says so.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .. import capture, endpoint, images, triage
from ..core import aws
from ..core import owner as owner_rules
from ..core.config import PROJECT_TAG
from ..core.errors import BadInputError, error_code, explain_aws_error
from . import classify_image, confidence_filter, serialize_image

DEFINITION_FILE = Path(__file__).with_name("triage_workflow.asl.json")
STEPS = {"SerializeImageFunction": "serialize-image", "ClassifyImageFunction": "classify-image",
         "ConfidenceFilterFunction": "confidence-filter"}
TAG_ENDPOINT = "endpoint"
ROLE_VARIABLE = "DERM_ASSIST_WORKFLOW_ROLE_ARN"


def function_arn(owner: str, step: str, region: str | None = None, account: str | None = None) -> str:
    """Where the pack expects step ``step``'s Lambda function: ``derm-assist-<owner>-<step>``."""
    return f"arn:aws:lambda:{region or aws.region()}:{account or capture.account_id()}:function:derm-assist-{owner}-{step}"


def state_machine_name(owner: str) -> str:
    return f"derm-assist-{owner_rules.part(owner, 30)}-triage"


def _fill(node, values: dict):
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    if isinstance(node, str):
        whole = re.fullmatch(r"\$\{(\w+)\}", node)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]  # keeps numbers numbers
        return re.sub(r"\$\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), node)
    return node


def definition(endpoint_name: str, threshold: float, owner: str | None = None, region: str | None = None,
               account: str | None = None) -> str:
    """The ASL definition (JSON text) for this learner's endpoint, threshold and Lambda functions."""
    owner = owner_rules.part(owner, owner_rules.MAX_LENGTH) if owner else endpoint.default_owner()
    values = {"EndpointName": endpoint_name, "Threshold": triage.check_threshold(threshold), "UncertainOutcome": triage.UNCERTAIN}
    values |= {key: function_arn(owner, step, region, account) for key, step in STEPS.items()}
    filled = _fill(json.loads(DEFINITION_FILE.read_text(encoding="utf-8")), values)
    text = json.dumps(filled, indent=2, ensure_ascii=False)
    left = sorted(set(re.findall(r"\$\{(\w+)\}", text)))
    if left:
        raise ValueError(f"{DEFINITION_FILE.name} has placeholders nobody fills: {', '.join(left)}")
    return text


@dataclass(frozen=True)
class Workflow:
    name: str
    arn: str
    definition: str
    created: bool


def create(endpoint_name: str, threshold: float, *, role_arn: str | None = None, owner: str | None = None,
           progress: bool = True) -> Workflow | None:
    """Create (or update) the learner's state machine. Without a role Step Functions may assume, say so and return None.

    The role comes from ``role_arn`` or ``$DERM_ASSIST_WORKFLOW_ROLE_ARN``: a role trusted by
    ``states.amazonaws.com`` that may invoke the three functions (coaches set it up; the mock has one).
    """
    role = role_arn or os.environ.get(ROLE_VARIABLE)
    if not role:
        if progress:
            print(f"Not created: Step Functions needs a role it can assume (set {ROLE_VARIABLE} or pass role_arn=; "
                  "ask your coach). The definition is shown below all the same.")
        return None
    if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+", role):
        raise BadInputError(f"{role!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).")
    owner = owner_rules.part(owner, owner_rules.MAX_LENGTH) if owner else endpoint.default_owner()
    name = state_machine_name(owner)
    text = definition(endpoint_name, threshold, owner)
    sfn = aws.client("stepfunctions")
    tags = [{"key": t["Key"], "value": t["Value"]} for t in endpoint.pack_tags(owner, "")
            if t["Key"] != endpoint.TAG_MODEL] + [{"key": TAG_ENDPOINT, "value": endpoint_name}]
    existing = _find(name)
    try:
        if existing:
            sfn.update_state_machine(stateMachineArn=existing, definition=text, roleArn=role)
            sfn.tag_resource(resourceArn=existing, tags=tags)
            arn, created = existing, False
        else:
            arn = sfn.create_state_machine(name=name, definition=text, roleArn=role, type="STANDARD", tags=tags)["stateMachineArn"]
            created = True
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action=f"Creating the state machine {name}") from None
    if progress:
        print(f"State machine {name} {'created' if created else 'updated'}: {arn}")
    return Workflow(name, arn, text, created)


def _find(name: str) -> str | None:
    for machine in _pack_machines():
        if machine["name"] == name:
            return machine["stateMachineArn"]
    return None


def _pack_machines() -> list[dict]:
    sfn = aws.client("stepfunctions")
    machines = []
    try:
        for page in sfn.get_paginator("list_state_machines").paginate():
            machines += [m for m in page.get("stateMachines", []) if m["name"].startswith("derm-assist-")]
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action="Listing state machines") from None
    return machines


def _tags(arn: str) -> dict[str, str]:
    try:
        return {t["key"]: t["value"] for t in aws.client("stepfunctions").list_tags_for_resource(resourceArn=arn).get("tags", [])}
    except aws.ERRORS as exc:
        if error_code(exc) in ("ResourceNotFound", "StateMachineDoesNotExist"):
            return {}
        raise explain_aws_error(exc, action=f"Reading the tags of {arn}") from None


def pack_workflows(endpoint_name: str | None = None) -> list[dict]:
    """The pack's state machines (found by tag), optionally only those made for ``endpoint_name``."""
    found = []
    for machine in _pack_machines():
        tags = _tags(machine["stateMachineArn"])
        if tags.get(endpoint.TAG_PROJECT) != PROJECT_TAG:
            continue
        if endpoint_name and tags.get(TAG_ENDPOINT) != endpoint_name:
            continue
        found.append(machine)
    return found


def delete_workflows(endpoint_name: str | None = None, *, keep: set[str] | frozenset = frozenset(),
                     dry_run: bool = False) -> list[str]:
    """Delete (or list) the pack's state machines for ``endpoint_name`` (when None: for every endpoint not in ``keep``)."""
    done = []
    for machine in pack_workflows(endpoint_name):
        if endpoint_name is None and _tags(machine["stateMachineArn"]).get(TAG_ENDPOINT) in keep:
            continue
        if not dry_run:
            try:
                aws.client("stepfunctions").delete_state_machine(stateMachineArn=machine["stateMachineArn"])
            except aws.ERRORS as exc:
                if error_code(exc) not in ("ResourceNotFound", "StateMachineDoesNotExist"):
                    raise explain_aws_error(exc, action=f"Deleting state machine {machine['name']}") from None
        done.append(f"state machine {machine['name']}")
    return done


# --- the three steps, run here -------------------------------------------------------------------------


def run_locally(image: images.ImageSource, endpoint_name: str, threshold: float, inference_id: str | None = None) -> dict:
    """What one execution of the state machine does, done here: the three handlers in order, and its Catch.

    Returns the last state's output: the outcome with its top class and score, or the *refer for
    specialist review* record that ``ReferForSpecialistReview`` builds from the ``LowConfidence`` error.
    """
    raw = images.read_bytes(image) if isinstance(image, (str, os.PathLike)) else images.encode_jpeg(images.load_image(image))
    state = {"image_b64": base64.b64encode(raw).decode("ascii"), "inference_id": inference_id or "",
             "endpoint_name": endpoint_name, "threshold": triage.check_threshold(threshold)}  # UseLearnerSettings
    state = serialize_image.handler(state, None)
    state = classify_image.handler(state, None)
    try:
        return confidence_filter.handler(state, None)
    except confidence_filter.LowConfidence as error:  # the Catch -> ReferForSpecialistReview
        return {"outcome": triage.UNCERTAIN, "reason": str(error), "image_sha256": state["image_sha256"],
                "inference_id": state["inference_id"], "threshold": state["threshold"]}
