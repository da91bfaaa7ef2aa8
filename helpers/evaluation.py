"""The same evaluation for every model: a labelled set, identical requests, the numbers that matter.

A labelled set is a folder of images and a CSV (``labels.csv`` by default) with the columns ``file`` and
``label`` and, optionally, ``fitzpatrick`` (I..VI). Labels are HAM10000 class codes (``nv``, ``mel``,
``bkl``, ``bcc``, ``akiec``, ``vasc``, ``df``: :mod:`helpers.ham10000`) or any skin model's own label, which the
registry maps to its code. Every model is then scored the same way (scikit-learn does the arithmetic):

- accuracy next to the majority-class baseline of *this* set (what always answering the commonest class scores);
- balanced accuracy (the mean of the per-class recalls, so rare classes count as much as common ones);
- per-class precision and recall, melanoma first;
- a confusion matrix;
- accuracy by Fitzpatrick group, with 95% Wilson intervals (few images per group means wide intervals).

Real-time answers (:func:`evaluate_endpoints`) and Batch Transform outputs (:mod:`helpers.batch`) both end in
:func:`score`, so the two paths cannot disagree about what a number means.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import ham10000, models
from .core.config import IMAGE_SUFFIXES, REPO_ROOT
from .core.errors import BadInputError
from .curveball.fairness import wilson_interval
from .images import FITZPATRICK_TYPES

LABELS_FILE = "labels.csv"
EVAL_SET_DIR = REPO_ROOT / "eval_set"  # the shipped synthetic set (helpers/maintainer/eval_set.py draws it)
REQUIRED_COLUMNS = ("file", "label")
FITZPATRICK_COLUMN = "fitzpatrick"
CLASS_ORDER = (ham10000.MELANOMA,) + tuple(c for c in ham10000.CODES if c != ham10000.MELANOMA)  # melanoma first


def _metrics():
    """scikit-learn's metrics, or one line saying how to install them."""
    try:
        from sklearn import metrics
    except ImportError:
        raise BadInputError("The evaluation needs scikit-learn: pip install scikit-learn (the pack's 'evaluation' "
                            "extra; SageMaker Studio already has it).") from None
    return metrics


def _label_aliases() -> dict[str, str]:
    """Every spelling a labels file may use -> HAM10000 code: the codes, and each skin model's labels."""
    aliases = {code: code for code in ham10000.CODES}
    for spec in models.ALL:
        if spec.label_codes:
            aliases.update(zip(spec.labels, spec.label_codes))
    return aliases


@dataclass(frozen=True)
class LabelledSet:
    """Images with their true class (HAM10000 code) and, where known, Fitzpatrick type."""

    folder: Path
    items: pd.DataFrame  # columns: file, path, label, fitzpatrick ("" when not given)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def paths(self) -> list[Path]:
        return [Path(p) for p in self.items["path"]]

    def class_counts(self) -> pd.Series:
        return self.items["label"].value_counts().reindex([c for c in CLASS_ORDER if c in set(self.items["label"])])

    def majority_baseline(self) -> tuple[str, float]:
        """The commonest class here and the accuracy of always answering it."""
        counts = self.items["label"].value_counts()
        return str(counts.index[0]), float(counts.iloc[0] / len(self.items))


def load_labelled_set(folder: str | os.PathLike, labels_file: str | os.PathLike | None = None) -> LabelledSet:
    """Read and check a labelled set; any problem is one line saying what to fix in the labels file."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise BadInputError(f"Labelled set folder not found: {root}. Point at a folder of images with a {LABELS_FILE}.")
    csv = Path(labels_file).expanduser() if labels_file else root / LABELS_FILE
    if not csv.is_file():
        raise BadInputError(f"No labels file at {csv}. Add a CSV with the columns file,label[,fitzpatrick].")
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{csv.name} is not a readable CSV ({str(exc).splitlines()[0]}). Save it as UTF-8 CSV with a header row.") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise BadInputError(f"{csv.name} lacks the column(s) {', '.join(missing)}; its header is "
                            f"{','.join(table.columns) or '(empty)'}. It needs file,label and optionally fitzpatrick.")
    if table.empty:
        raise BadInputError(f"{csv.name} has a header but no rows. Add one row per image: file,label[,fitzpatrick].")
    aliases = _label_aliases()
    rows = []
    for line, record in enumerate(table.to_dict("records"), start=2):  # line 1 is the header
        name, label = record["file"].strip(), record["label"].strip()
        where = f"{csv.name} line {line}"
        code = aliases.get(label) or aliases.get(label.lower())
        if code is None:
            raise BadInputError(f"{where}: unknown label {label!r}. Use one of {', '.join(ham10000.CODES)} "
                                "(HAM10000 codes) or a skin model's own label.")
        path = root / name
        if not name or not path.is_file():
            raise BadInputError(f"{where}: image {name!r} not found in {root}. Fix the file name or add the image.")
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise BadInputError(f"{where}: {name!r} is not an image file ({', '.join(IMAGE_SUFFIXES)}).")
        skin = record.get(FITZPATRICK_COLUMN, "").strip().upper()
        if skin and skin not in FITZPATRICK_TYPES:
            raise BadInputError(f"{where}: Fitzpatrick type {skin!r} is not one of {', '.join(FITZPATRICK_TYPES)} "
                                "(leave it empty when unknown).")
        rows.append({"file": name, "path": str(path), "label": code, "fitzpatrick": skin})
    items = pd.DataFrame(rows)
    duplicated = items["file"][items["file"].duplicated()].tolist()
    if duplicated:
        raise BadInputError(f"{csv.name} lists {duplicated[0]!r} more than once. Keep one row per image.")
    return LabelledSet(root, items)


# --- scoring -------------------------------------------------------------------------------------------


@dataclass
class ModelReport:
    """One model's results on one labelled set."""

    model: str  # display name
    model_id: str
    source: str  # the endpoint or transform job that answered
    table: pd.DataFrame  # one row per image: file, label, fitzpatrick, predicted (code), answer (the model's label), score
    baseline_class: str
    baseline: float
    failures: list[tuple[str, str]]
    notice: str | None = None  # against the mock: which offline stand-in answered instead of the model

    @property
    def accuracy(self) -> float:
        return float(_metrics().accuracy_score(self.table["label"], self.table["predicted"]))

    @property
    def balanced_accuracy(self) -> float:
        """Mean recall over the classes present in the set (scikit-learn's definition)."""
        import warnings

        with warnings.catch_warnings():  # predictions of a class the set lacks are errors, not a reason to warn
            warnings.simplefilter("ignore", UserWarning)
            return float(_metrics().balanced_accuracy_score(self.table["label"], self.table["predicted"]))

    def classes(self) -> list[str]:
        """The set's classes (melanoma first), then any class only the model answered."""
        present = set(self.table["label"]) | set(self.table["predicted"])
        return [c for c in (*CLASS_ORDER, ham10000.OTHER) if c in present]

    def per_class(self) -> pd.DataFrame:
        """Precision, recall and support for every class in the set, melanoma first."""
        labels = [c for c in CLASS_ORDER if c in set(self.table["label"])]
        precision, recall, _, support = _metrics().precision_recall_fscore_support(
            self.table["label"], self.table["predicted"], labels=labels, zero_division=0)
        return pd.DataFrame({"precision": precision, "recall": recall, "support": support},
                            index=pd.Index(labels, name="class"))

    @property
    def melanoma_recall(self) -> float | None:
        """Share of the set's melanomas the model called melanoma; None when the set has none."""
        table = self.per_class()
        return float(table.loc[ham10000.MELANOMA, "recall"]) if ham10000.MELANOMA in table.index else None

    def confusion(self) -> pd.DataFrame:
        """Rows: true class; columns: predicted class (counts)."""
        labels = self.classes()
        matrix = _metrics().confusion_matrix(self.table["label"], self.table["predicted"], labels=labels)
        return pd.DataFrame(matrix, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted"))

    def by_fitzpatrick(self) -> pd.DataFrame:
        """Accuracy per Fitzpatrick group with its 95% Wilson interval (rows without a type are left out)."""
        known = self.table[self.table["fitzpatrick"] != ""]
        rows = []
        for group in [g for g in FITZPATRICK_TYPES if g in set(known["fitzpatrick"])]:
            part = known[known["fitzpatrick"] == group]
            correct = int((part["label"] == part["predicted"]).sum())
            low, high = wilson_interval(correct, len(part))
            rows.append({"fitzpatrick": group, "n": len(part), "correct": correct, "accuracy": correct / len(part),
                         "ci_low": low, "ci_high": high})
        return pd.DataFrame(rows, columns=["fitzpatrick", "n", "correct", "accuracy", "ci_low", "ci_high"]).set_index("fitzpatrick")

    def summary(self) -> str:
        """One line: accuracy against the baseline, balanced accuracy, melanoma recall."""
        mel = self.melanoma_recall
        missed = ""
        if mel is not None:
            total = int((self.table["label"] == ham10000.MELANOMA).sum())
            found = int(((self.table["label"] == ham10000.MELANOMA) & (self.table["predicted"] == ham10000.MELANOMA)).sum())
            missed = f"; melanoma recall {mel:.0%} ({found} of {total} found, {total - found} missed)"
        verdict = "above" if self.accuracy > self.baseline else "NOT above"
        return (f"{self.model}: accuracy {self.accuracy:.0%} ({verdict} the {self.baseline:.0%} of always answering "
                f"'{self.baseline_class}'), balanced accuracy {self.balanced_accuracy:.0%}{missed}")


def score(labelled: LabelledSet, answers: Mapping[str, tuple[str, float]], model_id: str, source: str = "",
          failures: Sequence[tuple[str, str]] = ()) -> ModelReport:
    """Score ``answers`` (file -> (the model's top label, its score)) against the labelled set.

    An image without an answer (it failed) counts as wrong: it is listed in ``failures`` and predicted ``other``.
    """
    spec = models.find(model_id)
    table = labelled.items[["file", "label", "fitzpatrick"]].copy()
    table["answer"] = [answers.get(f, ("", float("nan")))[0] for f in table["file"]]
    table["score"] = [answers.get(f, ("", float("nan")))[1] for f in table["file"]]
    table["predicted"] = [spec.code_of(a) if spec else ham10000.OTHER for a in table["answer"]]
    baseline_class, baseline = labelled.majority_baseline()
    failed = list(failures) + [(f, "no answer") for f in table["file"] if f not in answers and f not in dict(failures)]
    return ModelReport(spec.name if spec else model_id, model_id, source, table, baseline_class, baseline, failed)


@dataclass
class Evaluation:
    """Reports for several models on the same labelled set."""

    labelled: LabelledSet
    reports: list[ModelReport]

    def comparison(self) -> pd.DataFrame:
        """One row per model: accuracy, majority baseline, balanced accuracy, melanoma recall, images, failures."""
        return pd.DataFrame([{
            "model": r.model, "accuracy": r.accuracy, "majority baseline": r.baseline,
            "balanced accuracy": r.balanced_accuracy, "melanoma recall": r.melanoma_recall,
            "images": len(r.table), "failed": len(r.failures), "answered by": r.source,
        } for r in self.reports]).set_index("model")

    def summary(self) -> str:
        return "\n".join(r.summary() for r in self.reports)

    def say_where_answers_come_from(self) -> None:
        """Print which offline stand-ins answered (against the mock); nothing on AWS."""
        for notice in dict.fromkeys(r.notice for r in self.reports if r.notice):
            print(notice)


def evaluate_endpoints(labelled: LabelledSet, endpoints: Sequence[str], *, progress: bool = True) -> Evaluation:
    """Send every image of the set, unchanged and in the same order, to each endpoint, and score each model."""
    from . import classify, endpoint

    if isinstance(endpoints, str):
        endpoints = [endpoints]
    if not endpoints:
        raise BadInputError("Give at least one endpoint name to evaluate.")
    reports = []
    for name in endpoints:
        info = endpoint.require_in_service(name)
        batch = classify.classify_many(labelled.paths, name, top_k=1, progress=progress)
        file_of = {str(Path(p)): f for p, f in zip(labelled.items["path"], labelled.items["file"])}
        answers = {file_of.get(r.image, r.image): (r.top.label, r.top.score) for r in batch.results}
        failures = [(file_of.get(f, f), why) for f, why in batch.failures]
        report = score(labelled, answers, info.model_id or "unknown", name, failures)
        report.notice = batch.stand_in_notice()
        reports.append(report)
    return Evaluation(labelled, reports)


def record_findings(report: ModelReport, work_dir=None, source: str = "notebook 07") -> list[str]:
    """Write what the evaluation and the data behind the model show into the learner's risk register.

    Adds (once: the same description is never added twice) the missed melanomas, the skin tones the data does
    not record, and the dataset's non-commercial licence. Returns the risk IDs.
    """
    from .worksheets import RiskRegister

    register = RiskRegister(work_dir)
    ids = []
    if report.melanoma_recall is not None:
        ids.append(register.add_risk(
            f"{report.model} missed {1 - report.melanoma_recall:.0%} of the melanomas in the labelled set "
            f"(recall {report.melanoma_recall:.0%}); overall accuracy ({report.accuracy:.0%}, majority baseline "
            f"{report.baseline:.0%}) does not show it", "Data", 4, 5,
            "Report melanoma recall with every accuracy figure; refer every 'Uncertain' and concerning outcome; "
            "validate on an independent labelled set before any clinical use", source=source))
    ids.append(register.add_risk(
        "The training data (HAM10000) records no skin tone: performance on Fitzpatrick V-VI is unknown",
        "Ethical/Compliance", 4, 4,
        "Evaluate by Fitzpatrick group on data that records it; state the gap in the model card and to users",
        source=source))
    ids.append(register.add_risk(
        f"HAM10000 is licensed {ham10000.LICENCE}: a model trained on it may not be usable commercially",
        "Ethical/Compliance", 3, 4, "Get legal advice on the model's licence and training data before any product use",
        source=source))
    return ids


def plot_confusion(report: ModelReport, ax=None):
    """The confusion matrix as a heat map with counts (true classes down, predictions across)."""
    import matplotlib.pyplot as plt

    matrix = report.confusion()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.2))
    ax.imshow(matrix.to_numpy(), cmap="Blues")
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    peak = max(int(matrix.to_numpy().max()), 1)
    for i in range(len(matrix.index)):
        for j in range(len(matrix.columns)):
            value = int(matrix.iat[i, j])
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{report.model}: confusion matrix", fontsize=10)
    return ax.figure
