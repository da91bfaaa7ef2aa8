"""Whose endpoints these are: one owner per learner, even when a whole class shares one AWS role.

The owner goes into every endpoint name (``derm-assist-<owner>-<model>``), the ``owner`` tag, the S3 prefixes
of captured data and Batch Transform files, and the workflow's name; cleanup and the learner's listings
filter on it. Where it comes from, first match wins:

1. ``$DERM_ASSIST_OWNER`` (a coach, CI, or a learner whose identity is shared);
2. the owner notebook 00 remembered in the learner's work folder (``work/owner``) when it found the variable
   set: every notebook has its own kernel, and a ``%env`` line in notebook 00 does not reach the others;
3. SageMaker Studio's resource metadata file (``/opt/ml/metadata/resource-metadata.json``): the
   ``UserProfileName``, else the ``SpaceName``. In Studio every learner calls AWS as the domain's
   execution role (``arn:aws:sts::<acct>:assumed-role/AmazonSageMaker-ExecutionRole-.../SageMaker``) and
   the OS user is ``sagemaker-user``, so neither tells learners apart; the user profile does;
4. the AWS identity: an IAM user's name, or the session name of an assumed role (an SSO user's
   ``assumed-role/AWSReservedSSO_.../alice`` is alice).

An owner many people share (``sagemaker-user``, ``root``, the role session ``SageMaker``, the mock's ``moto``,
boto's ``botocore-session-<n>``, an EC2 instance id …) is refused with one line: set DERM_ASSIST_OWNER.
The OS user is never used: on Studio, notebook instances and containers it is the same for everybody.

An owner is lower-case letters, digits and hyphens (valid in endpoint names and tag values), at most
:data:`MAX_LENGTH` characters; a longer one is cut and keeps a short hash of the whole, so that two long
names that start alike stay two owners (:func:`short` does the same for the shorter part a name can hold).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from . import aws
from .config import STUDIO_METADATA_FILE, work_dir
from .errors import BadInputError, DermAssistError
from .files import atomic_write_text
from .roles import studio_metadata

ENV_VARIABLE = "DERM_ASSIST_OWNER"
REMEMBERED_FILE = "owner"  # in the learner's work folder
MAX_LENGTH = 32
# Names many people share: OS users of Studio, notebook instances, containers and laptops; the mock's identity;
# role session names that SageMaker, boto and EC2 give everyone.
GENERIC_OWNERS = frozenset({
    "sagemaker", "sagemaker-user", "studio", "root", "jovyan", "ec2-user", "ubuntu", "admin", "administrator", "user",
    "default", "moto", "sagemaker-execution", "botocore-session", "aws-go-sdk",
})
GENERIC_PATTERNS = (
    re.compile(r"botocore-session-\d+"),  # boto3's AssumeRole without a RoleSessionName
    re.compile(r"i-[0-9a-f]{8,17}"),  # EC2 instance profiles: the instance id
    re.compile(r"\d+"),  # numeric session names (timestamps)
    re.compile(r"amazonsagemaker-executionrole.*"),  # the role itself
)
INSTRUCTION = (f"set {ENV_VARIABLE} to a name of your own (letters, digits, hyphens): add a cell `%env {ENV_VARIABLE}=alice-smith` "
               f"at the top of notebook 00 and run it (notebook 00 remembers it for the others), or in a terminal "
               f"`export {ENV_VARIABLE}=alice-smith`")


class OwnerUnknownError(DermAssistError):
    """Nothing tells this learner apart from the others in the account."""


@dataclass(frozen=True)
class Owner:
    name: str  # normalised: what goes into names and tags
    source: str  # where it came from, for notebook 00


def normalize(text: str, limit: int = MAX_LENGTH) -> str:
    """``Alice.Smith@Example.com`` -> ``alice-smith-example-com``; longer than ``limit``: cut, plus a hash of the whole."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    if not cleaned:
        raise BadInputError(f"{text!r} cannot be an owner: it has no letters or digits; {INSTRUCTION}.")
    return short(cleaned, limit)


def short(owner: str, limit: int) -> str:
    """``owner`` when it fits in ``limit`` characters, else its start and 4 hex digits of its hash (stays unique)."""
    if len(owner) <= limit:
        return owner
    digest = hashlib.sha1(owner.encode()).hexdigest()[:4]
    return f"{owner[:limit - 5].rstrip('-')}-{digest}"


def part(owner: str, limit: int) -> str:
    """The piece of a resource name or S3 prefix that says whose it is: ``owner`` normalised, at most ``limit`` long."""
    return short(normalize(owner), limit)


def is_generic(name: str) -> bool:
    cleaned = re.sub(r"[^a-z0-9]+", "-", (name or "").lower()).strip("-")
    return not cleaned or cleaned in GENERIC_OWNERS or any(p.fullmatch(cleaned) for p in GENERIC_PATTERNS)


def from_studio(metadata: dict | None) -> tuple[str, str] | None:
    """(name, source) from Studio's metadata: the user profile, else the space; None outside Studio."""
    if not metadata:
        return None
    for key in ("UserProfileName", "SpaceName"):
        value = metadata.get(key)
        if isinstance(value, str) and value.strip() and not is_generic(value):
            return value, f"Studio {key} in {STUDIO_METADATA_FILE}"
    return None


def from_identity(arn: str) -> str:
    """The person-like part of a caller ARN: an IAM user's name, an assumed role's session name."""
    return arn.rsplit(":", 1)[-1].split("/")[-1]


def resolve() -> Owner:
    """The owner and where it came from, or :class:`OwnerUnknownError` with the one line that fixes it."""
    chosen = os.environ.get(ENV_VARIABLE, "").strip()
    if chosen:
        return Owner(normalize(chosen), f"${ENV_VARIABLE}")
    path = work_dir() / REMEMBERED_FILE
    if path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return Owner(normalize(kept), f"{path}, remembered by notebook 00")
    studio = from_studio(studio_metadata())
    if studio:
        return Owner(normalize(studio[0]), studio[1])
    try:
        arn = aws.client("sts").get_caller_identity()["Arn"]
    except aws.ERRORS:
        arn = None
    if arn:
        name = from_identity(arn)
        if not is_generic(name):
            return Owner(normalize(name), f"AWS identity {arn}")
        raise OwnerUnknownError(
            f"Cannot tell your endpoints from other learners': your AWS identity ({arn}) is shared, so {INSTRUCTION}.")
    raise OwnerUnknownError(f"Cannot tell who you are (no AWS identity, not in SageMaker Studio), so {INSTRUCTION}.")


def default_owner() -> str:
    return resolve().name


def remember(found: Owner) -> Owner:
    """Keep an owner chosen with the variable in the work folder, for the notebooks' other kernels."""
    if found.source == f"${ENV_VARIABLE}":
        path = work_dir() / REMEMBERED_FILE
        if not path.is_file() or path.read_text(encoding="utf-8").strip() != found.name:
            atomic_write_text(path, found.name + "\n")
    return found
