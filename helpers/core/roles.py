"""The execution role: the IAM role SageMaker assumes to pull the container and run the model.

The lookup follows the SageMaker Python SDK v3 (``sagemaker.core.helper.session_helper``:
``Session.get_caller_identity_arn`` behind ``get_execution_role``), made with the pack's own clients so
it works the same against AWS and the local mock, and without importing the SDK (seconds):

1. an explicit ARN: the ``role_arn`` argument, else ``$DERM_ASSIST_ROLE_ARN``;
2. SageMaker Studio or a notebook instance (the resource metadata file exists): ``ExecutionRoleArn`` in
   the file; else the user profile's own execution role (``DescribeUserProfile``), else the domain's
   default (``DescribeDomain``); for a notebook instance, ``DescribeNotebookInstance``;
3. the caller identity: a role ARN as it is; an assumed role (Studio's
   ``arn:aws:sts::<acct>:assumed-role/AmazonSageMaker-ExecutionRole-.../SageMaker``) becomes the role's
   full ARN from IAM ``GetRole``, which carries its path: roles the console creates live under
   ``service-role/``. If ``GetRole`` is refused, the SDK's own guess: ``service-role/`` for names that
   start like the console's, the plain ``role/NAME`` otherwise.

When none of this yields a role (an IAM user, no credentials), the one-line error keeps the SDK's reason
and whatever each step was told.
"""

from __future__ import annotations

import json
import os
import re

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .config import STUDIO_METADATA_FILE
from .errors import BadInputError, RoleNotFoundError, error_code, error_message, explain_aws_error

ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]+$")
ASSUMED_ROLE_PATTERN = re.compile(r"^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/")
CONSOLE_ROLE_PREFIX = "AmazonSageMaker-ExecutionRole"  # what the SageMaker console names the roles it creates
ENV_VARIABLE = "DERM_ASSIST_ROLE_ARN"


def execution_role(role_arn: str | None = None) -> str:
    """The execution role's ARN, found in the SDK's order (see the module docstring)."""
    chosen = role_arn or os.environ.get(ENV_VARIABLE)
    if chosen:
        if not ROLE_ARN_PATTERN.match(chosen):
            raise BadInputError(f"{chosen!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<path/><name>).")
        return chosen
    notes: list[str] = []
    metadata = studio_metadata()
    if metadata is not None:
        found = _from_metadata(metadata, notes)
        if found:
            return found
    try:
        caller = aws.client("sts").get_caller_identity()["Arn"]
    except aws.ERRORS as exc:
        raise explain_aws_error(exc, action="Finding your execution role") from None
    if ":role/" in caller:
        return caller
    match = ASSUMED_ROLE_PATTERN.match(caller)
    if match:
        return _full_role_arn(*match.groups())
    # The SDK's words (get_execution_role's ValueError), then what the earlier steps were told.
    reason = f"The current AWS identity is not a role: {caller}, therefore it cannot be used as a SageMaker execution role"
    raise RoleNotFoundError(
        f"Finding your execution role: {reason}" + (f" ({'; '.join(notes)})" if notes else "") + ". "
        f"Set {ENV_VARIABLE}=arn:aws:iam::<account>:role/<path/><SageMaker role> or pass role_arn=."
    )


def studio_metadata() -> dict | None:
    """The resource metadata SageMaker Studio and notebook instances write for the kernel, or None elsewhere."""
    try:
        return json.loads(STUDIO_METADATA_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # present but unreadable: still Studio, the describe calls cannot help, the identity might


def _from_metadata(metadata: dict, notes: list[str]) -> str | None:
    if metadata.get("ExecutionRoleArn"):
        return metadata["ExecutionRoleArn"]
    domain_id, user, instance = metadata.get("DomainId"), metadata.get("UserProfileName"), metadata.get("ResourceName")
    if domain_id and not user:  # a shared space: the identity the kernel runs as is the space's own role
        return None
    if not domain_id and not instance:
        return None
    sm = aws.sagemaker()
    try:
        if not domain_id:
            return sm.describe_notebook_instance(NotebookInstanceName=instance)["RoleArn"]
        profile = sm.describe_user_profile(DomainId=domain_id, UserProfileName=user)
        if profile.get("UserSettings", {}).get("ExecutionRole"):
            return profile["UserSettings"]["ExecutionRole"]
        return sm.describe_domain(DomainId=domain_id)["DefaultUserSettings"]["ExecutionRole"]
    except KeyError:
        notes.append("Studio's metadata names no execution role")
    except (ClientError, BotoCoreError) as exc:  # the SDK also carries on to the caller identity
        notes.append(f"Studio's role lookup was refused: {error_code(exc) or type(exc).__name__}: {error_message(exc)}")
    return None


def _full_role_arn(partition: str, account: str, name: str) -> str:
    try:
        return aws.client("iam").get_role(RoleName=name)["Role"]["Arn"]
    except ClientError:  # no iam:GetRole (or no such role): as the SDK does, guess the path from the name
        pass
    path = "service-role/" if CONSOLE_ROLE_PREFIX in name else ""
    return f"arn:{partition}:iam::{account}:role/{path}{name}"
