#!/usr/bin/env python3
"""Write ``requirements/studio.txt``: the versions SageMaker Studio's image ships of every package the pack's
Studio install and its tests pull in (a maintainer step, when a new SageMaker Distribution image comes out).

The source is the image's resolved conda environment in aws/sagemaker-distribution,
``build_artifacts/v<major>/v<major>.<minor>/v<version>/cpu.env.out`` (one conda package URL a line). The set of
packages is what ``pip install -e '.[STUDIO_EXTRAS]'`` resolved to in this checkout's ``.venv`` (walked from the
pack's installed metadata), restricted to those the image ships. Usage, from the repository root::

    git clone https://github.com/aws/sagemaker-distribution /tmp/smd
    .venv/bin/python scripts/studio_versions.py /tmp/smd/build_artifacts/v4/v4.4/v4.4.1/cpu.env.out --commit <sha>

``make studio-check`` then installs these versions on Python 3.12, the pack over them, and runs the tests there.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "requirements" / "studio.txt"
DISTRIBUTION = "derm-assist-workshop"
STUDIO_EXTRAS = ("mock", "dev", "evaluation")  # what make studio-check installs: the mock, the test tools, notebook 07
# conda-forge names that differ from the PyPI name.
CONDA_NAMES = {"sagemaker": "sagemaker-python-sdk", "matplotlib": "matplotlib-base", "fastjsonschema": "python-fastjsonschema",
               "tzdata": "python-tzdata", "msgpack": "msgpack-python", "torch": "pytorch", "docker": "docker-py",
               "antlr4-python3-runtime": "antlr-python-runtime"}
# Conda packages that are not the Python package of the same name on PyPI.
NOT_PYPI = {"python", "pip", "setuptools", "wheel"}
# Shipped by Studio and required by sagemaker-serve (model serving the pack never does), but gigabytes on PyPI
# (torch's Linux wheels pull CUDA): left out of the check's venv; pip check lists them as the image's baseline.
OMITTED = {"torch", "onnx", "onnxruntime", "tritonclient"}


def conda_versions(env_file: Path) -> dict[str, str]:
    """``name -> version`` from a conda explicit file (``.../name-version-build.conda#md5``)."""
    versions = {}
    for line in env_file.read_text(encoding="utf-8").splitlines():
        if not line.startswith("http"):
            continue
        file = line.split("#")[0].rsplit("/", 1)[-1]
        stem = re.sub(r"\.(conda|tar\.bz2)$", "", file)
        name, version, _build = stem.rsplit("-", 2)
        versions[canonicalize_name(name)] = version
    return versions


def pack_closure(extras: tuple[str, ...], studio_site: Path | None = None) -> dict[str, str]:
    """Every distribution the pack (with ``extras``) needs: ``canonical name -> project name``.

    Requirements are read from the distributions installed in ``studio_site`` (a venv holding Studio's versions,
    whose dependencies can differ from the newest releases'), else from this interpreter's.
    """
    studio_dists = {}
    if studio_site:
        studio_dists = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions(path=[str(studio_site)])}

    def find(name: str):
        key = canonicalize_name(name)
        if key in studio_dists:
            return studio_dists[key]
        try:
            return metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None

    seen: dict[str, str] = {}
    todo = [(DISTRIBUTION, frozenset(extras))]
    done: set[tuple[str, frozenset]] = set()
    while todo:
        name, wanted = todo.pop()
        key = canonicalize_name(name)
        if (key, wanted) in done:
            continue
        done.add((key, wanted))
        seen[key] = name
        dist = find(name)
        if dist is None or key in OMITTED:
            continue
        seen[key] = dist.metadata["Name"]
        for text in dist.requires or []:
            req = Requirement(text)
            env = {"python_version": "3.12", "python_full_version": "3.12.13"}  # Studio's Python
            if req.marker and not any(req.marker.evaluate({**env, "extra": e}) for e in (wanted or {""})):
                continue
            todo.append((req.name, frozenset(req.extras)))
    seen.pop(canonicalize_name(DISTRIBUTION), None)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("env_file", type=Path, help="cpu.env.out of a SageMaker Distribution image")
    parser.add_argument("--commit", default="", help="the aws/sagemaker-distribution commit it was read at")
    parser.add_argument("--studio-site", type=Path, help="site-packages of a venv with Studio's versions installed "
                        "(pip install --no-deps -r requirements/studio.txt): their own dependencies are followed; "
                        "repeat until the file stops changing")
    args = parser.parse_args(argv)
    studio = conda_versions(args.env_file)
    parts = args.env_file.resolve().parts
    image = next((p[1:] for p in reversed(parts) if re.fullmatch(r"v\d+\.\d+\.\d+", p)), "?")
    python = studio.get("python", "?")
    lines = [
        f"# SageMaker Distribution {image} (CPU), the image SageMaker Studio's JupyterLab runs: Python {python}.",
        "# The versions it ships of every package the pack and its tests (extras: " + ", ".join(STUDIO_EXTRAS) + ") pull in.",
        "# Source: github.com/aws/sagemaker-distribution, "
        + "/".join(parts[parts.index("build_artifacts"):] if "build_artifacts" in parts else [args.env_file.name])
        + (f" at {args.commit}" if args.commit else "") + ".",
        "# Left out: " + ", ".join(sorted(OMITTED)) + " (sagemaker-serve's model serving; gigabytes on PyPI). "
        "Written by scripts/studio_versions.py; used by make studio-check.",
    ]
    missing = []
    for key, project in sorted(pack_closure(STUDIO_EXTRAS, args.studio_site).items()):
        conda = canonicalize_name(CONDA_NAMES.get(key, key))
        if conda in NOT_PYPI or key in OMITTED:
            continue
        if conda in studio:
            lines.append(f"{project}=={studio[conda]}")
        else:
            missing.append(project)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"Wrote {OUT.relative_to(REPO_ROOT)}: {len(lines) - 4} packages; not in the image (installed by the pack): "
          + ", ".join(sorted(missing)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
