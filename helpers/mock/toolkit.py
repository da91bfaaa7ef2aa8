"""How the Hugging Face inference toolkit's container treats an ``image-classification`` request.

Every decision the mock makes about a request inside the "container" lives here, each one written after the code
it mirrors (aws/sagemaker-huggingface-inference-toolkit 2.6.0 ``handler_service.py`` / ``decoder_encoder.py``,
sagemaker-inference 1.10, transformers 4.51 ``ImageClassificationPipeline`` / ``image_utils.load_image``, Multi
Model Server's error body). ``tests/reference`` sends the same requests to the real toolkit and requires the same
outcome, so a rule here that drifts from the real code fails CI.

What the real code does, step by step (:func:`handle` follows the same steps):

1. ``Accept``: missing or ``*/*`` means ``application/json``; otherwise matched exactly (no parameters, case
   sensitive) against the encoders: ``application/json``, ``text/csv``, ``application/x-npy``; image types are
   "encoders" too but cannot encode a list of predictions. The response's ``Content-Type`` is the ``Accept`` value.
2. ``Content-Type`` is matched exactly against the decoders: ``image/jpeg|png|tiff|bmp|gif|webp|x-image`` (Pillow
   opens whatever the bytes are, then ``convert("RGB")``), ``application/json``, ``text/csv`` (a header row naming
   ``inputs``), ``application/x-npy`` (decodes, but an array is not a request the handler can read). Anything else
   -- ``image/jpg``, ``application/x-image``, ``application/octet-stream``, ``IMAGE/JPEG``,
   ``image/jpeg; charset=binary``, ``application/json; charset=utf-8`` -- is refused.
3. JSON and CSV bodies are UTF-8 decoded first; the decoded object must be an object; ``inputs`` is popped from it
   (the whole object when missing), ``parameters`` too and passed as keyword arguments to the pipeline, which knows
   ``top_k``, ``function_to_apply``, ``timeout`` (+ ``images``, ``batch_size``, ``num_workers``); any other name
   (``topk``) is an error.
4. Each input is loaded as transformers' ``load_image`` does: an ``http(s)://`` URL is fetched; ``data:image/...,``
   is cut at the comma; the rest is base64-decoded leniently (line breaks and other non-alphabet characters are
   skipped). A list of inputs answers a list of answers.
5. ``postprocess``: softmax (``function_to_apply`` ``sigmoid``/``none`` change the scores), sorted by score,
   ``top_k`` (default 5) applied with Python's slice: 0 gives ``[]``, -1 all but the last, ``true`` one; above the
   label count it is capped.
6. Any failure in steps 1-5 is HTTP 400 from the container with Multi Model Server's JSON error body, which
   SageMaker hands to the client as ``ModelError`` "Received client error (400) from primary with message ...".

Pillow's default decompression-bomb limit applies in the container (the pack itself raises Pillow's limit for the
photos it reads, see :mod:`helpers.images`, so the limit is checked here explicitly).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
ANY = "*/*"
ACCEPTED_IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff", "image/bmp", "image/gif", "image/webp", "image/x-image")
ACCEPTED_OTHER_TYPES = (JSON, CSV, NPY)
UTF8_TYPES = (JSON, CSV)
DEFAULT_TOP_K = 5
# The keyword arguments ImageClassificationPipeline.__call__ accepts (the base Pipeline's and _sanitize_parameters').
PIPELINE_PARAMETERS = ("top_k", "function_to_apply", "timeout", "images", "batch_size", "num_workers")
CLASSIFICATION_FUNCTIONS = ("sigmoid", "softmax", "none")
# Pillow's default Image.MAX_IMAGE_PIXELS; an image of more than twice this is refused as a decompression bomb.
CONTAINER_MAX_IMAGE_PIXELS = int(1024 * 1024 * 1024 // 4 // 3)
# How an object's repr looks in the container's messages (the address differs on every call there too).
_PIPELINE_REPR = "<transformers.pipelines.image_classification.ImageClassificationPipeline object at 0x7f5e2c3d4e50>"
_STREAM_REPR = "<_io.BytesIO object at 0x7f5e2c3d4f10>"


class ContainerError(Exception):
    """A failure inside the model container: the toolkit answers HTTP 400 with this message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Distribution:
    """A stand-in model's answer for one image: a probability for every label of the model, in label order."""

    labels: Sequence[str]
    probabilities: Sequence[float]
    stand_in: str
    note: str


@dataclass
class ContainerResponse:
    body: bytes
    content_type: str
    predictions: Any  # what was encoded: a list of {"label", "score"}, or a list of such lists
    answers: list[Distribution] = field(default_factory=list)


Model = Callable[[Image.Image], Distribution]


def unsupported(content_type: str | None) -> str:
    """sagemaker_inference.errors.UnsupportedFormatError's message (also used for an Accept it cannot encode)."""
    return (f"Content type {content_type} is not supported by this framework.\n\n"
            "            Please implement input_fn to to deserialize the request data or an output_fn to\n"
            "            serialize the response. For more information, see the SageMaker Python SDK README.")


def handle(body: bytes, content_type: str | None, accept: str | None, model: Model) -> ContainerResponse:
    """Answer one ``/invocations`` request as the toolkit's handler service does, or raise :class:`ContainerError`."""
    try:
        return _handle(body, content_type, accept, model)
    except ContainerError:
        raise
    except Exception as exc:  # noqa: BLE001 - the toolkit turns every exception into a 400 with its text
        raise ContainerError(str(exc)) from None


def _handle(body: bytes, content_type: str | None, accept: str | None, model: Model) -> ContainerResponse:
    if not accept or accept == ANY:
        accept = JSON
    data: Any = body
    if content_type in UTF8_TYPES:
        data = body.decode("utf-8")
    data = _decode(data, content_type)
    answers: list[Distribution] = []
    predictions = _predict(data, lambda image: _remember(model(image), answers))
    return ContainerResponse(_encode(predictions, accept), accept, predictions, answers)


def _remember(answer: Distribution, answers: list[Distribution]) -> Distribution:
    answers.append(answer)
    return answer


# --- decoding (decoder_encoder.decode) ---------------------------------------------------------------


def _decode(data: Any, content_type: str | None) -> Any:
    if content_type in ACCEPTED_IMAGE_TYPES:
        return {"inputs": _open_image(data)}
    if content_type == JSON:
        return json.loads(data)
    if content_type == CSV:
        return _decode_csv(data)
    if content_type == NPY:
        return _decode_npy(data)
    raise ContainerError(unsupported(content_type))


def _decode_csv(text: str) -> dict:
    if not any(header in text.splitlines()[0].lower() for header in ("question", "context", "inputs")):
        raise ContainerError("You need to provide the correct CSV with Header columns to use it with the inference "
                             "toolkit default handler. : 400")
    rows = list(csv.DictReader(io.StringIO(text)))
    if "inputs" in rows[0].keys():
        return {"inputs": [row["inputs"] for row in rows]}
    return {"inputs": rows}


class _NotADict:
    """What np.load returns for a valid .npy body: an array, which has no ``pop`` (the handler's next step)."""


def _decode_npy(data: bytes) -> Any:
    import numpy as np

    if data.startswith(b"PK\x03\x04"):  # np.load opens a .npz archive, which has no pop either
        raise ContainerError("'NpzFile' object has no attribute 'pop'")
    try:  # never unpickle a request body here; the container does, then fails on the array all the same
        np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise
        if not data.startswith(b"\x93NUMPY"):  # np.load would try to unpickle it, and fail
            raise ContainerError(f"Failed to interpret file {_STREAM_REPR} as a pickle") from None
    return _NotADict()


def _open_image(data: bytes) -> Image.Image:
    """decoder_encoder.decode_image: ``Image.open(BytesIO(body)).convert("RGB")``."""
    return _check_pixels(_open(data)).convert("RGB")


def _open(data: bytes) -> Image.Image:
    stream = io.BytesIO(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(stream)
        except Image.DecompressionBombError as exc:  # above the pack's own (higher) limit: say the container's
            pixels = re.search(r"\((\d+) pixels\)", str(exc))
            raise Image.DecompressionBombError(_bomb_message(int(pixels.group(1)) if pixels else 0)) from None
        except Exception as exc:  # noqa: BLE001 - Pillow's message, with the stream's repr as on the container
            raise type(exc)(str(exc).replace(repr(stream), _STREAM_REPR)) from None


def _bomb_message(pixels: int) -> str:
    return (f"Image size ({pixels} pixels) exceeds limit of {2 * CONTAINER_MAX_IMAGE_PIXELS} pixels, could be "
            "decompression bomb DOS attack.")


def _check_pixels(image: Image.Image) -> Image.Image:
    pixels = image.size[0] * image.size[1]
    if pixels > 2 * CONTAINER_MAX_IMAGE_PIXELS:
        raise Image.DecompressionBombError(_bomb_message(pixels))
    return image


def _check_processor_input(image: Image.Image) -> Image.Image:
    """The image processor guesses the channel axis of the (height, width, 3) array: a height of 1 or 3 reads as
    channels-first (transformers' infer_channel_dimension_format), and a 1-pixel-high image then fails."""
    if image.size[1] == 1:
        raise ContainerError("mean must have 1 elements if it is an iterable, got 3")
    return image


# --- the pipeline call (handler_service.predict + ImageClassificationPipeline) ----------------------------


def _predict(data: Any, model: Model) -> Any:
    if isinstance(data, _NotADict):
        raise ContainerError("'numpy.ndarray' object has no attribute 'pop'")
    if isinstance(data, list):
        raise ContainerError("pop expected at most 1 argument, got 2")
    if not isinstance(data, dict):
        raise ContainerError(f"'{type(data).__name__}' object has no attribute 'pop'")
    inputs = data.pop("inputs", data)
    parameters = data.pop("parameters", None)
    if parameters is None:
        parameters = {}
    elif not isinstance(parameters, dict):
        raise ContainerError(f"{_PIPELINE_REPR} argument after ** must be a mapping, not {type(parameters).__name__}")
    for name in parameters:
        if name not in PIPELINE_PARAMETERS:
            raise ContainerError(f"ImageClassificationPipeline._sanitize_parameters() got an unexpected keyword argument '{name}'")
    parameters = dict(parameters)
    if "images" in parameters:
        inputs = parameters.pop("images")
    if inputs is None:
        raise ContainerError("Cannot call the image-classification pipeline without an inputs argument!")
    function = parameters.get("function_to_apply")
    if isinstance(function, str):
        function = function.lower()
        if function not in CLASSIFICATION_FUNCTIONS:
            raise ContainerError(f"{function} is not a valid ClassificationFunction, please select one of "
                                 f"{list(CLASSIFICATION_FUNCTIONS)}")
    top_k = parameters.get("top_k")
    timeout = parameters.get("timeout")

    def one(item: Any) -> list[dict]:
        answer = model(_check_processor_input(load_image(item, timeout)))
        return postprocess(answer, function, DEFAULT_TOP_K if top_k is None else top_k)

    if isinstance(inputs, (list, tuple)):
        return [one(item) for item in inputs]
    return one(inputs)


def load_image(image: Any, timeout: Any = None) -> Image.Image:
    """transformers.image_utils.load_image for what a request can carry (a string; anything else is refused).

    A local path in the container is not something a request to the mock can name, so it is read as base64.
    """
    if isinstance(image, Image.Image):
        loaded = image
    elif isinstance(image, str):
        if image.startswith(("http://", "https://")):
            loaded = _open(_fetch(image, timeout))
        else:
            if image.startswith("data:image/"):
                image = image.split(",")[1]
            try:
                loaded = _check_pixels(_open(base64.decodebytes(image.encode())))
            except Exception as exc:  # noqa: BLE001 - transformers wraps every failure in this message
                raise ContainerError(
                    "Incorrect image source. Must be a valid URL starting with `http://` or `https://`, a valid path "
                    f"to an image file, or a base64 encoded string. Got {image}. Failed with {exc}") from None
    else:
        raise ContainerError("Incorrect format used for image. Should be an url linking to an image, a base64 string, "
                             "a local path, or a PIL image.")
    return ImageOps.exif_transpose(_check_pixels(loaded)).convert("RGB")


def _fetch(url: str, timeout: Any) -> bytes:
    """``requests.get(url, timeout=timeout).content``, as transformers does (the endpoint can reach the web)."""
    import requests

    return requests.get(url, timeout=timeout).content


def postprocess(answer: Distribution, function: Any, top_k: Any) -> list[dict]:
    """ImageClassificationPipeline.postprocess over a stand-in's probabilities.

    The stand-ins give probabilities, not the network's logits; ``log(p)`` are logits with the same softmax, so
    ``sigmoid`` and ``none`` give scores of the right kind and order (not the real model's values).
    """
    n_labels = len(answer.labels)
    if function is None or function == "softmax":
        scores = [float(p) for p in answer.probabilities]
    elif function in ("sigmoid", "none"):
        logits = [math.log(max(float(p), 1e-30)) for p in answer.probabilities]
        scores = logits if function == "none" else [1.0 / (1.0 + math.exp(-x)) for x in logits]
    else:
        raise ContainerError(f"Unrecognized `function_to_apply` argument: {function}")
    if top_k > n_labels:
        top_k = n_labels
    predictions = [{"label": label, "score": score} for label, score in zip(answer.labels, scores)]
    predictions.sort(key=lambda p: p["score"], reverse=True)
    return predictions[:top_k]


# --- encoding (decoder_encoder.encode) -----------------------------------------------------------------


def encode_json(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def _encode(predictions: Any, accept: str) -> bytes:
    if accept == JSON:
        return encode_json(predictions).encode("utf-8")
    if accept == CSV:
        stream = io.StringIO()
        writer = csv.DictWriter(stream, predictions[0].keys())
        writer.writeheader()
        writer.writerows(predictions)
        return stream.getvalue().encode("utf-8")
    if accept == NPY:
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, predictions)
        return buffer.getvalue()
    if accept in ACCEPTED_IMAGE_TYPES:
        raise ContainerError(f"'{type(predictions).__name__}' object has no attribute 'save'")
    raise ContainerError(unsupported(accept))


# --- what the client sees ----------------------------------------------------------------------------------


def error_body(message: str, status: int = 400) -> str:
    """Multi Model Server's JSON error body (Gson, pretty-printed, HTML-safe escapes) for the toolkit's exception."""
    text = json.dumps(message, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("=", "\\u003d"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return f'{{\n  "code": {status},\n  "type": "InternalServerException",\n  "message": {text}\n}}\n'


def model_error_message(body: str, endpoint: str, region: str, account: str, status: int = 400) -> str:
    """The text botocore's ``ModelError`` carries when the container answers ``status`` with ``body``."""
    kind = "client" if 400 <= status < 500 else "server"
    return (
        f"Received {kind} error ({status}) from primary with message \"{body}\". See "
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:"
        f"group=/aws/sagemaker/Endpoints/{endpoint} in account {account} for more information."
    )
