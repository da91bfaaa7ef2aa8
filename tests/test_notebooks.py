"""Execute every notebook with papermill against the mock and check what they show, not just that they ran.

Each notebook is executed once, into build/test-notebooks/, on a bad day on AWS: the mock throttles 20 % of the
calls and answers 5 % of the invocations with a model error (``mock_settings.BAD_DAY``), as
``derm-assist run --faults ...`` rehearses it. Every code cell of every execution is then checked as nbval would
check it: it ran, without an error, and a cell marked ``# NBVAL_CHECK_OUTPUT`` shows exactly the facts in
tests/notebook_facts.json, the facts of a good day. So one execution shows both that the notebooks tell the story
and that the retries hide a bad day from the learner. (A good day, no faults at all, is what the browser tests run
in JupyterLab and what `make workshop` runs. `make nbval` re-executes the executed notebooks with nbval, to compare
a second run with the first; `make test` does not pay for that second run.)
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from fake_credentials import SECRETS, leaks
from mock_settings import BAD_DAY, TEST_TIME_SCALE

from helpers.coach import runner
from helpers.core.config import MOCK_TIME_SCALE_ENV, REPO_ROOT
from helpers.mock import MOCK_REGION, MockServer, environment_for

OUT = REPO_ROOT / "build" / "test-notebooks"
FACTS = Path(__file__).with_name("notebook_facts.json")  # what each NBVAL_CHECK_OUTPUT cell must show
# After a change that is meant to change what a checked cell shows (new recordings, a new image), run
#   UPDATE_NOTEBOOK_FACTS=1 .venv/bin/python -m pytest tests/test_notebooks.py
# to write what this run showed into notebook_facts.json, then review the diff before committing it.
UPDATE_FACTS = "UPDATE_NOTEBOOK_FACTS"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
INJECTED = "injected-parameters"  # the cell papermill adds after the one tagged `parameters`



@pytest.fixture(scope="module")
def executed():
    # `make test` keeps this file on one pytest-xdist worker (--dist loadfile); should another distribution mode
    # send its tests to two workers, the lock runs the two executions into OUT one after the other, never mixed.
    from filelock import FileLock

    OUT.mkdir(parents=True, exist_ok=True)
    with FileLock(str(OUT.parent / "test-notebooks.lock")), pytest.MonkeyPatch.context() as env:
        env.setenv(MOCK_TIME_SCALE_ENV, str(TEST_TIME_SCALE))  # deploys ready 10x sooner; the notebooks' waits poll as often
        # Secret-looking credentials instead of the mock's placeholders: no notebook and no report may show them.
        env.setattr(MockServer, "environment", lambda self, region=MOCK_REGION: {**environment_for(self.url, region), **SECRETS})
        runs = runner.run_all(OUT, report=True, faults=BAD_DAY)
    return {r.output.name: r for r in runs}


def planned_cells() -> list[tuple[str, str, str]]:
    """(executed notebook, cell id, fact key or "") for every code cell papermill executes, in order.

    The fact key of a checked cell is ``<source notebook>#<n>``: the n-th checked cell of that notebook, so
    that inserting other cells does not move it.
    """
    cells = []
    for notebook, output_name, _ in runner.plan(runner.notebooks()):
        checked = 0
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            key = ""
            if CHECK_MARK in "".join(cell["source"]):
                checked += 1
                key = f"{notebook.name}#{checked}"
            cells.append((output_name, cell["id"], key))
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cells.append((output_name, INJECTED, ""))
    return cells


@functools.cache
def executed_cells(name: str) -> dict[str, dict]:
    cells = json.loads((OUT / name).read_text(encoding="utf-8"))["cells"]
    return {(INJECTED if INJECTED in c.get("metadata", {}).get("tags", []) else c.get("id")): c for c in cells}


def shown(cell: dict) -> str:
    """What a cell printed or returned as text: what nbval compares (images and widgets never are)."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output.get("name") == "stdout":
            parts.append("".join(output["text"]))
        elif output["output_type"] in ("execute_result", "display_data") and "text/plain" in output.get("data", {}):
            parts.append("".join(output["data"]["text/plain"]) + "\n")
    return "".join(parts)


@pytest.mark.parametrize("notebook,cell_id,fact", planned_cells(), ids=lambda v: v or "-")
def test_every_cell_ran_cleanly_and_shows_its_facts(executed, notebook, cell_id, fact):
    assert executed[notebook].ok, executed[notebook].error
    cell = executed_cells(notebook).get(cell_id)
    assert cell is not None, f"cell {cell_id} of {notebook} is missing from the executed notebook"
    assert cell.get("execution_count") is not None, f"cell {cell_id} of {notebook} did not run"
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert errors == [], f"cell {cell_id} of {notebook} failed"
    if fact:
        facts = json.loads(FACTS.read_text(encoding="utf-8"))
        if os.environ.get(UPDATE_FACTS):
            facts[fact] = shown(cell)
            FACTS.write_text(json.dumps(dict(sorted(facts.items())), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        assert fact in facts, f"{FACTS.name} has no entry {fact!r}; this run showed:\n{shown(cell)}"
        assert shown(cell) == facts[fact], (
            f"{notebook} cell {cell_id} ({fact}) shows other facts than {FACTS.name}; if the change is intended, "
            f"re-run with {UPDATE_FACTS}=1 and review the diff")


def text_of(path) -> str:
    nb = json.loads(path.read_text())
    parts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def test_every_notebook_executes(executed):
    failed = {name: r.error for name, r in executed.items() if not r.ok}
    assert not failed
    assert list(executed) == [name for _, name, _ in runner.plan(runner.notebooks())]  # all of them, in teaching order
    assert {"00_preflight.ipynb", "01_deploy_mobilenet.ipynb", "02_fun_images.ipynb", "03_skin_proxies.ipynb",
            "06_production_path.ipynb", "99_cleanup.ipynb"} <= set(executed)


def test_notebook_wall_times_are_reported(executed):
    # Wall time is a benchmark figure (`make benchmark`), not a test: on a loaded machine it says nothing.
    total = sum(r.seconds for r in executed.values())
    print(f"notebooks: {total:.1f} s in total")
    assert all(r.seconds > 0 for r in executed.values())


def test_a_hung_cell_fails_its_notebook_instead_of_blocking_the_run(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                                            "language_info": {"name": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("INTERACTIVE = True", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import time\ntime.sleep(60)")]
    path = tmp_path / "00_hangs.ipynb"
    nbformat.write(nb, path)
    runs = runner.run_all(tmp_path / "out", [path], with_mock=False, report=False, cell_timeout=2)
    assert len(runs) == 1 and not runs[0].ok
    assert runs[0].seconds < 30
    assert "timed out" in runs[0].error.lower() or "timeout" in runs[0].error.lower()


def test_preflight_passes_against_the_mock(executed):
    text = text_of(OUT / "00_preflight.ipynb")
    assert "LOCAL MOCK" in text
    assert "✗" not in text
    assert "SageMaker SDK: 3." in text


def test_preflight_starts_the_deploy_early_with_its_price(executed):
    from helpers.prices import load_prices

    text = text_of(OUT / "00_preflight.ipynb")
    assert "Started MobileNetV2 on 1 x ml.m5.large" in text and "Notebook 01 waits only for what is left" in text
    assert f"ml.m5.large bills about ${load_prices().realtime_hourly('ml.m5.large'):.3f} an hour" in text


def test_deploy_remembers_and_shows_the_x_image_mistake(executed):
    text = text_of(OUT / "01_deploy_mobilenet.ipynb")
    assert "InService" in text and "Remembered in" in text
    assert "Reusing endpoint" in text  # the one notebook 00 started, not a second one
    assert "application/x-image is not supported" in text


def test_the_skin_model_started_in_03_is_what_04_uses(executed):
    assert "Started skin-cancer ViT" in text_of(OUT / "03_skin_proxies.ipynb")
    text = text_of(OUT / "04_derm_assist_mvp.ipynb")
    assert "started ahead of time" in text and "one endpoint bills again, not two" in text


def test_fun_images_are_right_and_confident(executed):
    text = text_of(OUT / "02_fun_images.ipynb")
    assert "dog.jpg: German shepherd" in text
    fun = pd.read_csv(OUT / "work" / "results" / "fun_images_mobilenet.csv")
    assert (fun.top_score >= 0.6).all()
    assert set(fun.stand_in) == {"recording"}


def test_offline_numbers_are_named_as_the_stand_ins_they_are(executed):
    from helpers import models

    for name, model in (("02_fun_images.ipynb", models.MOBILENET_V2), ("03_skin_proxies.ipynb", models.MOBILENET_V2),
                        ("04_derm_assist_mvp.ipynb", models.SKIN_VIT)):
        assert f"[MOCK] Offline stand-ins gave these answers, not {model.name}" in text_of(OUT / name), name
    assert "efficientnet-lite0" in text_of(OUT / "02_fun_images.ipynb")
    assert "simulated skin classifier" in text_of(OUT / "04_derm_assist_mvp.ipynb")


def test_skin_proxies_are_far_less_confident(executed):
    fun = pd.read_csv(OUT / "work" / "results" / "fun_images_mobilenet.csv")
    proxies = pd.read_csv(OUT / "work" / "results" / "skin_proxies_mobilenet.csv", keep_default_na=False)
    assert proxies.top_score.median() < 0.30 and proxies.top_score.max() < 0.50
    assert fun.top_score.mean() > 2 * proxies.top_score.mean()
    assert set(proxies.fitzpatrick) == {"I", "II", "III", "IV", "V", "VI"}
    assert "Fun images are classified far more confidently: True" in text_of(OUT / "03_skin_proxies.ipynb")


def test_figures_have_alt_text(executed):
    figures = sorted((OUT / "work" / "figures").glob("*.png"))
    assert len(figures) >= 4
    for figure in figures:
        assert figure.with_suffix(".txt").read_text().strip()


def test_production_path_captures_answers_only_and_flags_drift(executed):
    text = text_of(OUT / "06_production_path.ipynb")
    assert "Capture started: True | inputs captured: False" in text
    assert "Every request captured: True" in text and "Any photo captured: False" in text
    assert "Baseline set within tolerance: True" in text and "Photos that are not skin flagged: True" in text
    assert "Drifted proxies flagged: True" in text
    assert "Low-confidence answers routed to review, with the reason: True" in text and "Confident answers got an outcome: True" in text
    assert '"endpointInput"' not in text and '"endpointOutput"' in text  # the raw record shown has no input
    assert (OUT / "work" / "figures" / "06_monitoring_over_time.txt").read_text().count("DRIFT") >= 3
    from helpers.worksheets import RiskRegister
    from helpers.worksheets.dpia import SPEC as DPIA

    assert any(r["source"] == "monitoring (notebook 06)" for r in RiskRegister(OUT / "work").risks)
    assert "outputs only" in DPIA.load(OUT / "work").data["data_categories"]


def test_evaluation_shows_the_baseline_and_melanoma_recall(executed):
    text = text_of(OUT / "07_evaluation.ipynb")
    assert "HAM10000 majority baseline (always 'nv'): 66.9%" in text and "Model card's reported accuracy: 96.9%" in text
    assert "Accuracy shown next to the majority baseline: True" in text
    assert "Melanoma recall shown first among the classes: True" in text and "melanoma recall" in text
    assert "Batch Transform gave the same answers as the real-time endpoint: True" in text
    assert "[MOCK] Offline stand-ins gave these answers, not skin-cancer ViT" in text
    assert "2 models scored on the same 48 images, none failed: True" in text  # the third model, one registry entry
    assert "not the real skin-cancer Swin-Tiny" in text


def test_cleanup_leaves_nothing_running(executed):
    text = text_of(OUT / "99_cleanup.ipynb")
    assert "0 endpoint(s) of yours (workshop-ci) still running." in text and "belong to other learners" not in text
    assert "captured file(s) in s3://" in text and "0 captured file(s) of yours left in S3." in text


def test_a_bad_day_on_aws_is_absorbed_and_reported(executed):
    """The faults fired, the retries absorbed them (every cell's facts are a good day's, checked above), no batch
    lost an image, and the report says what was injected and how often it fired."""
    stats = json.loads((OUT / "timings.json").read_text())["mock"]
    print("mock:", stats)
    assert stats["faults"] == BAD_DAY
    assert stats["injected"].get("throttle_rate", 0) >= 5 and stats["injected"].get("model_error_rate", 0) >= 1
    assert "Fault rehearsal" in (OUT / "index.html").read_text()
    for name in ("02_fun_images.ipynb", "03_skin_proxies.ipynb"):
        assert "images classified." in text_of(OUT / name) and " failed:" not in text_of(OUT / name)


def test_no_executed_notebook_and_no_report_shows_the_credentials(executed):
    preflight = text_of(OUT / "00_preflight.ipynb")
    assert "AWS identity" in preflight and "LOCAL MOCK" in preflight  # it did talk to the mock with these credentials
    files = [p for p in OUT.rglob("*") if p.is_file()]
    assert {"00_preflight.ipynb", "00_preflight.html", "index.html", "timings.json"} <= {p.name for p in files}
    for path in files:
        assert not leaks(path.read_text(encoding="utf-8", errors="replace")), path


def test_report_links_every_notebook(executed):
    index = (OUT / "index.html").read_text()
    for name in executed:
        assert name.replace(".ipynb", ".html") in index
    timings = json.loads((OUT / "timings.json").read_text())
    assert len(timings["runs"]) == len(executed)
