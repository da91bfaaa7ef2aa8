"""The mock's container rules (helpers/mock/toolkit.py) without the reference environment.

tests/reference checks the same rules against the real toolkit; these keep the core ones testable everywhere.
"""

import base64
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from helpers.mock import toolkit

LABELS = ("a", "b", "c", "d", "e", "f", "g")


def model(image):
    return toolkit.Distribution(LABELS, [0.05, 0.3, 0.1, 0.2, 0.15, 0.12, 0.08], "test", "fixed scores")


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


def ask(parameters=None, accept=None, inputs=None):
    body = {"inputs": inputs if inputs is not None else base64.b64encode(jpeg()).decode()}
    if parameters is not None:
        body["parameters"] = parameters
    return toolkit.handle(json.dumps(body).encode(), "application/json", accept, model)


def test_default_is_the_top_5_sorted():
    answer = json.loads(ask().body)
    assert [p["label"] for p in answer] == ["b", "d", "e", "f", "c"]


@pytest.mark.parametrize(("top_k", "count"), [(0, 0), (-1, 6), (None, 5), (True, 1), (3, 3), (500, 7), (-500, 0)])
def test_top_k_is_python_slicing_capped_at_the_labels(top_k, count):
    assert len(ask({"top_k": top_k}).predictions) == count


@pytest.mark.parametrize(("parameters", "message"), [
    ({"topk": 3}, "unexpected keyword argument 'topk'"),
    ({"top_k": "3"}, "'>' not supported between instances of 'str' and 'int'"),
    ({"function_to_apply": "bogus"}, "bogus is not a valid ClassificationFunction"),
    ([1], "argument after ** must be a mapping, not list"),
])
def test_refused_parameters_are_client_errors_with_the_pipelines_message(parameters, message):
    with pytest.raises(toolkit.ContainerError) as info:
        ask(parameters)
    assert message in str(info.value) and info.value.status == 400


@pytest.mark.parametrize("content_type", ["image/jpeg; charset=binary", "IMAGE/JPEG", "image/jpg", "application/x-image"])
def test_content_types_match_exactly(content_type):
    with pytest.raises(toolkit.ContainerError, match="is not supported by this framework"):
        toolkit.handle(jpeg(), content_type, None, model)


def test_accept_csv_and_lists_of_inputs():
    response = ask({"top_k": 2}, accept="text/csv")
    assert response.content_type == "text/csv" and response.body.decode() == "label,score\r\nb,0.3\r\nd,0.2\r\n"
    b64 = base64.encodebytes(jpeg()).decode()  # line breaks are skipped, as transformers does
    assert [len(one) for one in ask({"top_k": 1}, inputs=[b64, "data:image/jpeg;base64," + b64]).predictions] == [1, 1]
    with pytest.raises(toolkit.ContainerError, match="application/xml is not supported"):
        ask(accept="application/xml")


def test_pixel_limit_is_pillows_default_not_the_packs():
    width, height = 20000, 15000  # 300 MP: above Pillow's 179 MP bomb limit, below the pack's own raised limit
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))  # declares the size, holds no pixels
    with pytest.raises(toolkit.ContainerError, match="exceeds limit of 178956970 pixels"):
        toolkit.handle(data, "image/png", None, model)


def test_error_body_is_multi_model_servers():
    body = toolkit.error_body("can't use <x=1>")
    assert body == '{\n  "code": 400,\n  "type": "InternalServerException",\n  "message": "can\\u0027t use \\u003cx\\u003d1\\u003e"\n}\n'
    assert json.loads(body)["message"] == "can't use <x=1>"
