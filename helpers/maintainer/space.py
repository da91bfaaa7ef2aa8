"""Build the folder to upload as a Hugging Face Space: ``python -m helpers.maintainer.space --out build/space``.

A Space has no copy of the pack, so the folder carries one: ``space/`` (app.py, README.md with the Spaces
header, requirements.txt) + the part of ``helpers`` the page imports (top-level modules, ``core/``, ``data/``;
not the mock, the coach tools or the worksheets) + the synthetic skin proxies as examples. The page, the triage
rule and the disclaimer are therefore the package's own, never a second copy kept by hand.

``space/requirements.txt`` is written from ``requirements/constraints.txt`` by :func:`requirements_text` (a test
checks it is current); Gradio is not listed because a Space installs the ``sdk_version`` its README names.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from ..core.config import REPO_ROOT, SKIN_PROXIES_DIR

SPACE_DIR = REPO_ROOT / "space"
CONSTRAINTS = REPO_ROOT / "requirements" / "constraints.txt"
PACKAGE = REPO_ROOT / "helpers"
# What the page imports at run time, besides Gradio (provided by the Space's SDK).
RUNTIME = ("transformers", "torch", "Pillow", "numpy", "pandas", "boto3", "botocore", "filelock", "tqdm")
VENDORED = ("core", "data")  # sub-folders of helpers/ the page needs; the others stay out of the Space
SPACE_FILES = ("app.py", "README.md", "requirements.txt")


def pins(path: Path = CONSTRAINTS) -> dict[str, str]:
    """``{normalised name: "name==version"}`` from a constraints file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            found[_normal(name)] = f"{name}=={version}"
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements_text(constraints: Path = CONSTRAINTS) -> str:
    known = pins(constraints)
    torch_pin = re.search(r'"(torch==[^"]+)"', (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    if torch_pin:
        known.setdefault("torch", torch_pin.group(1))  # torch is pinned in pyproject.toml (the CPU build)
    missing = [name for name in RUNTIME if _normal(name) not in known]
    if missing:
        raise SystemExit(f"No exact pin for {', '.join(missing)} in {constraints}: run make lock.")
    lines = ["# Written by `python -m helpers.maintainer.space` from requirements/constraints.txt: do not edit by hand.",
             "# Gradio is not listed: the Space installs the sdk_version named in README.md."]
    return "\n".join(lines + [known[_normal(name)] for name in RUNTIME]) + "\n"


def gradio_pin(constraints: Path = CONSTRAINTS) -> str:
    return pins(constraints)["gradio"].partition("==")[2]


def assemble(out: Path) -> Path:
    """Write the upload-ready Space folder to ``out`` (replacing what was there)."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in SPACE_FILES:
        shutil.copy2(SPACE_DIR / name, out / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    (out / "helpers").mkdir()
    for module in PACKAGE.glob("*.py"):
        shutil.copy2(module, out / "helpers" / module.name)
    for folder in VENDORED:
        shutil.copytree(PACKAGE / folder, out / "helpers" / folder, ignore=ignore)
    (out / "examples").mkdir()
    for image in sorted(SKIN_PROXIES_DIR.glob("*.png")):
        shutil.copy2(image, out / "examples" / image.name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "build" / "space"), help="folder to write (default build/space)")
    parser.add_argument("--requirements", action="store_true", help="rewrite space/requirements.txt from the constraints")
    args = parser.parse_args(argv)
    if args.requirements:
        (SPACE_DIR / "requirements.txt").write_text(requirements_text(), encoding="utf-8")
    out = assemble(Path(args.out))
    print(f"Space folder ready in {out}: upload its contents to your Space (public images only).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
