"""The Space folder: its header and requirements follow the pins, and the assembled folder runs the page on a
tiny model built here (no downloads) with the package copy it carries."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from helpers import triage, webapp
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.maintainer import space

HAS_MODEL_STACK = all(importlib.util.find_spec(m) for m in ("transformers", "torch"))
needs_model = pytest.mark.skipif(not HAS_MODEL_STACK, reason="needs transformers and torch (pip install -e '.[space]')")
needs_gradio = pytest.mark.skipif(importlib.util.find_spec("gradio") is None, reason="needs Gradio (pip install -e '.[app]')")


def header(text: str) -> dict[str, str]:
    block = text.split("---")[1]
    return {k.strip(): v.strip().strip('"') for k, _, v in (line.partition(":") for line in block.strip().splitlines())}


def test_readme_header_matches_the_gradio_pin_and_says_what_never_to_upload():
    text = (space.SPACE_DIR / "README.md").read_text(encoding="utf-8")
    meta = header(text)
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and meta["license"]
    assert meta["sdk_version"] == space.gradio_pin()
    assert "Never upload patient images" in text and "public or\nsynthetic images only" in text
    assert "MODEL_ID = " in text


def test_requirements_are_written_from_the_constraints():
    assert (space.SPACE_DIR / "requirements.txt").read_text(encoding="utf-8") == space.requirements_text(), \
        "space/requirements.txt is stale: python -m helpers.maintainer.space --requirements"
    lines = [line for line in space.requirements_text().splitlines() if not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[\w.+]+", line) for line in lines) and "torch==2.13.0" in lines
    assert not any(line.lower().startswith("gradio") for line in lines)


def test_app_py_swaps_the_model_in_one_line():
    source = (space.SPACE_DIR / "app.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^MODEL_ID = \"[^\"]+\"", source, flags=re.M)) == 1
    assert "from helpers import webapp" in source  # the page is the package's, not a copy


def tiny_vit(path, labels=triage.LABELS):
    """A 2-layer ViT with the skin labels, saved like a Hub model (random weights; nothing is downloaded)."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    ViTForImageClassification(config).save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    if not HAS_MODEL_STACK:
        pytest.skip("needs transformers and torch (pip install -e '.[space]')")
    return tiny_vit(tmp_path_factory.mktemp("tiny-vit"))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("DERM_ASSIST_WORK_DIR", str(tmp_path / "work"))


@needs_model
def test_the_in_process_model_answers_through_the_one_assess_and_logs_nothing(tiny_model, offline, tmp_path):
    handlers = webapp.space_handlers(str(tiny_model), examples_dir=SKIN_PROXIES_DIR)
    example = handlers.example_names()[0]
    answer = handlers.run(None, example, 0.0, "")
    assert answer.result.splitlines()[0] in (f"## {triage.BENIGN}", f"## {triage.CONCERNING}")
    assert triage.DISCLAIMER in answer.result and "Simulated model" not in answer.result
    assert set(answer.scores) <= set(triage.LABELS) and len(answer.scores) == webapp.TOP_CLASSES
    assert answer.status.startswith("Not recorded") and not (tmp_path / "work" / triage.LOG_FILE).exists()
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG but not really")
    assert handlers.run(str(bad), None, 0.5, "").status.startswith("⚠ ")


@needs_model
def test_a_model_with_other_labels_is_refused_in_one_line(tmp_path, offline):
    other = tiny_vit(tmp_path / "other", labels=("cat", "dog"))
    with pytest.raises(webapp.BadInputError, match="triage rule"):
        webapp.PipelineClassifier(str(other))


@needs_model
@needs_gradio
def test_the_assembled_folder_runs_with_its_own_copy_of_the_package(tiny_model, tmp_path):
    out = space.assemble(tmp_path / "space")
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "app.py", "examples", "helpers", "requirements.txt"]
    assert not (out / "helpers" / "mock").exists() and (out / "helpers" / "webapp.py").read_bytes() == (space.PACKAGE / "webapp.py").read_bytes()
    probe = ("import json, helpers, app; a = app.handlers.run(None, app.handlers.example_names()[0], 0.0, ''); "
             "print(json.dumps({'package': helpers.__file__, 'result': a.result, 'status': a.status, 'blocks': type(app.demo).__name__}))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DERM_ASSIST_WORK_DIR")}
    env.update(HF_HUB_OFFLINE="1", DERM_ASSIST_SPACE_MODEL=str(tiny_model), GRADIO_ANALYTICS_ENABLED="False")
    run = subprocess.run([sys.executable, "-c", probe], cwd=out, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["package"].startswith(str(out)) and seen["blocks"] == "Blocks"
    assert triage.DISCLAIMER in seen["result"] and seen["status"].startswith("Not recorded")
