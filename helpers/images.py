"""Load, clean and encode images before they leave the machine.

What the endpoint receives is always a fresh image made by :func:`prepare_payload`: upright (EXIF
orientation applied), RGB, no metadata (no GPS, device or timestamps), and only as large as the target
model keeps. Each model's image processor first resizes the photo (MobileNetV2: shortest side to 256, then
a 224 crop; the ViT: 224x224, see :class:`helpers.models.InputGeometry`); the pack does that resize itself,
with the processor's own filter, and sends the result losslessly (WebP). The processor's resize is then a
no-op, so the model sees the pixels it would have made from the original file, at a fraction of the bytes.
JPEG is not neutral: re-encoding the synthetic skin proxies moved a real CNN's top-1 score by up to 0.39.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .core.config import IMAGE_SUFFIXES
from .core.errors import BadInputError
from .models import InputGeometry

ImageSource = str | os.PathLike | bytes | Image.Image

# The longest side sent when the target model is unknown (no geometry): a generous size, still lossless.
MAX_SIDE = 1024
JPEG_QUALITY = 92  # encode_jpeg (the workflow's simulated uploads); payloads are lossless
# Lossless WebP: 25-35 % smaller than optimised PNG on the shipped images. Method 1 of 0-6 costs ~10-15 ms for a
# 256x341 photo and is within 2 % of method 6's size (which costs seconds at quality 100); method 0 is 10 % larger.
PAYLOAD_FORMAT = "WEBP"
PAYLOAD_CONTENT_TYPE = "image/webp"
WEBP_METHOD = 1
WEBP_EFFORT = 0  # "quality" means compression effort when lossless
# Refuse images bigger than this many pixels without decoding them (decompression bombs). 200 megapixels
# lets the largest phone photos through (JPEGs are decoded at reduced scale, see load_image's max_side).
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

_FITZPATRICK = re.compile(r"fitzpatrick-(VI|IV|V|III|II|I)(?![A-Z])", re.IGNORECASE)
FITZPATRICK_TYPES = ("I", "II", "III", "IV", "V", "VI")
# Listed in folders even without a decoder, so an iPhone photo is reported (with how to convert it), not skipped.
HEIF_SUFFIXES = (".heic", ".heif")


@dataclass(frozen=True)
class Payload:
    """Bytes ready for ``InvokeEndpoint`` and what they are."""

    body: bytes
    content_type: str
    width: int
    height: int


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files in ``folder`` (not recursive), sorted by name. READMEs and the like are skipped."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise BadInputError(f"Folder not found: {path}. Check the path, or run from the repository root.")
    if not path.is_dir():
        raise BadInputError(f"{path} is a file, not a folder. Pass a folder of images, or the file itself.")
    suffixes = (*IMAGE_SUFFIXES, *HEIF_SUFFIXES)
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files stay as they are; folders become the images inside them."""
    result: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        result.extend(list_images(path) if path.is_dir() else [path])
    return result


def _describe(source: ImageSource) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else "the image"


def read_bytes(path: str | os.PathLike) -> bytes:
    """Read a file, turning every way it can go wrong into one line."""
    p = Path(path).expanduser()
    if not p.exists():
        raise BadInputError(f"File not found: {p}. Check the name, or list the folder with `ls`.")
    if p.is_dir():
        raise BadInputError(f"{p} is a folder; pass an image file (or use a command that takes folders).")
    data = p.read_bytes()
    if not data:
        raise BadInputError(f"{p} is empty (0 bytes). Copy the image again.")
    return data


def _heif_decoder_installed() -> bool:
    return ".heic" in Image.registered_extensions()  # e.g. pillow-heif's register_heif_opener()


def _sniff_unsupported(data: bytes, name: str) -> None:
    head = data[:64]
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypheif", b"ftyphevc") and not _heif_decoder_installed():
        raise BadInputError(
            f"{name} is a HEIC/HEIF photo (iPhone format), which Pillow cannot read here. "
            "Export it as JPEG (Photos: File > Export, or `heif-convert in.heic out.jpg`) and try again."
        )
    if head.startswith(b"%PDF"):
        raise BadInputError(f"{name} is a PDF, not an image. Export the page as PNG or JPEG first.")


def load_image(source: ImageSource, max_side: int | None = None) -> Image.Image:
    """Open an image as upright RGB. Transparent parts go on white; animations give their first frame.

    With ``max_side``, a JPEG is decoded at a reduced scale that still covers ``max_side`` (a 108-megapixel
    photo then needs a few MB, not hundreds); call :func:`downscale` for the exact size.
    Raises :class:`BadInputError` (one line) for missing, empty, truncated, non-image or oversized input.
    """
    if isinstance(source, Image.Image):
        return to_rgb(ImageOps.exif_transpose(source))
    name = _describe(source)
    data = source if isinstance(source, bytes) else read_bytes(source)
    if not data:
        raise BadInputError(f"{name} is empty (0 bytes).")
    _sniff_unsupported(data, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.seek(0)
            if max_side and image.format in ("JPEG", "MPO"):
                image.draft(None, (max_side, max_side))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadInputError(
            f"{name} is too large to decode safely (over {MAX_PIXELS // 1_000_000} megapixels). "
            "Resize it (e.g. to 4000 pixels on the longest side) and try again."
        ) from None
    except UnidentifiedImageError:
        raise BadInputError(
            f"{name} is not an image Pillow can read (JPEG, PNG, WebP, GIF, BMP, TIFF). "
            "Check the file, or re-save it as JPEG."
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInputError(f"{name} looks damaged or truncated ({exc}). Copy or download it again.") from None
    return to_rgb(ImageOps.exif_transpose(image))


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB: alpha composited on white, 16-bit scaled, CMYK converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        import numpy as np

        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray((array / top * 255).clip(0, 255).astype("uint8"), mode="L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "PA"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def downscale(image: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """Shrink so the longest side is at most ``max_side``; never enlarge."""
    if max(image.size) <= max_side:
        return image
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return copy


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes with no metadata at all: no EXIF (so no GPS), no XMP, no ICC profile, no comments."""
    clean = Image.new("RGB", image.size)
    clean.paste(to_rgb(image))  # pixels only: Pillow copies some metadata (the JPEG comment) from image.info
    buffer = io.BytesIO()
    clean.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def encode_lossless(image: Image.Image) -> bytes:
    """Lossless WebP bytes of the RGB pixels (decoding gives them back exactly), with no metadata at all."""
    clean = Image.new("RGB", image.size)
    clean.paste(to_rgb(image))  # pixels only: nothing from image.info (EXIF, XMP, ICC, comments) is carried over
    buffer = io.BytesIO()
    clean.save(buffer, format=PAYLOAD_FORMAT, lossless=True, quality=WEBP_EFFORT, method=WEBP_METHOD)
    return buffer.getvalue()


def fit_to_model(image: Image.Image, geometry: InputGeometry) -> Image.Image:
    """The photo resized as the model's processor resizes it (its size and filter), never enlarged."""
    size = geometry.payload_size(image.width, image.height)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling[geometry.resample.upper()])


def prepare_payload(source: ImageSource, geometry: InputGeometry | None = None, *, max_side: int = MAX_SIDE) -> Payload:
    """What we send to an endpoint: upright, RGB, metadata stripped, resized for the model, lossless WebP.

    ``geometry`` is the target model's (``helpers.models.get(model_id).geometry``): the photo is resized as its
    processor would resize it (see :func:`fit_to_model`). Without one (a model the registry does not know),
    the photo is only shrunk to ``max_side`` pixels on its longest side. A JPEG more than twice ``MAX_SIDE`` on
    both sides is decoded at a reduced scale first (a phone photo then needs a few MB, not hundreds): the one
    case where the pixels sent can differ slightly from what the processor would make of the full file.
    """
    image = load_image(source, MAX_SIDE if geometry is not None else max_side)
    image = fit_to_model(image, geometry) if geometry is not None else downscale(image, max_side)
    return Payload(encode_lossless(image), PAYLOAD_CONTENT_TYPE, image.width, image.height)


def fingerprint(image: Image.Image) -> list[int]:
    """A tiny 8x8 RGB thumbnail (192 numbers) that survives re-encoding: how the mock recognises an image."""
    thumb = to_rgb(image).resize((8, 8), Image.Resampling.BOX)
    return list(thumb.tobytes())  # row-major R, G, B bytes


def fingerprint_distance(a: list[int], b: list[int]) -> float:
    """Mean absolute difference of two fingerprints (0 = identical, 255 = opposite)."""
    return sum(abs(x - y) for x, y in zip(a, b)) / max(len(a), 1)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    return sha256_bytes(read_bytes(path))


def fitzpatrick_type(path: str | os.PathLike) -> str | None:
    """The Fitzpatrick type (``"I"`` .. ``"VI"``) from a name like ``lesion-03_fitzpatrick-IV_irregular.png``."""
    match = _FITZPATRICK.search(Path(path).name)
    return match.group(1).upper() if match else None


# Truncated files are refused rather than half-decoded.
ImageFile.LOAD_TRUNCATED_IMAGES = False
