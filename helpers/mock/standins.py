"""The stand-in models that answer for an endpoint in the mock.

Chosen by the endpoint's ``HF_MODEL_ID``. Nothing pretends to be MobileNetV2 or the skin ViT:

- ImageNet models (MobileNetV2 and friends):
  1. a *recording* of a real ImageNet CNN (EfficientNet-Lite0) for the images the pack ships;
  2. that CNN *live*, when the optional ``offline`` extra is installed;
  3. otherwise a deterministic *placeholder*, loudly marked.
- The skin-cancer ViT: a *simulated* scorer over its 7 labels that responds smoothly to colour,
  darkness, size and border of a dark blob in the image. It is not a medical model of any kind.

Every answer says which stand-in produced it; the server puts that into ``CustomAttributes``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .. import images
from ..config import SKIN_LABELS, SKIN_MODEL_ID

IMAGENET_LABEL_COUNT = 1000


@dataclass
class StandInAnswer:
    predictions: list[dict]
    stand_in: str  # short id: recording, live, placeholder, simulated
    note: str


def answer(model_id: str, image: Image.Image, top_k: int) -> StandInAnswer:
    """Predictions for ``image`` from the stand-in that matches ``model_id``."""
    if model_id == SKIN_MODEL_ID:
        return simulated_skin_vit(image, top_k)
    return imagenet_standin(image, top_k)


# --- ImageNet ----------------------------------------------------------------------------------------

_recordings_cache: dict | None = None


def _recordings() -> dict:
    global _recordings_cache
    if _recordings_cache is None:
        try:
            from .. import recordings

            _recordings_cache = recordings.load_recordings()
        except Exception:  # a missing or damaged file means: no recordings, fall through
            _recordings_cache = {"images": [], "provenance": {}}
    return _recordings_cache


def imagenet_standin(image: Image.Image, top_k: int) -> StandInAnswer:
    data = _recordings()
    match = None
    if data.get("images"):
        from .. import recordings

        match = recordings.find_recording(image, data)
    if match is not None:
        model = data.get("provenance", {}).get("model_short", "efficientnet-lite0")
        return StandInAnswer(match["predictions"][:top_k], "recording", f"recorded {model} on {match['file']}")
    from .. import imagenet_local

    if imagenet_local.available():
        predictions = imagenet_local.get_classifier().predict(image, top_k=min(top_k, IMAGENET_LABEL_COUNT))
        return StandInAnswer(predictions, "live", "efficientnet-lite0 running locally")
    return StandInAnswer(_placeholder(image, top_k), "placeholder", "placeholder: not a model (install the offline extra)")


def _placeholder(image: Image.Image, top_k: int) -> list[dict]:
    digest = hashlib.sha256(bytes(images.fingerprint(image))).digest()
    raw = np.frombuffer(digest, dtype=np.uint8).astype(float)[: max(top_k, 5)] + 1.0
    scores = raw / raw.sum() * 0.5  # never confident: it is not a model
    order = np.argsort(-scores)
    return [{"label": f"placeholder-{rank + 1} (no real model)", "score": round(float(scores[i]), 6)} for rank, i in enumerate(order[:top_k])]


# --- Skin ViT (simulated) ----------------------------------------------------------------------------

# Feature weights per label, in SKIN_LABELS order. Features: lesion area, lesion darkness,
# colour variegation, border irregularity, redness, blue-grey tint, bias.
_WEIGHTS = np.array(
    [
        # area  dark  varieg  border  red   blue  bias
        [0.8, -1.5, -0.5, 0.2, -0.5, -0.8, 0.9],  # benign_keratosis-like_lesions
        [0.2, -0.3, 0.4, 0.8, 0.6, 0.4, -0.2],  # basal_cell_carcinoma
        [-0.4, -2.0, 0.2, 0.4, 1.2, -1.0, 0.2],  # actinic_keratoses
        [-0.5, -0.5, -0.5, -0.8, 3.0, 0.2, -0.8],  # vascular_lesions
        [0.4, 1.5, -1.6, -1.8, -1.0, -0.4, 1.2],  # melanocytic_Nevi
        [0.9, 1.8, 2.2, 2.2, -0.4, 0.8, -1.4],  # melanoma
        [-0.8, 0.3, -0.8, -0.6, 0.2, -0.6, 0.0],  # dermatofibroma
    ]
)
_TEMPERATURE = 0.45


def skin_features(image: Image.Image) -> np.ndarray:
    """Smooth colour-and-shape features of the darkest blob in the image (all roughly in 0..1)."""
    rgb = np.asarray(image.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR), dtype=np.float64) / 255.0
    luminance = rgb @ np.array([0.299, 0.587, 0.114])
    background = np.median(luminance)
    # Soft lesion mask: how much darker than the surrounding skin each pixel is.
    mask = 1.0 / (1.0 + np.exp(-((background - luminance) - 0.10) / 0.03))
    area = mask.mean()
    weight = mask.sum() + 1e-6
    darkness = float(((background - luminance) * mask).sum() / weight)
    lesion_rgb = (rgb * mask[..., None]).sum(axis=(0, 1)) / weight
    spread = np.sqrt((((rgb - lesion_rgb) ** 2).sum(axis=2) * mask).sum() / weight)
    gy, gx = np.gradient(mask)
    perimeter = np.hypot(gx, gy).sum()
    compactness = perimeter**2 / (4 * np.pi * weight)  # 1 for a disc, larger for ragged borders
    redness = float(lesion_rgb[0] - (lesion_rgb[1] + lesion_rgb[2]) / 2)
    blue_grey = float(lesion_rgb[2] - lesion_rgb[0] + 0.15)
    return np.array(
        [
            min(area * 4, 1.0),
            min(darkness * 3, 1.0),
            min(spread * 4, 1.0),
            float(np.clip((compactness - 1.0) / 3.0, 0.0, 1.0)),
            float(np.clip(redness * 3, -1.0, 1.0)),
            float(np.clip(blue_grey * 3, -1.0, 1.0)),
            1.0,
        ]
    )


def simulated_skin_vit(image: Image.Image, top_k: int) -> StandInAnswer:
    logits = _WEIGHTS @ skin_features(image) / _TEMPERATURE
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    order = np.argsort(-probs)[: max(1, min(top_k, len(SKIN_LABELS)))]
    predictions = [{"label": SKIN_LABELS[i], "score": round(float(probs[i]), 6)} for i in order]
    return StandInAnswer(predictions, "simulated", "simulated skin classifier: colour/shape rules, not the real ViT")
