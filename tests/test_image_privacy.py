"""What leaves the machine: pixels only. No GPS, device, timestamps, comments or XMP reach the endpoint,
and the review log keeps a SHA-256, never the image."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import corpus
import pytest
from PIL import Image

from helpers import assessment, classify, endpoint, images, state, triage
from helpers.core import aws
from helpers.core.config import NOTEBOOKS_DIR
from helpers.mock import control
from helpers.models import SKIN_VIT_ID


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return corpus.build(tmp_path_factory.mktemp("privacy-corpus"))


@pytest.fixture
def recording(mock_aws):
    """The mock keeps every request body it receives (only when asked: it is off by default)."""
    url = aws.endpoint_url()
    assert control(url, "requests")["record"] is False
    control(url, "requests", {"record": True})
    yield lambda: control(url, "requests")["requests"]
    control(url, "requests", {"record": False})
    control(url, "requests", method="DELETE")


@pytest.fixture
def skin_endpoint(mock_aws):
    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_VIT_ID)
    return info


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every JPEG segment before the image data."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    segments, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF, f"bad marker at {i}"
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: metadata only comes before it
            break
        length = int.from_bytes(data[i + 2:i + 4], "big")
        segments.append((marker, data[i + 4:i + 2 + length]))
        i += 2 + length
    return segments


def sent_images(requests: list[dict]) -> list[bytes]:
    images = []
    for request in requests:
        assert request["content_type"] == "application/json"
        body = json.loads(base64.b64decode(request["body_b64"]))
        images.append(base64.b64decode(body["inputs"]))
    return images


def webp_chunks(data: bytes) -> list[bytes]:
    """The four-letter ids of a WebP file's RIFF chunks (metadata would be VP8X + EXIF / XMP  / ICCP)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", "not a WebP"
    assert int.from_bytes(data[4:8], "little") + 8 == len(data), "RIFF size does not cover the file"
    chunks, i = [], 12
    while i < len(data):
        chunk, size = data[i:i + 4], int.from_bytes(data[i + 4:i + 8], "little")
        chunks.append(chunk)
        i += 8 + size + (size & 1)
    return chunks


def assert_pixels_only(sent: bytes) -> None:
    if sent[:4] == b"RIFF":  # what the pack sends: lossless WebP, one image chunk and nothing else
        assert webp_chunks(sent) == [b"VP8L"], f"metadata chunks sent: {webp_chunks(sent)}"
    else:
        markers = [marker for marker, _ in jpeg_segments(sent)]
        assert 0xE1 not in markers, "APP1 (EXIF or XMP) sent"
        assert 0xE2 not in markers, "APP2 (ICC profile) sent"
        assert 0xFE not in markers, "a JPEG comment sent"
        assert not [m for m in markers if 0xE1 <= m <= 0xEF], "application segments sent"
    image = Image.open(io.BytesIO(sent))
    exif = image.getexif()
    assert len(exif) == 0 and not exif.get_ifd(0x8825), "EXIF / GPS IFD sent"
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
    for secret in (b"Exif", b"xmpmeta", corpus.DEVICE[0].encode(), corpus.DEVICE[1].encode(), b"2024:05:01", corpus.COMMENT):
        assert secret not in sent


def test_the_webp_check_sees_metadata():
    """assert_pixels_only must fail on a WebP that carries EXIF or a colour profile (Pillow writes them when asked)."""
    image = Image.new("RGB", (8, 8), (200, 100, 50))
    exif = Image.Exif()
    exif[0x010F] = corpus.DEVICE[0]
    for extra in ({"exif": exif.tobytes()}, {"icc_profile": b"\0" * 200}):
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", lossless=True, **extra)
        with pytest.raises(AssertionError):
            assert_pixels_only(buffer.getvalue())


@pytest.mark.parametrize("key", ["gps", "gps_png"])
def test_no_gps_or_device_data_reaches_the_endpoint(skin_endpoint, recording, cases, key):
    original = cases[key].path.read_bytes()
    source = Image.open(cases[key].path)
    assert source.getexif().get_ifd(0x8825)[2] == corpus.GPS_LATITUDE  # the test photo really carries a position
    assert corpus.DEVICE[0].encode() in original and corpus.COMMENT in original

    result = classify.classify(cases[key].path)
    (sent,) = sent_images(recording())
    assert_pixels_only(sent)
    assert hashlib.sha256(sent).hexdigest() == result.sha256  # the hash we keep is of exactly what was sent
    # the picture itself is intact: exactly the pixels the skin model's processor would have made of the file
    expected = images.fit_to_model(images.load_image(cases[key].path), triage.MODEL.geometry)
    assert Image.open(io.BytesIO(sent)).convert("RGB").tobytes() == expected.tobytes()


def test_exif_orientation_is_applied_before_it_is_dropped(skin_endpoint, recording, cases):
    classify.classify(cases["exif_rotated"].path)
    (sent,) = sent_images(recording())
    image = Image.open(io.BytesIO(sent)).convert("RGB")
    assert triage.MODEL.geometry.payload_size(400, 200) == (400, 200)  # too small to shrink for the ViT: sent whole
    corpus._upright(image)  # stored 200x400 on its side; what leaves the machine is 400x200, red left, blue right


def test_recording_is_off_unless_asked(skin_endpoint, cases):
    classify.classify(cases["grey"].path)
    log = control(aws.endpoint_url(), "requests")
    assert log == {"record": False, "requests": []}


def test_review_log_keeps_a_hash_and_no_image(skin_endpoint, recording, cases, tmp_path):
    work = tmp_path / "work"
    classification = assessment.assess(cases["gps"].path, threshold=0.0, note="synthetic test image", work_dir=work).classification
    (sent,) = sent_images(recording())
    log = triage.ReviewLog(work)
    text = log.path.read_text(encoding="utf-8")
    row = log.read().iloc[-1]
    assert row.image_sha256 == hashlib.sha256(sent).hexdigest() == classification.sha256
    assert len(text) < 1000  # a row of text, not an image
    assert cases["gps"].path.name not in text and "phone-photo" not in text
    assert not re.search(r"[A-Za-z0-9+/=]{100,}", text), "something base64-like is stored"
    for needle in (base64.b64encode(sent[:30]).decode()[:20], "/9j/", "UklGR", corpus.DEVICE[0]):
        assert needle not in text
    # nothing in the work folder holds image bytes
    for path in work.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"\xff\xd8\xff" not in data and b"\x89PNG" not in data and b"/9j/" not in data, path
            assert b"WEBPVP8" not in data and b"UklGR" not in data, path


@pytest.mark.parametrize("notebook", ["03_skin_proxies.ipynb", "04_derm_assist_mvp.ipynb"])
def test_notebooks_warn_never_to_upload_real_patient_images(notebook):
    nb = json.loads((NOTEBOOKS_DIR / notebook).read_text())
    markdown = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Never upload real patient images" in markdown
