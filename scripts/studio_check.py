#!/usr/bin/env python3
"""`make studio-check`: the pack installed over SageMaker Studio's own package versions, and its tests run there.

1. a fresh venv on Python 3.12 (Studio's image runs 3.12) with exactly the versions Studio ships
   (``requirements/studio.txt``, from the SageMaker Distribution image's environment file);
2. the learner's command from the README (``pip install --no-deps -e .``: Studio already has every dependency
   in range), then the mock and the test tools held to Studio's versions: after each, every package Studio
   ships must still be at Studio's version (``pip freeze`` before and after), and ``pip check`` must find
   nothing the image did not already have (the pack's own ranges included);
3. the unit tests and the notebook tests in that venv (one pytest command line, see ``PYTEST_ARGS``).

Usage: ``python3.12 scripts/studio_check.py [--venv build/studio-venv] [-- extra pytest args]``.
Prints the time of each step. Exit code 0 when everything holds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STUDIO = REPO_ROOT / "requirements" / "studio.txt"
EXTRAS = "mock,offline,dev,evaluation"  # the mock (its live CNN on ONNX Runtime too) and the test tools; notebook 07's scikit-learn (Studio ships it)
# Studio packages the test tools (never installed for learners) cannot work with, and why: these may move in the
# test-tools step, and the check says to what. Everything else Studio ships stays put.
TEST_TOOLS_MOVE = {
    "jsonschema": "moto[server] needs openapi-spec-validator, whose releases that accept Studio's jsonschema-path 0.5 need jsonschema>=4.24 (Studio: 4.23)",
}
# `make test`'s unit and notebook run and its reference test (`make reference-test`, the real toolkit in
# .venv-reference, which `make test` built), in one run; the browser tests are a run of their own (make browser).
# Tests of optional extras Studio does not ship (the web app and the Space: Gradio, transformers; the ONNX export:
# torch) skip themselves with their reason. The offline extra is installed: the differential test against the real
# toolkit needs the mock's live CNN, and it is small (ONNX Runtime). Workers and options as in `make test-core` (TEST_WORKERS).
PYTEST_ARGS = [
    "tests", "--ignore", "tests/browser", "-m", "not browser", "-p", "no:cacheprovider", "-p", "no:nbval", "-q",
    "-n", os.environ.get("TEST_WORKERS", "4"), "--dist", "loadfile", "--no-loadscope-reorder",
    # moto's own Step Functions parser needs antlr4 4.13; Studio ships 4.9.3, which omegaconf (sagemaker-core's) pins
    # to 4.9.*. The pack never parses ASL itself: this test asks moto's parser to validate the pack's definition.
    "--deselect", "tests/workflow/test_workflow.py::test_the_definition_is_valid_asl_with_every_name_filled_in",
]


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def freeze(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True).stdout
    pins = {}
    for line in out.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canon(name)] = version
    return pins


def extra_requirements() -> list[str]:
    """The requirements of the extras the tests need, as pyproject.toml declares them (ranges)."""
    import tomllib

    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    return [req for name in EXTRAS.split(",") for req in extras[name]]


def pip_check(python: Path) -> set[str]:
    """What ``pip check`` reports (one line per broken requirement); the image's own lines are its baseline."""
    out = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip() and not line.startswith("No broken requirements")}


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def same(a: str | None, b: str | None) -> bool:
    """Equal versions, however written (conda's ``0.14`` is pip's ``0.14.0``)."""
    def release(v: str) -> str:
        return re.sub(r"(\.0+)+$", "", v)

    return a is not None and b is not None and release(a) == release(b)


def studio_pins() -> dict[str, str]:
    pins = {}
    for line in STUDIO.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canon(name)] = version
    return pins


def changed(before: dict[str, str], after: dict[str, str], shipped: dict[str, str]) -> list[str]:
    """Packages Studio ships whose version is not what it was (or not Studio's)."""
    return [f"{name} {before.get(name, shipped[name])} -> {after.get(name, 'removed')}"
            for name in sorted(shipped) if after.get(name) != before.get(name) or not same(after.get(name), shipped[name])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=REPO_ROOT / "build" / "studio-venv")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if sys.version_info[:2] != (3, 12):
        print(f"Run this with Python 3.12, Studio's version (this is {sys.version.split()[0]}).", file=sys.stderr)
        return 2
    timings: list[tuple[str, float]] = []
    started = time.perf_counter()

    def step(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings.append((name, now - started))
        started = now

    shutil.rmtree(args.venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", args.venv])
    python = args.venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet"]
    # Exactly Studio's versions, as its conda environment resolved them: pip's resolver would refuse some of them
    # (conda-forge's builds declare other dependencies than PyPI's metadata, e.g. cryptography 46 -> cffi>=2 on
    # PyPI, while the image ships cffi 1.17), so they go in without it, as Studio has them.
    run([*pip, "--no-deps", "-r", STUDIO])
    step("Studio's versions installed")
    studio_check = pip_check(python)
    shipped = studio_pins()
    before = freeze(python)
    wrong = [f"{n} {before.get(n)} (Studio: {v})" for n, v in shipped.items() if not same(before.get(n), v)]
    if wrong:
        print("Studio's versions did not install as listed: " + ", ".join(wrong), file=sys.stderr)
        return 1
    problems = []
    run([*pip, "--no-deps", "-e", REPO_ROOT])  # the README's command for a learner in Studio
    problems += [f"the pack's install changed {c}" for c in changed(before, freeze(python), shipped)]
    step("the pack installed (pip install --no-deps -e .)")
    # The test tools (moto, nbval, nbstripout), held to Studio's versions, except where pip already finds the image
    # inconsistent (conda-forge's metadata differs from PyPI's: e.g. cryptography -> cffi): pip mends those.
    mended = {canon(m) for line in studio_check for m in re.findall(r"but you have (\S+) ", line)} | set(TEST_TOOLS_MOVE)
    held = args.venv / "studio-held.txt"
    held.write_text("".join(f"{n}=={v}\n" for n, v in shipped.items() if n not in mended), encoding="utf-8")
    run([*pip, "-c", held, *extra_requirements()])
    after = freeze(python)
    problems += [f"the test tools changed {c}" for c in changed(before, after, {n: v for n, v in shipped.items() if n not in mended})]
    mended_lines = [f"{n} {shipped[n]} -> {after.get(n)}" for n in sorted(mended) if n in shipped and not same(after.get(n), shipped[n])]
    step(f"the test tools installed ({EXTRAS})")
    new_conflicts = pip_check(python) - studio_check
    if new_conflicts:
        problems.append("pip check: " + " | ".join(sorted(new_conflicts)))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"The pack's install changed nothing Studio ships ({len(shipped)} packages checked); pip check finds nothing new.")
    if mended_lines:
        print("For the test tools only (not the learner's install), moved: " + ", ".join(mended_lines)
              + ". Why: pip already found the image inconsistent there, or " + "; ".join(TEST_TOOLS_MOVE.values()))
    print("The image's own pip check (the baseline): " + "; ".join(sorted(studio_check)), flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DERM_ASSIST_"))}
    env["MPLBACKEND"] = "Agg"
    tests = subprocess.run([str(python), "-m", "pytest", *PYTEST_ARGS, *args.pytest_args], cwd=REPO_ROOT, env=env)
    step("tests on Studio's versions")
    for name, seconds in timings:
        print(f"studio-check: {name}: {seconds:.0f} s")
    print(f"studio-check: total {sum(s for _, s in timings):.0f} s")
    return tests.returncode


if __name__ == "__main__":
    sys.exit(main())
