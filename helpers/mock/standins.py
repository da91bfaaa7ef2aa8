"""The stand-in models that answer for an endpoint in the mock.

Chosen by the stand-in kind the model registry (:mod:`helpers.models`) gives the endpoint's
``HF_MODEL_ID``. Nothing pretends to be MobileNetV2 or the skin ViT:

- ``imagenet`` (MobileNetV2):
  1. a *recording* of a real ImageNet CNN (EfficientNet-Lite0) for the images the pack ships;
  2. that CNN *live*, when the optional ``offline`` extra is installed;
  3. otherwise a deterministic *placeholder*, loudly marked.
- ``simulated-skin`` (the skin-cancer ViT): a *simulated* scorer over its 7 labels that responds smoothly
  to colour, darkness, size and border of a dark blob in the image. It is not a medical model of any kind.
- A model the registry does not know: a deterministic *placeholder* that says so in every label, never
  another model's answers.

Every answer says which stand-in produced it; the server puts that into ``CustomAttributes``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .. import images, models
from ..core.errors import DermAssistError

UNKNOWN_MODEL = "unknown model"


@dataclass
class StandInAnswer:
    predictions: list[dict]
    stand_in: str  # short id: recording, live, placeholder, simulated
    note: str


def answer(model_id: str, image: Image.Image, top_k: int) -> StandInAnswer:
    """Predictions for ``image`` from the stand-in the registry names for ``model_id``."""
    spec = models.find(model_id)
    if spec is None:
        return StandInAnswer(
            _placeholder(image, top_k, f"{UNKNOWN_MODEL} {model_id}"), "placeholder",
            f"placeholder: {UNKNOWN_MODEL} {model_id!r} (not in helpers/models.py), so no stand-in can answer for it",
        )
    return STANDINS[spec.stand_in](image, top_k, spec)


# --- ImageNet ----------------------------------------------------------------------------------------

_recordings_cache: dict | None = None


def _recordings() -> dict:
    global _recordings_cache
    if _recordings_cache is None:
        try:
            from . import recordings

            _recordings_cache = recordings.load_recordings()
        except DermAssistError as exc:  # missing or damaged: answer live or with placeholders, and say why in the mock's log
            print(f"mock: no recorded ImageNet answers: {exc}", flush=True)
            _recordings_cache = {"images": [], "provenance": {}}
    return _recordings_cache


def imagenet_standin(image: Image.Image, top_k: int, spec: models.ModelSpec = models.MOBILENET_V2) -> StandInAnswer:
    data = _recordings()
    match = None
    if data.get("images"):
        from . import recordings

        match = recordings.find_recording(image, data)
    if match is not None:
        model = data.get("provenance", {}).get("model_short", "efficientnet-lite0")
        return StandInAnswer(match["predictions"][:top_k], "recording", f"recorded {model} on {match['file']}")
    from . import imagenet_local

    if imagenet_local.available():
        predictions = imagenet_local.get_classifier().predict(image, top_k=min(top_k, len(spec.labels)))
        return StandInAnswer(predictions, "live", "efficientnet-lite0 running locally")
    return StandInAnswer(_placeholder(image, top_k, "no real model"), "placeholder", "placeholder: not a model (install the offline extra)")


def _placeholder(image: Image.Image, top_k: int, why: str) -> list[dict]:
    digest = hashlib.sha256(bytes(images.fingerprint(image))).digest()
    raw = np.frombuffer(digest, dtype=np.uint8).astype(float)[: max(top_k, 5)] + 1.0
    scores = raw / raw.sum() * 0.5  # never confident: it is not a model
    order = np.argsort(-scores)
    return [{"label": f"placeholder-{rank + 1} ({why})", "score": round(float(scores[i]), 6)} for rank, i in enumerate(order[:top_k])]


# --- Skin ViT (simulated) ----------------------------------------------------------------------------

# Weights per label (rows, in the skin ViT's label order: models.SKIN_VIT.labels) over the features of skin_features() (columns).
# Hand-set so that the simulation behaves like the workshop needs, not like any real model: large, dark,
# high-contrast blobs lean to melanoma; small dark ones to naevi; faint ones (low contrast, as on darker
# skin) to benign keratosis with low confidence; reddish ones to vascular lesions.
_WEIGHTS = np.array(
    [
        # area  dark  varieg  border  red   blue  bias
        [0.6, -1.2, 0.0, 0.0, 0.0, 0.0, 0.9],  # benign_keratosis-like_lesions
        [0.2, 0.3, 0.3, 0.6, 0.8, 0.3, -1.2],  # basal_cell_carcinoma
        [-0.3, -1.0, 0.0, 0.0, 1.5, 0.0, -0.6],  # actinic_keratoses
        [-0.3, -0.5, 0.0, 0.0, 2.5, 0.0, -1.4],  # vascular_lesions
        [-0.9, 1.6, -0.5, -0.6, 0.0, 0.0, 0.6],  # melanocytic_Nevi
        [1.6, 2.0, 0.8, 0.9, 0.0, 0.4, -3.4],  # melanoma
        [-0.5, -0.8, 0.0, 0.0, 0.3, 0.0, 0.3],  # dermatofibroma
    ]
)
_TEMPERATURE = 0.6
_LUMA = np.array([0.299, 0.587, 0.114])


def skin_features(image: Image.Image) -> np.ndarray:
    """Colour-and-shape features of the darkest blob, each scaled to roughly 0..3.

    The lesion is a soft mask of pixels darker than the median skin (hairs and noise smoothed away
    first), so covering part of it with a grey patch changes the features — and the scores — gradually.
    """
    from PIL import ImageFilter

    small = image.convert("RGB").resize((96, 96), Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.float64) / 255.0
    smooth = np.asarray(small.filter(ImageFilter.MedianFilter(5)).filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float64) / 255.0
    contrast = np.median(smooth @ _LUMA) - smooth @ _LUMA
    mask = 1.0 / (1.0 + np.exp(-(contrast - 0.05) / 0.012))
    weight = mask.sum() + 1e-6
    darkness = float((contrast * mask).sum() / weight)
    lesion_rgb = (rgb * mask[..., None]).sum(axis=(0, 1)) / weight
    luminance = rgb @ _LUMA
    lesion_lum = (luminance * mask).sum() / weight
    variegation = float(np.sqrt((((luminance - lesion_lum) ** 2) * mask).sum() / weight)) / max(darkness, 0.02)
    gy, gx = np.gradient(mask)
    compactness = np.hypot(gx, gy).sum() ** 2 / (4 * np.pi * weight)  # about 1 for a disc, more for ragged edges
    return np.array(
        [
            mask.mean() / 0.2,
            darkness / 0.25,
            variegation,
            float(np.log(max(compactness, 0.5))),
            float(lesion_rgb[0] - (lesion_rgb[1] + lesion_rgb[2]) / 2) * 5,
            float(lesion_rgb[2] - lesion_rgb[0]) * 5,
            1.0,
        ]
    )


def simulated_skin_vit(image: Image.Image, top_k: int, spec: models.ModelSpec = models.SKIN_VIT) -> StandInAnswer:
    labels = spec.labels
    logits = _WEIGHTS @ skin_features(image) / _TEMPERATURE
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs)[: max(1, min(top_k, len(labels)))]
    predictions = [{"label": labels[i], "score": round(float(probs[i]), 6)} for i in order]
    return StandInAnswer(predictions, "simulated", "simulated skin classifier: colour/shape rules, not the real ViT")


# The function behind each stand-in kind of the registry.
STANDINS = {
    models.STANDIN_IMAGENET: imagenet_standin,
    models.STANDIN_SIMULATED_SKIN: simulated_skin_vit,
}
