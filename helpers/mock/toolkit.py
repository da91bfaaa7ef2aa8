"""How the Hugging Face inference toolkit treats an ``image-classification`` request.

Mirrors aws/sagemaker-huggingface-inference-toolkit: which content types it accepts, how it decodes
the body, what ``top_k`` does, and how its failures look to the client (HTTP 400 from the container,
which SageMaker wraps as ``ModelError``).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

ACCEPTED_IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/tiff", "image/bmp", "image/gif", "image/webp", "image/x-image"}
)
ACCEPTED_OTHER_TYPES = frozenset({"application/json", "text/csv", "application/x-npy"})
DEFAULT_TOP_K = 5


class ContainerError(Exception):
    """A failure inside the model container: the toolkit answers HTTP 400 with this message."""


@dataclass
class DecodedRequest:
    image: Image.Image
    top_k: int


def _content_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def decode_request(body: bytes, content_type: str | None) -> DecodedRequest:
    """Decode an invocation body the way the toolkit does, or raise :class:`ContainerError`."""
    ctype = _content_type(content_type)
    if ctype in ACCEPTED_IMAGE_TYPES:
        return DecodedRequest(_open_image(body), DEFAULT_TOP_K)
    if ctype == "application/json":
        return _decode_json(body)
    if ctype in ACCEPTED_OTHER_TYPES:
        raise ContainerError(
            f"The image-classification pipeline cannot use {ctype} input: send the image bytes "
            "(image/jpeg, image/png) or JSON with a base64 image in \"inputs\"."
        )
    raise ContainerError(f"Content type {ctype or '(none)'} is not supported by this framework.")


def _decode_json(body: bytes) -> DecodedRequest:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContainerError(f"Could not decode JSON body: {exc}") from None
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise ContainerError('JSON body must be an object with "inputs" (a base64-encoded image).')
    parameters = payload.get("parameters") or {}
    top_k = parameters.get("top_k", DEFAULT_TOP_K)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
        raise ContainerError(f"top_k must be a positive integer, got {top_k!r}.")
    inputs = payload["inputs"]
    if not isinstance(inputs, str):
        raise ContainerError('"inputs" must be a base64-encoded image string.')
    try:
        raw = base64.b64decode(inputs, validate=True)
    except (binascii.Error, ValueError):
        raise ContainerError("Incorrect image source. Images must start with `http://` or `https://`, a valid path or a valid base64 string.") from None
    return DecodedRequest(_open_image(raw), top_k)


def _open_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ContainerError(f"cannot identify image file ({type(exc).__name__})") from None
    return image.convert("RGB")


def cap_top_k(top_k: int, n_labels: int) -> int:
    """The pipeline returns at most as many scores as the model has labels."""
    return max(1, min(top_k, n_labels))


def model_error_message(message: str, endpoint: str, region: str, account: str) -> str:
    """The text botocore's ``ModelError`` carries when the container answers 400."""
    inner = json.dumps({"code": 400, "type": "InternalServerException", "message": message})
    return (
        f"Received client error (400) from primary with message \"{inner}\". See "
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:"
        f"group=/aws/sagemaker/Endpoints/{endpoint} in account {account} for more information."
    )
