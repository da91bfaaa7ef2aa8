"""Execute every notebook with papermill against the mock and check what they show, not just that they ran.

The executed notebooks land in build/test-notebooks/, where `make nbval` re-executes them and compares the
cells marked NBVAL_CHECK_OUTPUT.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers.coach import runner
from helpers.core.config import REPO_ROOT

OUT = REPO_ROOT / "build" / "test-notebooks"


@pytest.fixture(scope="module")
def executed():
    runs = runner.run_all(OUT, report=True)
    return {r.output.name: r for r in runs}


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
    names = set(executed)
    assert {"00_preflight.ipynb", "01_deploy_mobilenet.ipynb", "02_fun_images.ipynb", "03_skin_proxies.ipynb",
            "06_production_path.ipynb", "99_cleanup.ipynb"} <= names


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


def test_deploy_remembers_and_shows_the_x_image_mistake(executed):
    text = text_of(OUT / "01_deploy_mobilenet.ipynb")
    assert "InService" in text and "Remembered in" in text
    assert "application/x-image is not supported" in text


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


def test_report_links_every_notebook(executed):
    index = (OUT / "index.html").read_text()
    for name in executed:
        assert name.replace(".ipynb", ".html") in index
    timings = json.loads((OUT / "timings.json").read_text())
    assert len(timings["runs"]) == len(executed)
