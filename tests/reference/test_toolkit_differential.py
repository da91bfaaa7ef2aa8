"""The mock answers every request as the real Hugging Face inference toolkit does.

Each case is sent to the real toolkit (Multi Model Server + the toolkit's handler service + transformers' pipeline,
tiny models in the registry's label spaces; see conftest.py) over HTTP, and to the mock through boto3's
InvokeEndpoint. What SageMaker shows the client is derived from the container's answer: a 200 is the body and its
Content-Type; any other status is botocore's ``ModelError`` carrying the container's status and body. Both sides
must give the same outcome: success with the same content type, shape, label count and set, and score order (the
scores differ: the mock's stand-ins are not the tiny models), or the same error with the same message (object
addresses aside).

Run alone: ``make reference-test`` (or ``pytest tests/reference -m reference``).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import struct
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image

from helpers import models
from helpers.core.config import FUN_IMAGES_DIR, REALTIME_PAYLOAD_LIMIT
from helpers.mock import recordings

pytestmark = pytest.mark.reference

IMAGENET, SKIN = models.MOBILENET_V2_ID, models.SKIN_VIT_ID


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


PHOTO = Image.radial_gradient("L").resize((320, 240)).convert("RGB")
# A shipped photo as the endpoint receives it: the mock answers it from its recording (the whole distribution).
RECORDED = encode(recordings.decoded_payload(FUN_IMAGES_DIR / "dog.jpg"), "PNG")
JPEG = encode(PHOTO, "JPEG")
PNG = encode(PHOTO, "PNG")
B64 = base64.b64encode(JPEG).decode()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` but holds almost no data (Pillow reads the size first)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, image=np.zeros((4, 4, 3), dtype=np.uint8))
    return buffer.getvalue()


def js(payload) -> bytes:
    return json.dumps(payload).encode()


@dataclass
class Case:
    id: str
    body: bytes
    content_type: str | None = "image/jpeg"
    accept: str | None = None
    model: str = IMAGENET
    stand_in: str | None = None  # the mock's stand-in that must answer (its CustomAttributes say which)


URL_IMAGE = "{url_image}"  # replaced by the address of a local server holding JPEG
URL_CLOSED = "http://127.0.0.1:9/photo.jpg"  # the discard port: nothing listens there

CASES = [
    # Content types: only exact matches of the toolkit's list are decoded.
    Case("ctype-jpeg", JPEG),
    Case("ctype-png", PNG, "image/png"),
    Case("ctype-tiff", encode(PHOTO, "TIFF"), "image/tiff"),
    Case("ctype-bmp", encode(PHOTO, "BMP"), "image/bmp"),
    Case("ctype-gif", encode(PHOTO, "GIF"), "image/gif"),
    Case("ctype-webp", encode(PHOTO, "WEBP"), "image/webp"),
    Case("ctype-x-image", PNG, "image/x-image"),
    Case("ctype-png-labelled-jpeg", PNG, "image/jpeg"),
    Case("ctype-charset-binary", JPEG, "image/jpeg; charset=binary"),
    Case("ctype-upper", JPEG, "IMAGE/JPEG"),
    Case("ctype-mixed-case", PNG, "Image/Png"),
    Case("ctype-application-x-image", JPEG, "application/x-image"),
    Case("ctype-image-jpg", JPEG, "image/jpg"),
    Case("ctype-octet-stream", JPEG, "application/octet-stream"),
    Case("ctype-text-plain", JPEG, "text/plain"),
    Case("ctype-json-upper", js({"inputs": B64}), "APPLICATION/JSON"),
    Case("ctype-json-charset", js({"inputs": B64}), "application/json; charset=utf-8"),
    # Image modes and oddities Pillow converts to RGB.
    Case("image-rgba-png", encode(Image.new("RGBA", (64, 64), (10, 20, 30, 0)), "PNG"), "image/png"),
    Case("image-grey-png", encode(Image.new("L", (64, 64), 90), "PNG"), "image/png"),
    Case("image-16bit-png", encode(Image.new("I;16", (64, 64), 3000), "PNG"), "image/png"),
    Case("image-cmyk-jpeg", encode(Image.new("CMYK", (64, 64), (0, 50, 100, 0)), "JPEG")),
    Case("image-tiny-1px", encode(Image.new("RGB", (1, 1), (200, 10, 10)), "PNG"), "image/png"),
    Case("image-3px-high", encode(Image.new("RGB", (300, 3), (200, 10, 10)), "PNG"), "image/png"),
    Case("image-1px-wide", encode(Image.new("RGB", (1, 300), (200, 10, 10)), "PNG"), "image/png"),
    Case("image-large-ok", encode(Image.new("RGB", (4000, 3000), (120, 130, 140)), "JPEG")),
    # Broken bodies.
    Case("broken-text-as-jpeg", b"this is not an image"),
    Case("broken-truncated-jpeg", JPEG[: len(JPEG) // 2]),
    Case("broken-empty-png", b"", "image/png"),
    Case("broken-html-as-png", b"<html><body>403 Forbidden</body></html>", "image/png"),
    # Size: Pillow's decompression-bomb limit in the container (twice 89,478,485 pixels).
    Case("pixels-over-bomb-limit", png_header(14000, 13000), "image/png"),
    Case("pixels-far-over-bomb-limit", png_header(20000, 15000), "image/png"),
    Case("pixels-over-limit-in-json", js({"inputs": base64.b64encode(png_header(20000, 15000)).decode()}), "application/json"),
    # Accept: missing or */* is JSON; text/csv and application/x-npy encode; the rest is refused.
    Case("accept-any", JPEG, accept="*/*"),
    Case("accept-json", JPEG, accept="application/json"),
    Case("accept-csv", JPEG, accept="text/csv"),
    Case("accept-npy", JPEG, accept="application/x-npy"),
    Case("accept-png", JPEG, accept="image/png"),
    Case("accept-xml", JPEG, accept="application/xml"),
    Case("accept-json-charset", JPEG, accept="application/json; charset=utf-8"),
    Case("accept-json-upper", JPEG, accept="APPLICATION/JSON"),
    Case("accept-csv-top-k-0", js({"inputs": B64, "parameters": {"top_k": 0}}), "application/json", "text/csv"),
    Case("accept-csv-list", js({"inputs": [B64, B64]}), "application/json", "text/csv"),
    # JSON "inputs" forms (transformers' load_image).
    Case("inputs-base64", js({"inputs": B64}), "application/json"),
    Case("inputs-base64-newlines", js({"inputs": base64.encodebytes(JPEG).decode()}), "application/json"),
    Case("inputs-base64-urlsafe", js({"inputs": base64.urlsafe_b64encode(JPEG).decode()}), "application/json"),
    Case("inputs-base64-bad-padding", js({"inputs": "abc"}), "application/json"),
    Case("inputs-base64-not-image", js({"inputs": base64.b64encode(b"hello world!").decode()}), "application/json"),
    Case("inputs-data-uri", js({"inputs": "data:image/jpeg;base64," + B64}), "application/json"),
    Case("inputs-data-uri-png", js({"inputs": "data:image/png;base64," + base64.b64encode(PNG).decode()}), "application/json"),
    Case("inputs-data-uri-no-comma", js({"inputs": "data:image/png"}), "application/json"),
    Case("inputs-url", js({"inputs": URL_IMAGE}), "application/json"),
    Case("inputs-url-unreachable", js({"inputs": URL_CLOSED}), "application/json"),
    Case("inputs-url-not-an-image", js({"inputs": URL_IMAGE + "?text"}), "application/json"),
    Case("inputs-list", js({"inputs": [B64, B64]}), "application/json"),
    Case("inputs-list-top-k", js({"inputs": [B64, B64], "parameters": {"top_k": 2}}), "application/json"),
    Case("inputs-empty-list", js({"inputs": []}), "application/json"),
    Case("inputs-nested-list", js({"inputs": [[B64]]}), "application/json"),
    Case("inputs-list-with-number", js({"inputs": [B64, 5]}), "application/json"),
    Case("inputs-number", js({"inputs": 5}), "application/json"),
    Case("inputs-null", js({"inputs": None}), "application/json"),
    Case("inputs-object", js({"inputs": {"image": B64}}), "application/json"),
    Case("inputs-missing", js({"image": B64}), "application/json"),
    Case("inputs-empty-string", js({"inputs": ""}), "application/json"),
    # Parameters of the image-classification pipeline.
    Case("top-k-3", js({"inputs": B64, "parameters": {"top_k": 3}}), "application/json"),
    Case("top-k-0", js({"inputs": B64, "parameters": {"top_k": 0}}), "application/json"),
    Case("top-k-minus-1", js({"inputs": B64, "parameters": {"top_k": -1}}), "application/json"),
    Case("top-k-minus-5000", js({"inputs": B64, "parameters": {"top_k": -5000}}), "application/json"),
    Case("top-k-null", js({"inputs": B64, "parameters": {"top_k": None}}), "application/json"),
    Case("top-k-true", js({"inputs": B64, "parameters": {"top_k": True}}), "application/json"),
    Case("top-k-false", js({"inputs": B64, "parameters": {"top_k": False}}), "application/json"),
    Case("top-k-all", js({"inputs": B64, "parameters": {"top_k": len(models.MOBILENET_V2.labels)}}), "application/json"),
    Case("top-k-huge", js({"inputs": B64, "parameters": {"top_k": 5000}}), "application/json"),
    Case("top-k-string", js({"inputs": B64, "parameters": {"top_k": "3"}}), "application/json"),
    Case("top-k-float", js({"inputs": B64, "parameters": {"top_k": 2.5}}), "application/json"),
    Case("top-k-list", js({"inputs": B64, "parameters": {"top_k": [1]}}), "application/json"),
    Case("topk-misspelled", js({"inputs": B64, "parameters": {"topk": 3}}), "application/json"),
    Case("function-sigmoid", js({"inputs": B64, "parameters": {"function_to_apply": "sigmoid"}}), "application/json"),
    Case("function-none", js({"inputs": B64, "parameters": {"function_to_apply": "none"}}), "application/json"),
    Case("function-softmax-upper", js({"inputs": B64, "parameters": {"function_to_apply": "SOFTMAX"}}), "application/json"),
    Case("function-bogus", js({"inputs": B64, "parameters": {"function_to_apply": "bogus"}}), "application/json"),
    Case("function-number", js({"inputs": B64, "parameters": {"function_to_apply": 5}}), "application/json"),
    Case("param-timeout", js({"inputs": B64, "parameters": {"timeout": 5}}), "application/json"),
    Case("param-images", js({"inputs": "ignored", "parameters": {"images": B64}}), "application/json"),
    Case("param-num-workers", js({"inputs": B64, "parameters": {"num_workers": 0}}), "application/json"),
    Case("param-batch-size", js({"inputs": [B64, B64], "parameters": {"batch_size": 2}}), "application/json"),
    Case("parameters-empty", js({"inputs": B64, "parameters": {}}), "application/json"),
    Case("parameters-null", js({"inputs": B64, "parameters": None}), "application/json"),
    Case("parameters-list", js({"inputs": B64, "parameters": [1]}), "application/json"),
    Case("parameters-string", js({"inputs": B64, "parameters": "top_k=3"}), "application/json"),
    Case("parameters-before-image", js({"inputs": "not base64!", "parameters": {"topk": 1}}), "application/json"),
    # JSON bodies that are not a request.
    Case("json-malformed", b"{not json", "application/json"),
    Case("json-empty-body", b"", "application/json"),
    Case("json-top-level-list", js([B64]), "application/json"),
    Case("json-top-level-string", js(B64), "application/json"),
    Case("json-top-level-number", b"42", "application/json"),
    Case("json-null", b"null", "application/json"),
    Case("json-not-utf8", b"\xff\xfe{}", "application/json"),
    # CSV bodies (a header row naming inputs; each row one image).
    Case("csv-inputs", f"inputs\n{B64}\n".encode(), "text/csv"),
    Case("csv-two-rows", f"inputs\n{B64}\n{B64}\n".encode(), "text/csv"),
    Case("csv-header-only", b"inputs\n", "text/csv"),
    Case("csv-no-header", b"a,b\n1,2\n", "text/csv"),
    Case("csv-question-column", b"question\nwhat is this\n", "text/csv"),
    Case("csv-empty", b"", "text/csv"),
    Case("csv-raw-jpeg", JPEG, "text/csv"),
    # NumPy bodies decode, but an array is not a request the handler can read.
    Case("npy-array", npy(np.zeros((4, 4, 3), dtype=np.uint8)), "application/x-npy"),
    Case("npy-garbage", b"hello", "application/x-npy"),
    Case("npy-empty", b"", "application/x-npy"),
    Case("npz-archive", npz(), "application/x-npy"),
    # Replayed recordings answer in MobileNetV2's 1,001 labels, for any top_k.
    Case("recorded-raw", RECORDED, "image/png", stand_in="recording"),
    Case("recorded-top-k-all", js({"inputs": base64.b64encode(RECORDED).decode(), "parameters": {"top_k": 1001}}),
         "application/json", stand_in="recording"),
    Case("recorded-top-k-minus-1", js({"inputs": base64.b64encode(RECORDED).decode(), "parameters": {"top_k": -1}}),
         "application/json", stand_in="recording"),
    Case("recorded-top-k-50-csv", js({"inputs": base64.b64encode(RECORDED).decode(), "parameters": {"top_k": 50}}),
         "application/json", "text/csv", stand_in="recording"),
    # The skin ViT: 7 labels.
    Case("skin-jpeg", JPEG, model=SKIN),
    Case("skin-top-k-all", js({"inputs": B64, "parameters": {"top_k": 7}}), "application/json", model=SKIN),
    Case("skin-top-k-huge", js({"inputs": B64, "parameters": {"top_k": 50}}), "application/json", model=SKIN),
    Case("skin-top-k-minus-1", js({"inputs": B64, "parameters": {"top_k": -1}}), "application/json", model=SKIN),
    Case("skin-function-none", js({"inputs": B64, "parameters": {"function_to_apply": "none", "top_k": 7}}), "application/json",
         model=SKIN),
    Case("skin-accept-csv", JPEG, accept="text/csv", model=SKIN),
    Case("skin-application-x-image", JPEG, "application/x-image", model=SKIN),
]


@dataclass
class Outcome:
    """What the client sees: ("ok", content type, body) or ("ModelError", container status, container body)."""

    kind: str
    detail: str | int
    body: bytes
    attributes: str = ""


@pytest.fixture(scope="module")
def image_url():
    """A local web server holding one JPEG, for the ``inputs``-as-URL case (both sides fetch it)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = b"<html>not an image</html>" if self.path.endswith("?text") else JPEG
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/photo.jpg"
    server.shutdown()


def real_outcome(port: int, body: bytes, content_type: str | None, accept: str | None) -> Outcome:
    import urllib.error
    import urllib.request

    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if accept is not None:
        headers["Accept"] = accept
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return Outcome("ok", response.headers.get("Content-Type"), response.read())
    except urllib.error.HTTPError as exc:
        return Outcome("ModelError", exc.code, exc.read())


def mock_outcome(runtime, endpoint: str, body: bytes, content_type: str | None, accept: str | None) -> Outcome:
    kwargs = {"EndpointName": endpoint, "Body": body}
    if content_type is not None:
        kwargs["ContentType"] = content_type
    if accept is not None:
        kwargs["Accept"] = accept
    try:
        response = runtime.invoke_endpoint(**kwargs)
    except ClientError as exc:
        error = exc.response
        assert error["Error"]["Code"] == "ModelError", error["Error"]
        status, original = error["OriginalStatusCode"], error["OriginalMessage"]
        expected = f"Received {'client' if status < 500 else 'server'} error ({status}) from primary with message \"{original}\"."
        assert error["Error"]["Message"].startswith(expected[:-1]), error["Error"]["Message"]
        return Outcome("ModelError", status, original.encode())
    return Outcome("ok", response["ContentType"], response["Body"].read(), response.get("CustomAttributes", ""))


def _normalise(body: str) -> str:
    """An error body with what depends on the process, not on the container's rules, made neutral: object
    addresses, and how the installed urllib3 spells a connection in its errors (``HTTPConnection(host='h', port=9)``
    in urllib3 2.x vs ``<urllib3.connection.HTTPConnection object at 0x...>`` in older releases, such as Studio's),
    with the quotes its repr then picks."""
    payload = json.loads(body)
    message = re.sub(r"0x[0-9a-f]+", "0x?", str(payload.get("message", "")))
    connection = r"(<urllib3\.connection\.HTTPS?Connection object at 0x\?>|HTTPS?Connection\(host='[^']*', port=\d+\))"
    if re.search(connection, message):
        message = re.sub(connection, "HTTPConnection(...)", message).replace('"', "'")
    return json.dumps({**payload, "message": message}, sort_keys=True)


def _parsed(outcome: Outcome):
    content_type = outcome.detail
    if content_type == "text/csv":
        text = outcome.body.decode()
        assert "\r\n" in text, "CSV rows end with CRLF (csv.DictWriter)"
        rows = list(csv.DictReader(io.StringIO(text)))
        return [{"label": row["label"], "score": float(row["score"])} for row in rows]
    if content_type == "application/x-npy":
        return np.load(io.BytesIO(outcome.body), allow_pickle=True).tolist()
    return json.loads(outcome.body)


def _check_ranking(predictions: list, labels: tuple[str, ...], where: str) -> None:
    assert all(set(p) == {"label", "score"} for p in predictions), f"{where}: every answer is {{label, score}}"
    assert all(p["label"] in labels for p in predictions), (
        f"{where}: labels outside the model's label space (a placeholder answers offline without the 'offline' extra)")
    scores = [p["score"] for p in predictions]
    assert scores == sorted(scores, reverse=True), f"{where}: not sorted by score"
    if len(predictions) == len(labels):
        assert sorted(p["label"] for p in predictions) == sorted(labels), f"{where}: not the whole label space"


def assert_same(case: Case, real: Outcome, mock: Outcome) -> None:
    assert (mock.kind, mock.detail) == (real.kind, real.detail), (
        f"{case.id}: the real toolkit gives {real.kind} {real.detail} ({real.body[:300]!r}); the mock gives "
        f"{mock.kind} {mock.detail} ({mock.body[:300]!r})")
    if real.kind == "ModelError":
        real_body, mock_body = real.body.decode(), mock.body.decode()
        assert json.loads(mock_body).keys() == json.loads(real_body).keys()
        assert _normalise(mock_body) == _normalise(real_body), f"{case.id}: messages differ"
        return
    labels = models.get(case.model).labels
    real_answer, mock_answer = _parsed(real), _parsed(mock)
    assert type(mock_answer) is type(real_answer) and len(mock_answer) == len(real_answer), (
        f"{case.id}: shapes differ: real {len(real_answer)} answers, mock {len(mock_answer)}")
    nested = bool(real_answer) and isinstance(real_answer[0], list)
    pairs = list(zip(real_answer, mock_answer)) if nested else [(real_answer, mock_answer)]
    for real_one, mock_one in pairs:
        assert isinstance(mock_one, list) and len(mock_one) == len(real_one), f"{case.id}: answer lengths differ"
        _check_ranking(real_one, labels, f"{case.id} (real)")
        _check_ranking(mock_one, labels, f"{case.id} (mock)")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_mock_answers_as_the_real_toolkit(case, toolkit_servers, mock_endpoints, image_url):
    names, runtime = mock_endpoints
    body = case.body.replace(URL_IMAGE.encode(), image_url.encode())
    real = real_outcome(toolkit_servers[case.model], body, case.content_type, case.accept)
    mock = mock_outcome(runtime, names[case.model], body, case.content_type, case.accept)
    assert_same(case, real, mock)
    if case.stand_in:
        assert f"stand-in={case.stand_in};" in mock.attributes, mock.attributes


def test_payload_over_the_realtime_limit_is_sagemakers_413_before_the_container(mock_endpoints):
    """SageMaker refuses a body over 6 MB itself (the container never sees it), so there is no reference answer."""
    names, runtime = mock_endpoints
    with pytest.raises(ClientError) as info:
        runtime.invoke_endpoint(EndpointName=names[IMAGENET], Body=b"\xff" * (REALTIME_PAYLOAD_LIMIT + 1), ContentType="image/jpeg")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_the_matrix_covers_every_content_type_the_toolkit_decodes():
    from helpers.mock import toolkit

    sent = {case.content_type for case in CASES}
    assert set(toolkit.ACCEPTED_IMAGE_TYPES) | set(toolkit.ACCEPTED_OTHER_TYPES) <= sent
    assert {"text/csv", "application/x-npy", "image/png", "application/xml"} <= {case.accept for case in CASES}
