"""Derm-Assist's triage rule and its review log: the one module that owns the rule.

The skin-cancer ViT returns scores for 7 HAM10000 classes. A GP needs one of three outcomes:

* **Potentially Concerning** — the top class is melanoma, basal cell carcinoma or actinic keratoses
  (malignant, or pre-malignant in the case of actinic keratoses);
* **Benign** — the top class is one of the other four (benign keratosis-like lesions, melanocytic naevi,
  vascular lesions, dermatofibroma);
* **Uncertain — refer for specialist review** — the top score is below the threshold the learner sets,
  whatever the class: a low-confidence answer is not evidence of anything.

It is decision support, not a diagnosis. Every assessment is appended to a CSV review log with the image's
SHA-256 — never the image, never its file name (names can identify patients).

Which labels are concerning is the model's fact (``helpers.models.SKIN_VIT.triage``); the outcomes, the
threshold and the disclaimer are this module's. Everything else (fairness breakdowns, colours, the app)
imports the constants below rather than repeating them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from filelock import FileLock, Timeout

from .core.config import work_dir as resolve_work_dir
from .core.errors import BadInputError, DermAssistError
from .core.files import atomic_write_text
from .models import SKIN_VIT

BENIGN = "Benign"
CONCERNING = "Potentially Concerning"
UNCERTAIN = "Uncertain — refer for specialist review"
OUTCOMES = (BENIGN, CONCERNING, UNCERTAIN)

MODEL = SKIN_VIT  # the model whose labels the rule reads
LABELS = MODEL.labels
CONCERNING_LABELS = MODEL.triage.concerning
BENIGN_LABELS = MODEL.triage.benign
DEFAULT_THRESHOLD = 0.5

DISCLAIMER_HEADLINE = "Decision support, not a diagnosis."
DISCLAIMER = (
    f"{DISCLAIMER_HEADLINE} A clinician must make the decision; if in doubt, refer. "
    "This prototype is not a medical device."
)

LOG_FILE = "review_log.csv"
LOCK_TIMEOUT_SECONDS = 30
LOG_COLUMNS = (
    "timestamp", "image_sha256", "model_id", "endpoint", "top_label", "top_score",
    "triage_outcome", "threshold", "reviewer_note", "stand_in",
)


@dataclass(frozen=True)
class TriageResult:
    outcome: str
    top_label: str
    top_score: float
    threshold: float
    predictions: tuple = ()

    @property
    def concerning_probability(self) -> float:
        """Sum of the scores of the three concerning classes (a useful second look, not the rule)."""
        return sum(p.score for p in self.predictions if p.label in CONCERNING_LABELS)

    def summary(self) -> str:
        return f"{self.outcome} — top class {self.top_label} ({self.top_score:.0%}), threshold {self.threshold:.0%}"


def check_threshold(threshold: float) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise BadInputError(f"The threshold must be a number between 0 and 1, not {threshold!r}.") from None
    if not 0.0 <= value <= 1.0:
        raise BadInputError(f"The threshold must be between 0 and 1 (e.g. 0.6 for 60%), not {value}.")
    return value


def outcome_for(label: str, score: float, threshold: float = DEFAULT_THRESHOLD) -> str:
    """The documented mapping: below the threshold → Uncertain; else by the top class."""
    threshold = check_threshold(threshold)
    if label not in LABELS:
        raise BadInputError(
            f"{label!r} is not one of the {MODEL.name}'s {len(LABELS)} labels: is the endpoint serving the {MODEL.name}? "
            f"Run notebook 04's swap cell (or `derm-assist deploy --model {MODEL.id}`)."
        )
    if score < threshold:
        return UNCERTAIN
    return CONCERNING if label in CONCERNING_LABELS else BENIGN


def triage(predictions: Sequence, threshold: float = DEFAULT_THRESHOLD) -> TriageResult:
    """Triage a list of predictions (``helpers.classify.Prediction`` or ``{"label", "score"}``)."""
    items = sorted((_as_pair(p) for p in predictions), key=lambda p: p.score, reverse=True)
    if not items:
        raise BadInputError("No predictions to triage.")
    top = items[0]
    return TriageResult(outcome_for(top.label, top.score, threshold), top.label, top.score, check_threshold(threshold), tuple(items))


def _as_pair(p):
    from .classify import Prediction

    if isinstance(p, Prediction):
        return p
    return Prediction(str(p["label"]), float(p["score"]))


# --- review log ---------------------------------------------------------------------------------------


class ReviewLog:
    """Append-only CSV of assessments in the work folder. Rows are never rewritten or dropped.

    Appends from several threads or processes (a web app serving two GPs, two notebook kernels) are
    serialised by a lock file next to the log, so none interleaves with or overwrites another.
    """

    def __init__(self, work_dir=None):
        self.path = resolve_work_dir(work_dir) / LOG_FILE
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def append(self, row: dict) -> dict:
        clean = {column: row.get(column, "") for column in LOG_COLUMNS}
        clean["timestamp"] = clean["timestamp"] or datetime.now(UTC).isoformat(timespec="seconds")
        clean["reviewer_note"] = " ".join(str(clean["reviewer_note"]).split())
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
        try:
            with FileLock(self.lock_path, timeout=LOCK_TIMEOUT_SECONDS):
                existing = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
                if not existing:
                    writer.writeheader()
                writer.writerow(clean)
                atomic_write_text(self.path, existing + buffer.getvalue())  # old rows + the new one, or nothing changes
        except Timeout:
            raise DermAssistError(
                f"The review log {self.path} stayed locked for {LOCK_TIMEOUT_SECONDS} s by another assessment. Try again; "
                f"if nothing else is running, delete {self.lock_path.name}."
            ) from None
        return clean

    def record(self, classification, result: TriageResult, model_id: str, note: str = "") -> dict:
        return self.append({
            "image_sha256": classification.sha256,
            "model_id": model_id,
            "endpoint": classification.endpoint,
            "top_label": result.top_label,
            "top_score": f"{result.top_score:.4f}",
            "triage_outcome": result.outcome,
            "threshold": f"{result.threshold:.2f}",
            "reviewer_note": note,
            "stand_in": classification.stand_in or "",
        })

    def read(self):
        import pandas as pd

        if not self.path.exists():
            return pd.DataFrame(columns=list(LOG_COLUMNS))
        return pd.read_csv(self.path, keep_default_na=False)

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def outcome_table(table, thresholds: Sequence[float], label_col: str = "top_label", score_col: str = "top_score"):
    """How outcomes change with the threshold: one column per threshold, one row per image."""
    import pandas as pd

    out = pd.DataFrame({"image": table["image"]})
    for t in thresholds:
        out[f"threshold {t:.0%}"] = [outcome_for(l, s, t) for l, s in zip(table[label_col], table[score_col])]
    return out


def outcome_counts(outcomes):
    """How many images get each outcome at each threshold (columns of :func:`outcome_table`)."""
    import pandas as pd

    columns = [c for c in outcomes.columns if c != "image"]
    counts = pd.DataFrame({c: outcomes[c].value_counts() for c in columns}).reindex(list(OUTCOMES)).fillna(0).astype(int)
    counts.index.name = "outcome"
    return counts
