"""House rules that must be enforced, not hoped for."""

import json

import pytest

from helpers.coach.runner import notebooks

NOTEBOOKS = notebooks()


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS][:4] == ["00", "01", "02", "03"]
    assert NOTEBOOKS[-1].name.startswith("99_"), "cleanup is numbered last"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean_with_a_parameters_cell(path):
    nb = json.loads(path.read_text())
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code_cells), "strip outputs (make strip)"
    tagged = [c for c in code_cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters' for papermill"
    assert "WORK_DIR" in "".join(tagged[0]["source"]) and "INTERACTIVE" in "".join(tagged[0]["source"])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_stay_short(path):
    """Notebooks tell the story; plumbing belongs in helpers/."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            lines = [l for l in "".join(cell["source"]).splitlines() if l.strip() and not l.strip().startswith("#")]
            assert len(lines) <= 15, f"a {len(lines)}-line cell in {path.name}: move the plumbing into helpers/"


def test_package_docstring_and_readme_layout_name_every_module():
    import re

    import helpers
    from helpers.core.config import PACKAGE_DIR, REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):].split("```")[1]
    for path in sorted(PACKAGE_DIR.glob("*.py")) + sorted(PACKAGE_DIR.glob("*/*.py")):
        if path.name == "__init__.py":
            continue
        folder = path.parent.name
        if folder in ("worksheets", "curveball"):  # their own __init__ lists their modules
            name = f"{folder}/"
        else:
            name = path.stem
        for where, text in (("helpers/__init__.py", helpers.__doc__), ("README's Layout", layout)):
            assert re.search(rf"\b{re.escape(name)}", text), f"{where} does not mention {name} ({path.relative_to(REPO_ROOT)})"
