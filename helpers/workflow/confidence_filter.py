"""Step 3: the MVP's triage rule on the answer; below the threshold the workflow stops for specialist review.

Event in: ``predictions`` (from step 2) and ``threshold`` (or ``$DERM_ASSIST_THRESHOLD``). Event out: the
outcome (*Benign* or *Potentially Concerning*), the top class and score. An answer below the threshold raises
:class:`LowConfidence`: in Step Functions its class name is the error the state machine catches (the Scones
Unlimited filter failed the execution; Derm-Assist routes it to *Uncertain — refer for specialist review*).
"""

from __future__ import annotations

import os

from .. import triage


class LowConfidence(Exception):  # its class name is the error the state machine catches
    """The top score is below the threshold: no automatic outcome."""


def handler(event: dict, context=None) -> dict:
    threshold = triage.check_threshold(event.get("threshold", os.environ.get("DERM_ASSIST_THRESHOLD", triage.DEFAULT_THRESHOLD)))
    result = triage.triage(event.get("predictions") or [], threshold)
    if result.outcome == triage.UNCERTAIN:
        raise LowConfidence(f"Top score {result.top_score:.2f} ({result.top_label}) is below the threshold {threshold:.2f}.")
    out = {k: v for k, v in event.items() if k != "predictions"}
    return {**out, "outcome": result.outcome, "top_label": result.top_label, "top_score": result.top_score, "threshold": threshold}
