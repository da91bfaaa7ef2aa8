"""The Derm-Assist triage workflow (the "Scones Unlimited" pattern): three small steps a Lambda could run.

1. :mod:`.serialize_image` — the uploaded photo in, a cleaned image out (upright, RGB, no metadata, sized
   for the skin model, lossless WebP, small enough for a Step Functions state);
2. :mod:`.classify_image` — that image to the SageMaker endpoint, the label/score list back (the image is
   dropped from the state here: nothing later needs it);
3. :mod:`.confidence_filter` — the MVP's triage rule; a low-confidence answer raises ``LowConfidence``,
   which the state machine catches and routes to specialist review.

Each module has ``handler(event, context)``, the signature AWS Lambda calls. :mod:`.state_machine` holds the
Amazon States Language definition (``triage_workflow.asl.json``) and creates it through the Step Functions API.
"""

from .confidence_filter import LowConfidence

__all__ = ["LowConfidence"]
