"""The install routes the README gives, checked against the files they rely on: the conda environment ends with
a kernel JupyterLab lists, and `make setup` leaves `git status` clean (the nbstripout filter keeps committed
notebooks byte for byte)."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from helpers.coach.runner import notebooks
from helpers.core.config import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_conda_route_registers_a_kernel_for_its_environment():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "ipykernel" in env["dependencies"], "the environment needs ipykernel to be a kernel"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.12", "Studio's Python"
    name = env["name"]
    register = re.search(rf"conda run -n {name} python -m ipykernel install --user --name {name} --display-name \"([^\"]+)\"", README)
    assert register, "README's conda route must register the environment's kernel"
    assert f"**{register.group(1)}**" in README, "README names the kernel to pick"
    assert register.group(0) in (REPO_ROOT / "environment.yml").read_text(encoding="utf-8")


def test_studio_learners_install_into_their_home_folder_without_touching_studio():
    studio = README.split("## For learners: SageMaker Studio", 1)[1].split("\n## ", 1)[0]
    assert "pip install --user --no-deps -e ." in studio
    nb00 = (REPO_ROOT / "notebooks" / "00_preflight.ipynb").read_text(encoding="utf-8")
    assert "pip install --user --no-deps -e ~/derm-assist" in nb00 and "pip install --user --no-deps -e ~/derm-assist" in studio


def test_make_setup_leaves_git_status_clean(tmp_path):
    """`make setup` installs nbstripout as the git filter for *.ipynb (and an editable install). A notebook the
    filter would rewrite (cell ids, metadata, outputs) shows as modified in `git status` on a fresh clone, so the
    filter is run here exactly as git runs it, on copies of every committed notebook."""
    attributes = (REPO_ROOT / ".gitattributes").read_text(encoding="utf-8")
    assert re.search(r"^\*\.ipynb filter=nbstripout$", attributes, re.MULTILINE)
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "nbstripout --install" in makefile and "--keep-id" not in makefile, "the filter renumbers cell ids, as committed"
    copies = []
    for path in notebooks():
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    subprocess.run([sys.executable, "-m", "nbstripout", *map(str, copies)], check=True)
    rewritten = [p.name for p in copies if p.read_bytes() != (REPO_ROOT / "notebooks" / p.name).read_bytes()]
    assert not rewritten, f"the nbstripout filter rewrites {rewritten}: run `make strip` and commit the result"
    ignored = (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {".venv/", "*.egg-info/", "build/", "work/"} <= set(ignored), "what make setup and the notebooks write is ignored"
