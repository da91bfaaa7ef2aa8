"""Assess one image: classify it on the skin endpoint, apply the triage rule, record it for review.

This is the one code path behind the notebook MVP (:mod:`helpers.mvp`, with or without a front end), the
``derm-assist triage`` command and any web front end. It needs no widgets, and it is safe to call from
several threads or processes at once: the review log serialises its appends with a lock file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import classify, state, triage
from .accessibility import plain_text_result

UPLOADED = "uploaded image"


@dataclass(frozen=True)
class Assessment:
    """One image's assessment: the endpoint's answer, the triage outcome and what went into the review log."""

    classification: classify.Classification
    result: triage.TriageResult
    image_name: str  # for display only: the review log never records it
    model_id: str
    log_row: dict | None = None  # the row appended to the review log; None when nothing was logged

    @property
    def outcome(self) -> str:
        return self.result.outcome

    @property
    def is_mock(self) -> bool:
        return self.classification.is_mock

    def plain_text(self) -> str:
        """The result as short sentences a screen reader reads well, ending with the disclaimer."""
        return plain_text_result(outcome=self.result.outcome, confidence=self.result.top_score,
                                 predictions=self.classification.predictions, image_name=self.image_name)

    def summary_row(self) -> dict:
        """One row of a results table: image, outcome, top class and its score."""
        return {"image": self.image_name, "outcome": self.result.outcome, "top_label": self.result.top_label,
                "top_score": round(self.result.top_score, 3)}


def display_name(image, name: str | None = None) -> str:
    """What to call the image on screen: ``name``, a path's file name, or "uploaded image"."""
    if name:
        return Path(str(name)).name
    if isinstance(image, (str, os.PathLike)):
        return Path(image).name
    return UPLOADED


def assess(image, endpoint: str | None = None, threshold: float = triage.DEFAULT_THRESHOLD, *, model_id: str | None = None,
           note: str = "", image_name: str | None = None, work_dir=None, log: bool = True) -> Assessment:
    """Classify ``image`` (a path, bytes or a PIL image) on ``endpoint`` (default: the remembered one), triage
    it at ``threshold`` and, unless ``log=False``, append it to the review log with ``note``."""
    threshold = triage.check_threshold(threshold)
    classification = classify.classify(image, endpoint, top_k=len(triage.LABELS), work_dir=work_dir)
    result = triage.triage(classification.predictions, threshold)
    model = model_id or state.load_state(work_dir).get("model_id") or ""
    row = triage.ReviewLog(work_dir).record(classification, result, model, note) if log else None
    return Assessment(classification, result, display_name(image, image_name), model, row)
