"""Synthetic skin-lesion proxies: drawn by code, clearly non-clinical, never real patient images.

Each picture is a patch of simulated skin (a base tone with shading, mottling and pore texture, a few
hairs) with one darker blob on it: either *regular* (round/oval, smooth border, even colour) or
*irregular* (wavy, notched border, colour variegation). They exist to show learners what happens when
an ImageNet classifier meets a domain it never saw, and to let a plot group results by skin tone.
They are not medically accurate and must never be used to train or test anything clinical.

Regenerate (identical bytes for the same seed)::

    python -m helpers.maintainer.proxies            # writes skin_proxies/proxy-NN_fitzpatrick-<type>_<shape>.png
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..core.config import SKIN_PROXIES_DIR, SKIN_PROXIES_SEED
from ..images import FITZPATRICK_TYPES

DEFAULT_SEED = SKIN_PROXIES_SEED
SIZE = 512
SHAPES = ("regular", "irregular")

# Tuned so an ImageNet classifier stays unsure (see helpers.mock.recordings.check_quality_bar): close framing
# and visible skin texture keep the blob from reading as a bug, a ball or a parachute in the sky.
LESION_RADIUS = {"regular": (75.0, 120.0), "irregular": (95.0, 140.0)}
PORE_STRENGTH = 0.12
MOTTLE_STRENGTH = 1.8
FRECKLES = 70
MAX_HAIRS = 5

# Base skin colours per Fitzpatrick type: approximate, illustrative. The RGB values are swatches of
# the Monk Skin Tone Scale (Ellis Monk, published by Google in 2022 with hex values: MST-02 #f3e7db,
# MST-04 #eadaba, MST-05 #d7bd96, MST-06 #a07e56, MST-08 #604134, MST-09 #3a312a), assigned to the six
# Fitzpatrick types by eye. Fitzpatrick types describe how skin reacts to sun, not a colour standard,
# so no mapping is exact; what matters here is that the six groups span light to deeply pigmented.
SKIN_BASE_RGB = {
    "I": (243, 231, 219),
    "II": (234, 218, 186),
    "III": (215, 189, 150),
    "IV": (160, 126, 86),
    "V": (96, 65, 52),
    "VI": (58, 49, 42),
}


def proxy_name(number: int, fitzpatrick: str, shape: str) -> str:
    """``proxy-07_fitzpatrick-IV_irregular.png`` (parsed by :func:`helpers.images.fitzpatrick_type`)."""
    return f"proxy-{number:02d}_fitzpatrick-{fitzpatrick}_{shape}.png"


# ----------------------------------------------------------------------------------------------
# Building blocks (all float32 arrays in 0..1 unless stated)
# ----------------------------------------------------------------------------------------------
def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise: a ``cells`` x ``cells`` random grid upsampled smoothly to ``size``, in -1..1."""
    grid = rng.uniform(-1.0, 1.0, (cells + 3, cells + 3)).astype(np.float32)
    small = Image.fromarray(grid)
    step = size / cells
    big = small.resize((round(step * (cells + 3)), round(step * (cells + 3))), Image.Resampling.BICUBIC)
    offset = round(step)
    array = np.asarray(big, dtype=np.float32)[offset : offset + size, offset : offset + size]
    return np.clip(array, -1.0, 1.0)


def _blur(array: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a 2-D float array (edges reflected)."""
    half = max(1, int(math.ceil(3 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-half, half + 1, dtype=np.float64) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(array.astype(np.float64), half, mode="reflect")
    rows = sum(w * padded[:, i : i + array.shape[1]] for i, w in enumerate(taps))
    out = sum(w * rows[i : i + array.shape[0], :] for i, w in enumerate(taps))
    return out.astype(np.float32)


def _creases(rng: np.random.Generator) -> np.ndarray:
    """Faint criss-cross skin furrows (two families of wavy lines), 0..1."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    total = np.zeros((SIZE, SIZE), dtype=np.float32)
    for _family in range(2):
        angle = rng.uniform(0, math.pi)
        spacing = rng.uniform(14, 26)
        warp = _smooth_noise(rng, SIZE, 6) * spacing * 0.8
        phase = (xx * math.cos(angle) + yy * math.sin(angle) + warp) * (2 * math.pi / spacing)
        lines = np.clip(np.cos(phase), 0, 1) ** 12
        total += lines * np.clip(0.6 + _smooth_noise(rng, SIZE, 8), 0, 1)
    return _blur(np.clip(total, 0, 1), 1.3)


def _globules(rng: np.random.Generator) -> np.ndarray:
    """Scattered soft dots of pigment, 0..1."""
    field = _blur(rng.normal(0, 1, (SIZE, SIZE)).astype(np.float32), 3.0) * 6.0
    return np.clip(field - 1.2, 0, 1)


def _skin(rng: np.random.Generator, base: tuple[int, int, int]) -> np.ndarray:
    """An HxWx3 patch of skin around ``base``: lighting, blotchy mottling, fine pores, a faint warm cast."""
    rgb = np.array(base, dtype=np.float32) / 255.0
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    angle = rng.uniform(0, 2 * math.pi)
    light = 1.0 + 0.07 * ((xx - 0.5) * math.cos(angle) + (yy - 0.5) * math.sin(angle))
    mottle = MOTTLE_STRENGTH * (0.035 * _smooth_noise(rng, SIZE, 5) + 0.02 * _smooth_noise(rng, SIZE, 14))
    pores = _blur(rng.normal(0.0, 1.0, (SIZE, SIZE)).astype(np.float32), 1.2) * PORE_STRENGTH
    redness = 0.02 * _smooth_noise(rng, SIZE, 7)
    creases = _creases(rng) * 0.03
    shade = (light + mottle + pores - creases)[..., None]
    skin = rgb[None, None, :] * shade
    skin[..., 0] += redness * rgb[0]
    skin[..., 2] -= redness * rgb[2] * 0.5
    return skin


def _freckles(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` small soft spots scattered over the patch, 0..1."""
    layer = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(layer)
    for _ in range(count):
        x, y = rng.uniform(0, SIZE, 2)
        r = rng.uniform(1.5, 5.0)
        draw.ellipse((x - r, y - r * rng.uniform(0.7, 1.0), x + r, y + r), fill=int(rng.integers(120, 255)))
    return np.asarray(layer.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32) / 255.0


def _lesion_mask(rng: np.random.Generator, shape: str, centre: tuple[float, float], radius: float) -> np.ndarray:
    """Soft 0..1 mask of the lesion: an oval with a smooth edge, or a wavy notched outline."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    dx, dy = xx - centre[0], yy - centre[1]
    theta = np.arctan2(dy, dx)
    aspect = rng.uniform(0.8, 1.0) if shape == "regular" else rng.uniform(0.65, 0.95)
    tilt = rng.uniform(0, math.pi)
    c, s = math.cos(tilt), math.sin(tilt)
    u, v = dx * c + dy * s, (-dx * s + dy * c) / aspect
    distance = np.sqrt(u * u + v * v)
    boundary = np.full_like(theta, radius)
    if shape == "irregular":
        for harmonic in range(2, 9):
            amplitude = radius * rng.uniform(0.03, 0.12) / math.sqrt(harmonic - 1)
            boundary += amplitude * np.cos(harmonic * theta + rng.uniform(0, 2 * math.pi))
    edge = radius * (0.05 if shape == "regular" else 0.09)
    mask = 1.0 / (1.0 + np.exp(np.clip((distance - boundary) / edge, -40, 40)))
    if shape == "irregular":
        # A ragged, partly blurred border: noise only acts where the mask is in between 0 and 1.
        fuzz = _smooth_noise(rng, SIZE, 24) * 0.25
        mask = np.clip(mask + fuzz * mask * (1 - mask) * 4, 0, 1)
    return mask.astype(np.float32)


def _lesion_colour(rng: np.random.Generator, shape: str, skin_rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """HxWx3 pigment colour, darker and browner than the skin.

    A pigment *density* field (0 = skin, 1 = darkest) is mapped onto a brown ramp. Regular lesions have
    an even density that darkens a little towards the centre; irregular ones get blotchy density
    (light tan to near-black), a reddish rim on one side and a faint blue-grey patch.
    """
    skin_lum = float(skin_rgb.mean())
    deep = np.array([0.27, 0.14, 0.07], dtype=np.float32) * (0.5 + 0.5 * skin_lum)
    core = np.clip(mask - 0.5, 0, 0.5) * 2  # 0 at the rim, 1 in the middle
    if shape == "regular":
        density = rng.uniform(0.45, 0.65) + 0.12 * core + 0.04 * _smooth_noise(rng, SIZE, 10)
    else:
        blotches = 0.5 * _smooth_noise(rng, SIZE, 7) + 0.3 * _smooth_noise(rng, SIZE, 16)
        density = rng.uniform(0.5, 0.65) + 0.45 * blotches + 0.1 * core
    density = density + _globules(rng) * (0.08 if shape == "regular" else 0.25)
    density = np.clip(density, 0.15, 1.0)[..., None]
    colour = skin_rgb[None, None, :] * (1 - density) + deep[None, None, :] * density
    if shape == "irregular":
        red = np.array([0.55, 0.25, 0.22], dtype=np.float32) * (0.5 + 0.5 * skin_lum)
        rim = np.clip(1 - np.abs(mask - 0.45) * 3, 0, 1) * np.clip(_smooth_noise(rng, SIZE, 4), 0, 1)
        colour = colour * (1 - 0.5 * rim[..., None]) + red * 0.5 * rim[..., None]
        veil = np.clip(_smooth_noise(rng, SIZE, 6) - 0.45, 0, 1) * core * 0.5
        grey = np.array([0.32, 0.33, 0.40], dtype=np.float32) * (0.45 + 0.55 * skin_lum)
        colour = colour * (1 - veil[..., None]) + grey * veil[..., None]
    grain = _blur(rng.normal(0, 1, (SIZE, SIZE)).astype(np.float32), 1.5) * 0.04
    return colour * (1 + grain)[..., None]


def _hairs(rng: np.random.Generator, image: Image.Image, skin_lum: float) -> Image.Image:
    """A few fine dark hairs drawn as gently curved strokes."""
    count = int(rng.integers(0, MAX_HAIRS + 1))
    if count == 0:
        return image
    layer = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(layer)
    for _ in range(count):
        x, y = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
        heading = rng.uniform(0, 2 * math.pi)
        bend = rng.uniform(-0.01, 0.01)
        points = []
        for _step in range(int(rng.integers(40, 90))):
            points.append((x, y))
            x += 4 * math.cos(heading)
            y += 4 * math.sin(heading)
            heading += bend
        draw.line(points, fill=int(rng.integers(110, 200)), width=int(rng.integers(1, 3)))
    layer = layer.filter(ImageFilter.GaussianBlur(0.7))
    hair_colour = (40, 30, 25) if skin_lum > 0.35 else (18, 14, 12)
    dark = Image.new("RGB", image.size, hair_colour)
    return Image.composite(dark, image, layer)


def make_proxy(rng: np.random.Generator, fitzpatrick: str, shape: str) -> Image.Image:
    """One 512x512 RGB proxy for a Fitzpatrick type (``"I"``..``"VI"``) and a shape."""
    if fitzpatrick not in SKIN_BASE_RGB:
        raise ValueError(f"fitzpatrick must be one of {FITZPATRICK_TYPES}")
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}")
    skin = _skin(rng, SKIN_BASE_RGB[fitzpatrick])
    skin_rgb = np.array(SKIN_BASE_RGB[fitzpatrick], dtype=np.float32) / 255.0
    radius = rng.uniform(*LESION_RADIUS[shape])
    centre = (SIZE / 2 + rng.uniform(-50, 50), SIZE / 2 + rng.uniform(-50, 50))
    mask = _lesion_mask(rng, shape, centre, radius)
    pigment = _lesion_colour(rng, shape, skin_rgb, mask)
    pixels = skin * (1 - mask[..., None]) + pigment * (skin / skin_rgb[None, None, :]) ** 0.5 * mask[..., None]
    spots = 0.22 * _freckles(rng, FRECKLES)[..., None]
    freckle_rgb = np.array([0.45, 0.28, 0.18], dtype=np.float32) * float(skin_rgb.mean())
    pixels = pixels * (1 - spots) + freckle_rgb * spots
    pixels = np.clip(pixels * 255.0, 0, 255)
    image = Image.fromarray(np.round(pixels).astype(np.uint8))
    image = _hairs(rng, image, float(skin_rgb.mean()))
    return image.filter(ImageFilter.GaussianBlur(0.6))


def plan(per_type: int = 4) -> list[tuple[int, str, str]]:
    """``(number, fitzpatrick, shape)`` for every image: types in order, shapes alternating."""
    if per_type < 2:
        raise ValueError("per_type must be at least 2 so every type has both shapes")
    rows = []
    number = 1
    for fitzpatrick in FITZPATRICK_TYPES:
        for i in range(per_type):
            rows.append((number, fitzpatrick, SHAPES[i % 2]))
            number += 1
    return rows


def save_png(image: Image.Image, path: Path) -> None:
    """Deterministic PNG: no metadata, no timestamps, fixed compression settings."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    image.save(tmp, format="PNG", compress_level=6, optimize=False)
    os.replace(tmp, path)


def generate(
    out_dir: str | os.PathLike = SKIN_PROXIES_DIR,
    seed: int = DEFAULT_SEED,
    per_type: int = 4,
    verbose: bool = False,
) -> list[Path]:
    """Write ``6 * per_type`` proxies into ``out_dir`` and return their paths (sorted by name).

    Each image has its own random stream derived from ``(seed, number)``, so the same seed always gives
    the same bytes. Old ``proxy-*.png`` files in ``out_dir`` are removed first so none linger.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("proxy-*.png"):
        old.unlink()
    paths = []
    for number, fitzpatrick, shape in plan(per_type):
        rng = np.random.default_rng([seed, number])
        path = folder / proxy_name(number, fitzpatrick, shape)
        save_png(make_proxy(rng, fitzpatrick, shape), path)
        if verbose:
            print(f"  {path.name}")
        paths.append(path)
    return sorted(paths)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.maintainer.proxies",
        description="Generate the synthetic, non-clinical skin-lesion proxies (deterministic).",
    )
    parser.add_argument("--out", default=str(SKIN_PROXIES_DIR), help="output folder (default: skin_proxies/)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--per-type", type=int, default=4, help="images per Fitzpatrick type (default 4)")
    args = parser.parse_args(argv)
    paths = generate(args.out, seed=args.seed, per_type=args.per_type, verbose=True)
    print(f"Wrote {len(paths)} proxies to {args.out}. Refresh the recordings: python -m helpers.mock.recordings")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
