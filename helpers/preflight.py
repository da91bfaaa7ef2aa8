"""Notebook 00's checks: each one passes, or says in one line what to do."""

from __future__ import annotations

import importlib.metadata as metadata
import sys
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from .core import aws
from .core.errors import DermAssistError

SUPPORTED_SDK_MAJOR = 3
DISTRIBUTION = "derm-assist-workshop"
# Shown even when fine (the rest only when something is wrong): canonical name -> how it is spelled.
CHECKED = {"sagemaker": "sagemaker", "boto3": "boto3", "numpy": "numpy", "pillow": "Pillow", "pandas": "pandas",
           "matplotlib": "matplotlib", "ipywidgets": "ipywidgets"}
INSTALL = "In a terminal, in the repository folder, run `pip install --user --no-deps -e .`"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    remedy: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.name}: {self.detail}" + ("" if self.ok else f" → {self.remedy}")


def requirements() -> tuple[str, dict[str, str]]:
    """What the installed pack declares: its ``Requires-Python`` and each runtime dependency's version range.

    One owner for these facts: pyproject.toml (read back from the install's metadata, else from the file).
    """
    try:
        meta = metadata.metadata(DISTRIBUTION)
        python, requires = meta.get("Requires-Python") or "", metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        import tomllib

        from .core.config import REPO_ROOT

        project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        python, requires = project["requires-python"], project["dependencies"]
    ranges = {}
    for text in requires:
        req = Requirement(text)
        if req.marker is None:  # extras carry a marker
            ranges[canonicalize_name(req.name)] = ",".join(sorted(map(str, req.specifier), key=lambda s: (not s.startswith(">"), s)))
    return python, ranges


def check_python(version: tuple[int, int, int] | None = None) -> Check:
    version = version or tuple(sys.version_info[:3])
    shown = ".".join(map(str, version))
    wanted = requirements()[0]
    ok = SpecifierSet(wanted).contains(shown)
    return Check("Python", ok, shown if ok else f"{shown} (the pack needs {wanted})",
                 f"Use a Python {wanted.lstrip('>=~')}+ kernel (Studio: 'Python 3 (ipykernel)' on SageMaker Distribution 4.x).")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_packages() -> list[Check]:
    """Every runtime dependency inside the range pyproject.toml declares (Studio's image has them all; the pack is
    installed there with ``--no-deps`` so that nothing the image ships changes). One line per problem."""
    ranges = requirements()[1]
    checks = []
    for key, wanted in ranges.items():
        installed = _version(key)
        name = CHECKED.get(key, key)
        spec = f'"{name}{wanted}"'
        if installed is None:
            checks.append(Check(name, False, "not installed", f"In a terminal run `pip install --user {spec}`, then restart the kernel."))
        elif wanted and not SpecifierSet(wanted).contains(installed, prereleases=True):
            checks.append(Check(name, False, f"{installed} (the pack needs {wanted})",
                                f"In a terminal run `pip install --user {spec}`, then restart the kernel."))
        elif key in CHECKED:
            checks.append(Check(name, True, installed))
    return checks


def check_sdk(installed: str | None = None) -> Check:
    installed = installed if installed is not None else _version("sagemaker")
    if installed is None:
        return Check("SageMaker SDK", False, "not installed", f"{INSTALL}, then restart the kernel.")
    major = int(installed.split(".")[0])
    if major != SUPPORTED_SDK_MAJOR:
        return Check(
            "SageMaker SDK", False, f"{installed} (major {major})",
            f"The pack needs SDK v{SUPPORTED_SDK_MAJOR}: {INSTALL} (it asks for sagemaker 3.x), then restart the kernel.",
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
        found = owner.remember(owner.resolve())
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
