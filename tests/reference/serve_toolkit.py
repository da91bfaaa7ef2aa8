"""Serve a tiny image-classification model with the real Hugging Face inference toolkit, as its container does.

Runs in the reference environment (``make reference``: ``.venv-reference``, see requirements/reference.txt), never
in the pack's own: it needs the toolkit, transformers, torch and Multi Model Server (Java). Usage::

    .venv-reference/bin/python tests/reference/serve_toolkit.py SPEC.json WORKDIR PORT

``SPEC.json`` (written by the test from the model registry) gives the architecture, the labels in index order and
the image processor's geometry. The model is built here with random weights (nothing is downloaded), saved to
``WORKDIR/model`` the way ``save_pretrained`` writes a Hub repository, and served by Multi Model Server with the
toolkit's own handler service and the model-server configuration the toolkit writes in the container
(``sagemaker_inference``'s defaults), on 127.0.0.1:PORT (``/ping``, ``/invocations``). Runs in the foreground until
killed; everything it writes (pid file, sockets, logs) stays in WORKDIR, so several can run at once.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HANDLER = "sagemaker_huggingface_inference_toolkit.handler_service"


def build_model(spec: dict, model_dir: Path) -> None:
    import torch
    from transformers import (
        MobileNetV2Config,
        MobileNetV2ForImageClassification,
        MobileNetV2ImageProcessor,
        ViTConfig,
        ViTForImageClassification,
        ViTImageProcessor,
    )

    torch.manual_seed(0)
    labels = spec["labels"]
    id2label = dict(enumerate(labels))
    # The label -> id map cannot hold ImageNet's two "crane" classes apart; transformers keeps the last, as the
    # real checkpoint's config does.
    label2id = {label: index for index, label in id2label.items()}
    geometry = spec["geometry"]
    if spec["architecture"] == "mobilenet_v2":
        config = MobileNetV2Config(depth_multiplier=0.1, min_depth=4, image_size=geometry["center_crop"][0],
                                   num_labels=len(labels), id2label=id2label, label2id=label2id)
        model = MobileNetV2ForImageClassification(config)
        processor = MobileNetV2ImageProcessor(
            size={"shortest_edge": geometry["shortest_edge"]},
            crop_size={"height": geometry["center_crop"][0], "width": geometry["center_crop"][1]}, do_center_crop=True)
    elif spec["architecture"] == "vit":
        height, width = geometry["size"]
        config = ViTConfig(image_size=height, patch_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=32, num_labels=len(labels), id2label=id2label, label2id=label2id)
        model = ViTForImageClassification(config)
        processor = ViTImageProcessor(size={"height": height, "width": width})
    else:
        raise SystemExit(f"unknown architecture {spec['architecture']!r}")
    model.save_pretrained(model_dir)
    processor.save_pretrained(model_dir)


def write_config(workdir: Path, port: int) -> Path:
    """The model-server configuration the toolkit writes to /etc/sagemaker-mms.properties, bound to loopback."""
    os.environ["SAGEMAKER_BIND_TO_PORT"] = str(port)
    os.environ.setdefault("SAGEMAKER_MODEL_SERVER_WORKERS", "1")
    from sagemaker_inference import environment
    from sagemaker_inference.model_server import _generate_mms_config_properties

    text = _generate_mms_config_properties(environment.Environment(), HANDLER).replace("0.0.0.0", "127.0.0.1")
    path = workdir / "mms.properties"
    path.write_text(text + "default_response_timeout=60\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> None:
    spec_file, workdir, port = Path(argv[0]), Path(argv[1]), int(argv[2])
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    model_dir = workdir / "model"
    if not (model_dir / "config.json").exists():
        build_model(spec, model_dir)
    config = write_config(workdir, port)
    tmp = workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    os.environ.update({"HF_TASK": spec["task"], "TEMP": str(tmp), "TMPDIR": str(tmp), "LOG_LOCATION": str(workdir / "logs"),
                       "METRICS_LOCATION": str(workdir / "logs")})
    from sagemaker_inference.model_server import DEFAULT_MMS_LOG_FILE

    bindir = Path(sys.executable).parent
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    command = [str(bindir / "multi-model-server"), "--start", "--foreground", "--model-store", "/",
               "--mms-config", str(config), "--log-config", DEFAULT_MMS_LOG_FILE, "--models", f"model={model_dir}"]
    print(" ".join(command), flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
