"""Step 1: the uploaded photo -> a cleaned image, base64, small enough for a Step Functions state.

Event in: ``{"image_b64": <the uploaded file, base64>, ...}``. Event out: the same keys without
``image_b64``, plus ``image_data`` (base64 lossless WebP: upright, RGB, metadata such as GPS stripped,
resized as the skin model's processor resizes it, 224 x 224) and ``image_sha256``. The raw upload goes no further: Step Functions keeps every
state's input and output in the execution history, so what it must never hold is removed first.
"""

from __future__ import annotations

import base64
import binascii

from .. import images, triage
from ..core.errors import BadInputError

GEOMETRY = triage.MODEL.geometry  # the workflow classifies with the skin model the triage rule reads
STATE_LIMIT_BYTES = 256 * 1024  # Step Functions: a state's input or output is at most 256 KiB


def handler(event: dict, context=None) -> dict:
    raw = event.get("image_b64")
    if not raw:
        raise BadInputError("The event has no image_b64: send the photo as base64 in 'image_b64'.")
    try:
        upload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadInputError("image_b64 is not valid base64.") from None
    payload = images.prepare_payload(upload, GEOMETRY)
    out = {k: v for k, v in event.items() if k != "image_b64"}
    out["image_data"] = base64.b64encode(payload.body).decode("ascii")
    out["image_sha256"] = images.sha256_bytes(payload.body)
    if len(str(out).encode()) > STATE_LIMIT_BYTES:
        raise BadInputError(f"The cleaned image is still over the {STATE_LIMIT_BYTES // 1024} KiB a workflow state can hold.")
    return out
