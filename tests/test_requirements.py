"""What the pack asks pip for: ranges SageMaker Studio already satisfies, exact pins only in the constraints file,
a truthful requires-python that notebook 00 checks, and a README that quotes the versions really used."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from helpers import preflight
from helpers.core.config import PACKAGE_DIR, REPO_ROOT

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DEPENDENCIES = [Requirement(r) for r in PROJECT["dependencies"]]
EXTRAS = {name: [Requirement(r) for r in reqs] for name, reqs in PROJECT["optional-dependencies"].items()}
# Declared but never imported, each for a reason.
NOT_IMPORTED = {"ipykernel": "the kernel the notebooks run in"}
IMPORT_NAMES = {"pillow": "PIL", "pyyaml": "yaml"}


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==", 1)
            found[canonicalize_name(name)] = version.strip()
    return found


STUDIO = pins(REPO_ROOT / "requirements" / "studio.txt")
CONSTRAINTS = pins(REPO_ROOT / "requirements" / "constraints.txt")


def test_pyproject_has_ranges_and_no_exact_pins():
    for req in DEPENDENCIES + [r for reqs in EXTRAS.values() for r in reqs]:
        assert not any(s.operator in ("==", "===") for s in req.specifier), f"{req}: exact pins belong in requirements/constraints.txt"


@pytest.mark.parametrize("req", DEPENDENCIES, ids=str)
def test_studio_already_satisfies_every_dependency(req):
    """`pip install -e .` in Studio must neither downgrade nor upgrade what the image ships."""
    shipped = STUDIO.get(canonicalize_name(req.name))
    assert shipped, f"{req.name} is not in requirements/studio.txt (does Studio ship it?)"
    assert req.specifier.contains(shipped, prereleases=True), f"Studio ships {req.name} {shipped}, outside {req.specifier}"


@pytest.mark.parametrize("req", DEPENDENCIES + [r for reqs in EXTRAS.values() for r in reqs], ids=str)
def test_constraints_pin_a_version_inside_every_range(req):
    pinned = CONSTRAINTS.get(canonicalize_name(req.name))
    assert pinned, f"{req.name} has no exact version in requirements/constraints.txt (make lock)"
    assert req.specifier.contains(pinned, prereleases=True), f"constraints pin {req.name}=={pinned}, outside {req.specifier}"


def test_every_dependency_is_imported_by_the_pack():
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE_DIR.rglob("*.py"))
    for req in DEPENDENCIES:
        name = canonicalize_name(req.name)
        if name in NOT_IMPORTED:
            continue
        module = IMPORT_NAMES.get(name, name.replace("-", "_"))
        assert re.search(rf"^\s*(import|from) {module}\b", source, re.MULTILINE), f"{req.name} is declared but helpers/ never imports it"


def test_studio_file_names_its_image_and_source():
    header = (REPO_ROOT / "requirements" / "studio.txt").read_text(encoding="utf-8").split("\n", 4)
    assert re.search(r"SageMaker Distribution \d+\.\d+\.\d+ \(CPU\).*Python 3\.12", header[0])
    assert re.search(r"aws/sagemaker-distribution, build_artifacts/v4/.*/cpu\.env\.out at [0-9a-f]{40}", header[2])


def test_requires_python_is_true_and_notebook_00_checks_it():
    wanted = SpecifierSet(PROJECT["requires-python"])
    assert not wanted.contains("3.10.14"), "helpers use datetime.UTC and the pins (numpy 2.4, pandas 3.1) need 3.11"
    assert wanted.contains("3.11.7") and wanted.contains("3.12.13")  # this machine's 3.11; Studio's 3.12
    assert preflight.requirements()[0] == PROJECT["requires-python"]
    assert preflight.check_python((3, 12, 13)).ok
    old = preflight.check_python((3, 10, 14))
    assert not old.ok and ">=3.11" in old.line()


def test_notebook_00_flags_a_package_outside_the_range(monkeypatch):
    installed = preflight._version
    monkeypatch.setattr(preflight, "_version", lambda package: "1.25.2" if package == "numpy" else installed(package))
    lines = {c.name: c for c in preflight.check_packages()}
    assert not lines["numpy"].ok and "needs >=1.26" in lines["numpy"].detail
    assert lines["numpy"].remedy == 'In a terminal run `pip install --user "numpy>=1.26,<3"`, then restart the kernel.'
    assert all(c.ok for name, c in lines.items() if name != "numpy")


def test_readme_quotes_the_versions_really_used():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = " ".join(readme.split("## Versions", 1)[1].split("\n## ", 1)[0].split())
    studio = re.search(r"Studio's image \(SageMaker Distribution ([\d.]+)\) ships (.*?)\. All fit", section)
    pinned = re.search(r"`make` and CI install .*?\((.*?)\)", section)
    assert studio and pinned, "the Versions section names Studio's versions and the constrained ones"
    assert studio.group(1) in (REPO_ROOT / "requirements" / "studio.txt").read_text().split("\n", 1)[0]
    for quoted, source in ((studio.group(2), STUDIO), (pinned.group(1), CONSTRAINTS)):
        named = dict(re.findall(r"([A-Za-z][\w.-]*(?: Python SDK)?) \**(\d[\w.]*)\**", quoted))
        named = {("sagemaker" if k == "SageMaker Python SDK" else canonicalize_name(k)): v for k, v in named.items()}
        assert {"sagemaker", "boto3"} <= set(named), quoted
        for name, version in named.items():
            assert source.get(name) == version, f"README quotes {name} {version}; the file says {source.get(name)}"
