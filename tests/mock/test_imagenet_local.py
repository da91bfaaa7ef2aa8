"""The real ImageNet CNN that runs locally (optional 'offline' extra)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers.core.config import FUN_IMAGES_DIR, REPO_ROOT
from helpers.core.errors import DermAssistError
from helpers.images import list_images
from helpers.mock import imagenet_local, recordings

needs_model = pytest.mark.skipif(
    not imagenet_local.available(),
    reason="the offline extra is not installed (pip install -e '.[offline]'): "
    + ", ".join(imagenet_local.missing_packages()),
)


def test_import_is_cheap():
    """Importing the module must not drag in torch (the notebooks import helpers everywhere)."""
    code = "import sys, helpers.mock.imagenet_local as m; m.available(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_packages_give_a_one_line_install_hint(monkeypatch):
    monkeypatch.setattr(imagenet_local, "missing_packages", lambda runtime="onnx": ["onnxruntime"])
    assert not imagenet_local.available()
    with pytest.raises(DermAssistError) as info:
        imagenet_local.LocalImageNetClassifier()
    assert "pip install -e '.[offline]'" in str(info.value) and "\n" not in str(info.value)


@pytest.fixture(scope="module")
def classifier():
    return imagenet_local.get_classifier()


@pytest.mark.offline
@needs_model
def test_the_classifier_is_a_cached_singleton(classifier):
    assert imagenet_local.get_classifier() is classifier
    assert len(classifier.labels) == 1000
    assert classifier.labels[235].startswith("German shepherd")


@pytest.mark.offline
@needs_model
def test_dog_is_a_confident_german_shepherd(classifier):
    image = recordings.decoded_payload(FUN_IMAGES_DIR / "dog.jpg")
    predictions = classifier.predict(image)
    assert len(predictions) == 5
    assert predictions[0]["label"].startswith("German shepherd")
    assert predictions[0]["score"] >= 0.6
    scores = [p["score"] for p in predictions]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(p["label"], str) and isinstance(p["score"], float) for p in predictions)


@pytest.mark.offline
@needs_model
def test_scores_are_softmax_probabilities_and_top_k_is_respected(classifier):
    image = recordings.decoded_payload(FUN_IMAGES_DIR / "coffee.png")
    everything = classifier.predict(image, top_k=1000)
    assert len(everything) == 1000
    assert abs(sum(p["score"] for p in everything) - 1.0) < 1e-4
    assert len(classifier.predict(image, top_k=3)) == 3
    assert len(classifier.predict(image, top_k=5000)) == 1000
    with pytest.raises(ValueError):
        classifier.predict(image, top_k=0)


@pytest.mark.offline
@needs_model
def test_live_model_agrees_with_its_recording(classifier):
    data = recordings.load_recordings()
    for name in ("dog.jpg", "guitar.png", "pizza.jpg"):
        image = recordings.decoded_payload(FUN_IMAGES_DIR / name)
        recorded = recordings.find_recording(image, data)
        assert recorded is not None
        live = classifier.predict(image, top_k=3)
        top = recordings.predictions_of(recorded, 1)[0]
        assert live[0]["label"] == top["label"]
        assert abs(live[0]["score"] - top["score"]) < 0.02


@pytest.mark.offline
@needs_model
def test_odd_image_modes_and_sizes_work(classifier):
    from PIL import Image

    for image in (Image.new("L", (50, 400), 128), Image.new("RGBA", (1000, 30), (255, 0, 0, 0))):
        predictions = classifier.predict(image, top_k=2)
        assert len(predictions) == 2 and 0 <= predictions[0]["score"] <= 1


def test_the_offline_extra_no_longer_needs_torch():
    """The live stand-in runs on ONNX Runtime: torch is only for the maintainer's export (and the space extra)."""
    import tomllib

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    offline = pyproject["project"]["optional-dependencies"]["offline"]
    assert not [r for r in offline if r.lower().startswith(("torch", "efficientnet"))], offline
    assert set(imagenet_local.REQUIRED_MODULES.values()) <= {r.split("=")[0].split(">")[0] for r in offline}
    assert imagenet_local.ONNX_PATH.is_file() and imagenet_local.ONNX_PATH.stat().st_size > 10_000_000


@pytest.mark.offline
@needs_model
def test_the_stand_in_answers_the_same_from_the_file_and_from_what_is_sent(classifier):
    """The payload is resized as MobileNetV2's processor resizes, so the stand-in sees identical pixels (issue 14: within 0.02)."""
    from helpers.core.config import SKIN_PROXIES_DIR
    from helpers.images import list_images, load_image

    for path in list_images(FUN_IMAGES_DIR) + list_images(SKIN_PROXIES_DIR)[-4:]:
        from_file = classifier.predict(load_image(path), top_k=1)[0]
        sent = classifier.predict(recordings.decoded_payload(path), top_k=1)[0]
        assert sent["label"] == from_file["label"] and abs(sent["score"] - from_file["score"]) < 0.02, path.name


needs_torch = pytest.mark.skipif(not imagenet_local.available("torch"), reason="the onnx-export extra (torch) is not installed")


@pytest.mark.offline
@needs_model
@needs_torch
def test_onnx_runtime_answers_as_pytorch_does():
    from helpers.maintainer import onnx_export

    result = onnx_export.compare(folders=(FUN_IMAGES_DIR,))
    assert result.ok and result.images == 2 * len(list_images(FUN_IMAGES_DIR)), (result.max_prob_diff, result.top1_disagreements)


def test_a_damaged_onnx_file_is_one_line(monkeypatch, tmp_path):
    if imagenet_local.missing_packages():
        pytest.skip("the offline extra is not installed")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(imagenet_local, "ONNX_PATH", broken)
    with pytest.raises(DermAssistError) as info:
        imagenet_local.LocalImageNetClassifier()
    assert "onnx_export" in str(info.value) and "\n" not in str(info.value)


def test_the_shipped_onnx_file_is_the_one_its_readme_describes():
    import hashlib

    readme = (imagenet_local.ONNX_PATH.parent / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(imagenet_local.ONNX_PATH.read_bytes()).hexdigest()
    assert f"SHA-256 `{digest}`" in readme, "re-exported? update helpers/mock/models/README.md (size, SHA-256)"
    assert "Apache-2.0" in readme
