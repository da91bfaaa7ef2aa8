"""The shipped labelled set ``eval_set/``: synthetic, clearly non-clinical lesion drawings with labels.

It exists to exercise the mechanics of an evaluation (labels file, identical requests, metrics, Batch
Transform), never to say anything about a real model or a real patient. Each HAM10000 class gets a drawing
recipe (size, border, colour) in the spirit of the textbook description — a melanoma is large, irregular and
variegated, a vascular lesion red, a naevus small, round and even — over the skin of
:mod:`helpers.maintainer.proxies` for Fitzpatrick types I..VI. The class mix is imbalanced on purpose, like
HAM10000 (about half naevi), so the majority-class baseline is worth comparing against.

Regenerate (the same seed gives the same images)::

    python -m helpers.maintainer.eval_set             # writes eval_set/*.jpg and eval_set/labels.csv
"""

from __future__ import annotations

import argparse
import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from ..evaluation import EVAL_SET_DIR, LABELS_FILE
from ..images import FITZPATRICK_TYPES
from . import proxies

EVAL_SET_SEED = 20261124
OUTPUT_SIZE = 224  # what the skin models see; keeps the shipped set small
JPEG_QUALITY = 90

# Per Fitzpatrick type: 4 naevi, 1 melanoma, 1 benign keratosis, and 2 of the four rarer classes in turn,
# so that 6 types x 8 = 48 images, 24 of them naevi (a 50 % majority baseline).
PER_TYPE = ("nv", "nv", "nv", "nv", "mel", "bkl")
RARE = ("bcc", "akiec", "vasc", "df")


@dataclass(frozen=True)
class Recipe:
    shape: str  # proxies.SHAPES
    radius: tuple[float, float]  # px on the 512 px canvas
    tint: tuple[float, float, float]  # the lesion's colour at full density (RGB 0..1)
    density: tuple[float, float]  # how far the colour moves from skin to tint
    variegated: bool = False  # use the proxies' blotchy pigment (tan to near-black, reddish rim, blue-grey veil)


RECIPES = {
    "nv": Recipe("regular", (26, 40), (0.16, 0.09, 0.05), (0.8, 0.9)),
    "mel": Recipe("irregular", (110, 145), (0.15, 0.08, 0.05), (0.75, 0.9), variegated=True),
    "bkl": Recipe("regular", (95, 130), (0.55, 0.40, 0.28), (0.3, 0.45)),
    "bcc": Recipe("irregular", (65, 95), (0.72, 0.45, 0.45), (0.45, 0.6)),
    "akiec": Recipe("irregular", (60, 100), (0.70, 0.32, 0.26), (0.35, 0.5)),
    "vasc": Recipe("regular", (45, 75), (0.80, 0.04, 0.10), (0.8, 0.95)),
    "df": Recipe("regular", (40, 60), (0.50, 0.34, 0.24), (0.3, 0.45)),
}


def plan(repeats: int = 1) -> list[tuple[str, str]]:
    """``(fitzpatrick, label)`` for every image, ``repeats`` rounds of 48 (the benchmark asks for more)."""
    rows = []
    for round_ in range(repeats):
        for t, fitzpatrick in enumerate(FITZPATRICK_TYPES):
            rare = (RARE[(2 * t + round_) % 4], RARE[(2 * t + 1 + round_) % 4])
            rows += [(fitzpatrick, label) for label in (*PER_TYPE, *rare)]
    return rows


def make_lesion(rng: np.random.Generator, fitzpatrick: str, label: str) -> Image.Image:
    """One RGB drawing of class ``label`` on skin of type ``fitzpatrick`` (OUTPUT_SIZE square)."""
    recipe = RECIPES[label]
    size = proxies.SIZE
    skin = proxies._skin(rng, proxies.SKIN_BASE_RGB[fitzpatrick])
    skin_rgb = np.array(proxies.SKIN_BASE_RGB[fitzpatrick], dtype=np.float32) / 255.0
    centre = (size / 2 + rng.uniform(-40, 40), size / 2 + rng.uniform(-40, 40))
    mask = proxies._lesion_mask(rng, recipe.shape, centre, rng.uniform(*recipe.radius))
    if recipe.variegated:
        pigment = proxies._lesion_colour(rng, "irregular", skin_rgb, mask)
    else:
        density = rng.uniform(*recipe.density) + 0.05 * proxies._smooth_noise(rng, size, 9)
        tint = np.array(recipe.tint, dtype=np.float32) * (0.55 + 0.45 * float(skin_rgb.mean()))
        pigment = skin_rgb[None, None, :] * (1 - density[..., None]) + tint[None, None, :] * density[..., None]
    pixels = skin * (1 - mask[..., None]) + pigment * (skin / skin_rgb[None, None, :]) ** 0.5 * mask[..., None]
    image = Image.fromarray(np.round(np.clip(pixels * 255.0, 0, 255)).astype(np.uint8))
    image = proxies._hairs(rng, image, float(skin_rgb.mean())).filter(ImageFilter.GaussianBlur(0.6))
    return image.resize((OUTPUT_SIZE, OUTPUT_SIZE), Image.Resampling.LANCZOS)


def file_name(number: int, fitzpatrick: str, label: str) -> str:
    """``lesion-007_fitzpatrick-II_mel.jpg`` (the type is also in the CSV; the name lets plots group by it)."""
    return f"lesion-{number:03d}_fitzpatrick-{fitzpatrick}_{label}.jpg"


def generate(out_dir: str | os.PathLike = EVAL_SET_DIR, seed: int = EVAL_SET_SEED, repeats: int = 1,
             verbose: bool = False) -> Path:
    """Write the images and ``labels.csv`` into ``out_dir`` (old lesion-*.jpg removed first); return the CSV."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("lesion-*.jpg"):
        old.unlink()
    rows = []
    for number, (fitzpatrick, label) in enumerate(plan(repeats), start=1):
        rng = np.random.default_rng([seed, number])
        name = file_name(number, fitzpatrick, label)
        make_lesion(rng, fitzpatrick, label).save(folder / name, format="JPEG", quality=JPEG_QUALITY)
        rows.append({"file": name, "label": label, "fitzpatrick": fitzpatrick})
        if verbose:
            print(f"  {name}")
    csv_path = folder / LABELS_FILE
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "label", "fitzpatrick"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return csv_path


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.maintainer.eval_set",
                                     description="Generate the synthetic, non-clinical labelled set (deterministic).")
    parser.add_argument("--out", default=str(EVAL_SET_DIR), help="output folder (default: eval_set/)")
    parser.add_argument("--seed", type=int, default=EVAL_SET_SEED)
    parser.add_argument("--repeats", type=int, default=1, help="rounds of 48 images (default 1)")
    args = parser.parse_args(argv)
    csv_path = generate(args.out, seed=args.seed, repeats=args.repeats, verbose=True)
    print(f"Wrote {len(plan(args.repeats))} images and {csv_path}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
