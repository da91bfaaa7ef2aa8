"""What the pack sends: resized as the target model's processor resizes, never enlarged, lossless, and small.

The reference is transformers' own image processors (the ones the inference toolkit runs), built from their
defaults here (nothing downloaded): the model must get the same tensor from the payload as from the file.
"""

from __future__ import annotations

import io
import statistics

import numpy as np
import pytest
from PIL import Image

from helpers import classify, images, models, state
from helpers.core.config import FUN_IMAGES_DIR, SKIN_PROXIES_DIR
from helpers.models import InputGeometry

SHIPPED = images.list_images(FUN_IMAGES_DIR) + images.list_images(SKIN_PROXIES_DIR)
MOBILENET, VIT = models.MOBILENET_V2.geometry, models.SKIN_VIT.geometry


def decoded(payload: images.Payload) -> Image.Image:
    image = Image.open(io.BytesIO(payload.body))
    image.load()
    return image


@pytest.mark.parametrize("size,expected", [
    ((1024, 768), (341, 256)),   # int(256 * 1024 / 768) = 341, as transformers computes it
    ((768, 1024), (256, 341)),
    ((512, 512), (256, 256)),
    ((105, 300), (105, 300)),    # short side under 256: sent as it is, the processor enlarges it
    ((256, 4000), (256, 4000)),
    ((257, 300), (256, 298)),
])
def test_mobilenet_payload_size_is_the_processors_resize_never_larger(size, expected):
    assert MOBILENET.payload_size(*size) == expected


@pytest.mark.parametrize("size,expected", [
    ((1024, 768), (224, 224)),   # the ViT squashes to 224x224 whatever the shape
    ((105, 300), (105, 300)),    # one side would be enlarged: sent as it is (two resizes differ from one)
    ((100, 80), (100, 80)),
])
def test_vit_payload_size_shrinks_each_side_to_224(size, expected):
    assert VIT.payload_size(*size) == expected


def test_geometry_refuses_an_unknown_filter():
    with pytest.raises(ValueError):
        InputGeometry(size=(224, 224), resample="sharpest")


def test_payload_is_lossless_webp_of_the_resized_pixels():
    path = FUN_IMAGES_DIR / "dog.jpg"
    payload = images.prepare_payload(path, MOBILENET)
    sent = decoded(payload)
    assert payload.content_type == "image/webp" and sent.format == "WEBP" and sent.mode == "RGB"
    assert (payload.width, payload.height) == sent.size == (341, 256)
    expected = images.load_image(path).resize((341, 256), Image.Resampling.BILINEAR)
    assert sent.tobytes() == expected.tobytes()  # lossless: not one pixel changed by the encoding


def test_a_small_image_is_sent_at_its_own_size():
    image = Image.new("RGB", (120, 90), (10, 200, 30))
    for geometry in (MOBILENET, VIT):
        payload = images.prepare_payload(image, geometry)
        assert (payload.width, payload.height) == (120, 90)
        assert decoded(payload).convert("RGB").tobytes() == image.tobytes()


def test_without_a_model_the_photo_is_only_shrunk_to_the_generous_maximum():
    image = Image.new("RGB", (2048, 1024), (10, 200, 30))
    payload = images.prepare_payload(image)
    assert (payload.width, payload.height) == (images.MAX_SIDE, images.MAX_SIDE // 2) and payload.content_type == "image/webp"


def _processor(kind: str):
    """transformers' image processor with its defaults (PIL backend where torchvision is absent)."""
    pytest.importorskip("transformers")
    if kind == "mobilenet":
        from transformers.models.mobilenet_v2 import image_processing_pil_mobilenet_v2 as module

        return module.MobileNetV2ImageProcessorPil()
    from transformers.models.vit import image_processing_pil_vit as module

    return module.ViTImageProcessorPil()


@pytest.mark.parametrize("kind,spec", [("mobilenet", models.MOBILENET_V2), ("vit", models.SKIN_VIT)])
def test_the_registry_geometry_is_the_real_processors(kind, spec):
    processor = _processor(kind)
    assert Image.Resampling(int(processor.resample)).name.lower() == spec.geometry.resample
    size = processor.size
    if spec.geometry.shortest_edge is not None:
        assert size.shortest_edge == spec.geometry.shortest_edge
        assert (processor.crop_size.height, processor.crop_size.width) == spec.geometry.center_crop
    else:
        assert (size.height, size.width) == spec.geometry.size


@pytest.mark.parametrize("kind,spec", [("mobilenet", models.MOBILENET_V2), ("vit", models.SKIN_VIT)])
@pytest.mark.parametrize("path", SHIPPED[:7] + SHIPPED[-3:], ids=lambda p: p.name)
def test_the_model_gets_the_same_tensor_from_the_payload_as_from_the_file(kind, spec, path):
    processor = _processor(kind)
    from_file = processor(images.load_image(path), return_tensors="np")["pixel_values"]
    from_payload = processor(decoded(images.prepare_payload(path, spec.geometry)).convert("RGB"), return_tensors="np")["pixel_values"]
    assert np.abs(from_file - from_payload).max() == 0.0


def test_shipped_images_stay_within_the_wire_budget():
    """Bytes on the wire, base64 JSON included: median <= 100 kB, largest <= 250 kB (issue 14's targets)."""
    wire = [len(classify.request_body(images.prepare_payload(path, models.MOBILENET_V2.geometry), 5)) for path in SHIPPED]
    assert statistics.median(wire) <= 100_000 and max(wire) <= 250_000, (statistics.median(wire), max(wire))


# --- which model the payload is for ---------------------------------------------------------------------


def test_the_remembered_endpoints_model_comes_from_the_state_file(tmp_path, monkeypatch):
    state.remember_endpoint("ep-skin", models.SKIN_VIT.id, work_dir=tmp_path)
    monkeypatch.setattr(classify, "_endpoint_models", {})

    def no_aws(name):
        raise AssertionError("described an endpoint the state file knows")

    import helpers.endpoint

    monkeypatch.setattr(helpers.endpoint, "describe", no_aws)
    assert classify.endpoint_model("ep-skin", tmp_path) is models.SKIN_VIT
    payload = classify.payload_for(Image.new("RGB", (640, 480)), "ep-skin", tmp_path)
    assert (payload.width, payload.height) == (224, 224)


def test_another_endpoint_is_described_once_and_an_unknown_model_gets_no_geometry(tmp_path, monkeypatch):
    import helpers.endpoint

    calls = []

    def describe(name):
        calls.append(name)
        return helpers.endpoint.EndpointInfo(name=name, status="InService", model_id={"ep-a": models.MOBILENET_V2.id}.get(name, "someone/else"))

    monkeypatch.setattr(classify, "_endpoint_models", {})
    monkeypatch.setattr(helpers.endpoint, "describe", describe)
    assert classify.endpoint_model("ep-a", tmp_path) is models.MOBILENET_V2
    assert classify.endpoint_model("ep-a", tmp_path) is models.MOBILENET_V2
    assert classify.endpoint_model("ep-b", tmp_path) is None
    assert calls == ["ep-a", "ep-b"]
    payload = classify.payload_for(Image.new("RGB", (640, 480)), "ep-b", tmp_path)
    assert (payload.width, payload.height) == (640, 480)  # unknown model: nothing it keeps is thrown away


def test_transformers_decodes_the_json_body_to_the_same_pixels():
    """The toolkit hands JSON ``inputs`` to transformers' ``load_image``, which decodes the base64 WebP itself."""
    pytest.importorskip("transformers")
    import json

    from transformers.image_utils import load_image

    payload = images.prepare_payload(FUN_IMAGES_DIR / "dog.jpg", MOBILENET)
    inputs = json.loads(classify.request_body(payload, 5))["inputs"]
    assert load_image(inputs).convert("RGB").tobytes() == decoded(payload).convert("RGB").tobytes()
