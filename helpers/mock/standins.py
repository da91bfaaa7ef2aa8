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

import numpy as np
from PIL import Image

from .. import images, models
from ..core.errors import DermAssistError
from .toolkit import Distribution

UNKNOWN_MODEL = "unknown model"


def distribution(model_id: str, image: Image.Image) -> Distribution:
    """A probability for every label of the model ``model_id`` names, from the stand-in the registry gives it.

    The container's pipeline (:mod:`helpers.mock.toolkit`) sorts, applies ``top_k`` and encodes.
    """
    spec = models.find(model_id)
    if spec is None:
        labels = [f"placeholder-{rank + 1} ({UNKNOWN_MODEL} {model_id})" for rank in range(PLACEHOLDER_LABELS)]
        return Distribution(labels, _placeholder_scores(image), "placeholder",
                            f"placeholder: {UNKNOWN_MODEL} {model_id!r} (not in helpers/models.py), so no stand-in can answer for it")
    return STANDINS[spec.stand_in](image, spec)


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


def imagenet_standin(image: Image.Image, spec: models.ModelSpec = models.MOBILENET_V2) -> Distribution:
    """MobileNetV2's 1,001 labels: ``background``, then the 1,000 ImageNet classes the stand-in CNN scores.

    EfficientNet-Lite0 has no ``background`` class, so its score there is 0 (the real checkpoint gives it a
    small probability); the ImageNet classes keep their order, so class ``i`` of the CNN is label ``i + 1``.
    """
    data = _recordings()
    match = None
    if data.get("images"):
        from . import recordings

        match = recordings.find_recording(image, data)
        if match is not None:
            model = data.get("provenance", {}).get("model_short", "efficientnet-lite0")
            return Distribution(spec.labels, recordings.scores_of(match), "recording", f"recorded {model} on {match['file']}")
    from . import imagenet_local

    if imagenet_local.available():
        probabilities = imagenet_local.get_classifier().probabilities(image)
        return Distribution(spec.labels, imagenet_label_space(probabilities, spec), "live", "efficientnet-lite0 running locally")
    labels = [f"placeholder-{rank + 1} (no real model)" for rank in range(PLACEHOLDER_LABELS)]
    return Distribution(labels, _placeholder_scores(image), "placeholder", "placeholder: not a model (install the offline extra)")


def imagenet_label_space(probabilities: list[float], spec: models.ModelSpec = models.MOBILENET_V2) -> list[float]:
    """ImageNet-1k probabilities (1,000, index order) in ``spec``'s label space (``background`` first, scored 0)."""
    extra = len(spec.labels) - len(probabilities)
    if extra not in (0, 1) or (extra == 1 and spec.labels[0] != "background"):
        raise ValueError(f"{len(probabilities)} ImageNet scores do not fit {spec.name}'s {len(spec.labels)} labels.")
    return [0.0] * extra + [float(p) for p in probabilities]


PLACEHOLDER_LABELS = 5


def _placeholder_scores(image: Image.Image) -> list[float]:
    digest = hashlib.sha256(bytes(images.fingerprint(image))).digest()
    raw = np.frombuffer(digest, dtype=np.uint8).astype(float)[:PLACEHOLDER_LABELS] + 1.0
    return [round(float(x), 6) for x in raw / raw.sum() * 0.5]  # never confident: it is not a model


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


_WEIGHT_ROWS = dict(zip(models.SKIN_VIT.label_codes, _WEIGHTS))  # HAM10000 code -> its row of weights


def simulated_skin_vit(image: Image.Image, spec: models.ModelSpec = models.SKIN_VIT) -> Distribution:
    """The simulated scorer, answering in ``spec``'s own labels (through the registry's HAM10000 codes)."""
    labels = spec.labels
    weights = np.array([_WEIGHT_ROWS[code] for code in spec.label_codes])
    logits = weights @ skin_features(image) / _TEMPERATURE
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    real = "the real ViT" if spec.id == models.SKIN_VIT.id else f"the real {spec.name}"
    return Distribution(labels, [round(float(p), 6) for p in probs], "simulated", f"simulated skin classifier: colour/shape rules, not {real}")


# The function behind each stand-in kind of the registry.
STANDINS = {
    models.STANDIN_IMAGENET: imagenet_standin,
    models.STANDIN_SIMULATED_SKIN: simulated_skin_vit,
}
