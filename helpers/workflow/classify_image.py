"""Step 2: the cleaned image -> the endpoint's label/score list (SageMaker InvokeEndpoint).

Event in: ``image_data`` (from step 1), ``endpoint_name`` (or ``$DERM_ASSIST_ENDPOINT`` in the function's
environment), optional ``inference_id`` (stored by Data Capture beside the answer). Event out: the same keys
without ``image_data``, plus ``predictions`` (``[{"label", "score"}]``, highest first). Throttling and
transient errors are retried like every call the pack makes.
"""

from __future__ import annotations

import base64
import os

from .. import classify, images, triage
from ..core.errors import BadInputError


def handler(event: dict, context=None) -> dict:
    endpoint = event.get("endpoint_name") or os.environ.get("DERM_ASSIST_ENDPOINT")
    if not endpoint:
        raise BadInputError("No endpoint: put 'endpoint_name' in the event or DERM_ASSIST_ENDPOINT in the environment.")
    if not event.get("image_data"):
        raise BadInputError("The event has no image_data: run serialize_image first.")
    body = base64.b64decode(event["image_data"])
    image = images.load_image(body)
    payload = images.Payload(body, images.PAYLOAD_CONTENT_TYPE, image.width, image.height)  # what serialize_image made
    result = classify.classify_payload(payload, endpoint, top_k=len(triage.LABELS), inference_id=event.get("inference_id") or None)
    out = {k: v for k, v in event.items() if k != "image_data"}
    out["predictions"] = [{"label": p.label, "score": p.score} for p in result.predictions]
    return out
