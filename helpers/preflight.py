"""Notebook 00's checks: each one passes, or says in one line what to do."""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from dataclasses import dataclass

from .core import aws
from .core.errors import DermAssistError

SUPPORTED_SDK_MAJOR = 3
PINNED = ("sagemaker", "boto3", "Pillow", "pandas", "matplotlib", "ipywidgets")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    remedy: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.name}: {self.detail}" + ("" if self.ok else f" → {self.remedy}")


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    ok = sys.version_info >= (3, 10)
    return Check("Python", ok, version, "Use a Python 3.10+ kernel (Studio: 'Python 3 (ipykernel)' on a recent image).")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def pinned_versions() -> dict[str, str]:
    """What pyproject.toml pins for the pack's runtime dependencies."""
    try:
        requirements = metadata.requires("derm-assist-workshop") or []
    except metadata.PackageNotFoundError:
        return {}
    pins = {}
    for req in requirements:
        if ";" in req:
            continue  # extras
        if "==" in req:
            name, version = req.split("==", 1)
            pins[name.strip().split("[")[0].lower()] = version.strip()
    return pins


def check_packages() -> list[Check]:
    pins = pinned_versions()
    checks = []
    for package in PINNED:
        installed = _version(package)
        wanted = pins.get(package.lower())
        if installed is None:
            checks.append(Check(package, False, "not installed", "Run `pip install -e .` in the repository folder, then restart the kernel."))
        elif wanted and installed != wanted:
            checks.append(Check(package, True, f"{installed} (pack tested with {wanted}; probably fine)"))
        else:
            checks.append(Check(package, True, installed))
    return checks


def check_sdk(installed: str | None = None) -> Check:
    installed = installed if installed is not None else _version("sagemaker")
    if installed is None:
        return Check("SageMaker SDK", False, "not installed", "Run `pip install -e .` in the repository folder, then restart the kernel.")
    major = int(installed.split(".")[0])
    if major != SUPPORTED_SDK_MAJOR:
        return Check(
            "SageMaker SDK", False, f"{installed} (major {major})",
            f"The pack needs SDK v{SUPPORTED_SDK_MAJOR}: run `pip install -e .` (it pins sagemaker 3.x) and restart the kernel.",
        )
    return Check("SageMaker SDK", True, f"{installed} (v{SUPPORTED_SDK_MAJOR}, supported)")


def check_identity() -> tuple[Check, str | None]:
    try:
        arn = aws.client("sts").get_caller_identity()["Arn"]
    except aws.ERRORS as exc:
        from .core.errors import explain_aws_error

        return Check("AWS identity", False, "unknown", str(explain_aws_error(exc, action="Checking who you are"))), None
    return Check("AWS identity", True, f"{arn} in {aws.region()}"), arn


def check_role(role_arn: str | None = None) -> Check:
    from .endpoint import execution_role

    try:
        return Check("Execution role", True, execution_role(role_arn))
    except DermAssistError as exc:
        return Check("Execution role", False, "not found", str(exc))


def check_owner() -> Check:
    """Whose endpoints these will be: a name of the learner's own, never one the whole class shares."""
    from .core import owner

    try:
        found = owner.resolve()
    except DermAssistError as exc:
        return Check("Owner", False, "shared identity", str(exc))
    return Check("Owner", True, f"{found.name} (from {found.source}); your endpoints are named derm-assist-{owner.short(found.name, 16)}-…")


def check_endpoints() -> Check:
    from .cleanup import endpoint_report
    from .endpoint import all_endpoint_names

    try:
        names = all_endpoint_names()
        report = endpoint_report(mine=True)
    except DermAssistError as exc:
        return Check("Endpoints", False, "cannot list", str(exc))
    if not names:
        return Check("Endpoints", True, "none running in this account/region")
    yours = ", ".join(e.name for e in report.endpoints) if report.owner else ""
    detail = f"{len(names)} running in this account ({len(report.endpoints) + report.others} from this pack"
    detail += f", {len(report.endpoints)} yours{': ' + yours if yours else ''})" if report.owner else ")"
    return Check("Endpoints", True, detail + " — each costs money while it runs; the cleanup notebook removes yours")


def run_all(role_arn: str | None = None) -> list[Check]:
    checks = [check_python(), *check_packages(), check_sdk()]
    identity, arn = check_identity()
    checks.append(identity)
    if arn is not None:
        checks += [check_owner(), check_role(role_arn), check_endpoints()]
    return checks
