"""Monitoring Derm-Assist over time from what Data Capture kept: outcome mix, confidence and drift.

The captured answers (see :mod:`helpers.capture`) are turned into triage outcomes with the MVP's own rule
(:mod:`helpers.triage`) and compared with a **baseline** the learner chooses: the share of *Uncertain*, the
share of *Potentially Concerning* and the median top-1 confidence of a set of traffic they trust (or numbers
they set). A set, or a window of consecutive requests, is flagged as **drift** when one of them moves further
from the baseline than the learner's tolerance, in either direction: a confidence that rises on photos that
are not skin is as much a warning as one that falls.

Traffic is labelled through InvokeEndpoint's ``InferenceId`` (``"<set>/<number>"``), which Data Capture
stores beside the answer: grouping needs nothing about the image itself. The drifted set is made on the fly
from the skin proxies (:func:`drifted`): photos in poor light (darker, gamma) and out of focus (blurred).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image, ImageFilter

from . import classify, images, state, triage
from .core.concurrency import check_concurrency, map_in_order
from .core.errors import BadInputError, DermAssistError
from .core.progress import progress_bar

DRIFT_KINDS = {
    "darker": "photos taken in poor light (every pixel darkened with a gamma curve)",
    "blurred": "out-of-focus photos (Gaussian blur)",
}
DEFAULT_STRENGTH = {"darker": 1.8, "blurred": 0.025}  # gamma exponent; blur radius as a share of the shorter side
UNLABELLED = "unlabelled"
MEASURES = {  # column -> what it is, in words
    "uncertain_share": "share of Uncertain",
    "concerning_share": "share of Potentially Concerning",
    "median_confidence": "median confidence",
}


# --- traffic ------------------------------------------------------------------------------------------


def drifted(paths: Iterable[str | os.PathLike], kind: str, strength: float | None = None) -> list[tuple[str, Image.Image]]:
    """Copies of the images, changed the way real photos drift: ``darker`` or ``blurred`` (see DRIFT_KINDS)."""
    if kind not in DRIFT_KINDS:
        raise BadInputError(f"Unknown drift {kind!r}; use one of: {', '.join(DRIFT_KINDS)}.")
    amount = DEFAULT_STRENGTH[kind] if strength is None else float(strength)
    if amount <= 0 or (kind == "darker" and amount <= 1):
        raise BadInputError(f"The {kind} strength must be above {'1 (a gamma exponent)' if kind == 'darker' else '0'}, not {amount}.")
    out = []
    for path in images.expand_paths(paths):
        image = images.load_image(path)
        if kind == "darker":
            curve = [round(255 * (value / 255) ** amount) for value in range(256)]
            changed = image.point(curve * len(image.getbands()))
        else:
            changed = image.filter(ImageFilter.GaussianBlur(amount * min(image.size)))
        out.append((f"{Path(path).stem}_{kind}", changed))
    return out


def plot_drift_examples(paths: Sequence[str | os.PathLike], kinds: Sequence[str] = tuple(DRIFT_KINDS)):
    """Each image beside its drifted copies (one row per image). Returns (figure, alt text)."""
    import matplotlib.pyplot as plt

    files = images.expand_paths(paths)
    if not files:
        raise BadInputError("No images to show.")
    columns = ["original", *kinds]
    fig, axes = plt.subplots(len(files), len(columns), figsize=(2.2 * len(columns), 2.2 * len(files)), squeeze=False)
    for row, path in enumerate(files):
        versions = [images.load_image(path)] + [drifted([path], kind)[0][1] for kind in kinds]
        for col, (title, image) in enumerate(zip(columns, versions)):
            axes[row][col].imshow(image)
            axes[row][col].axis("off")
            if row == 0:
                axes[row][col].set_title(title, fontsize=9)
    fig.tight_layout()
    names = ", ".join(Path(f).stem for f in files)
    alt = (f"Grid of {len(files)} synthetic skin proxies ({names}), each shown as it is and " +
           " and ".join(f"{k} ({DRIFT_KINDS[k]})" for k in kinds) + ".")
    return fig, alt


def inference_id(set_name: str, number: int) -> str:
    """``"skin proxies/007"``: names the set and the request, and nothing about the image or the patient."""
    return f"{set_name}/{number:03d}"


def set_of(inference_id_value: str) -> str:
    head, sep, _ = str(inference_id_value or "").rpartition("/")
    return head if sep and head else UNLABELLED


def send_traffic(sets: dict[str, Sequence], endpoint: str | None = None, *, shuffle_seed: int | None = 7,
                 progress: bool = True, concurrency: int | None = None) -> pd.DataFrame:
    """Classify every image of every set, in set order, each request labelled with its ``InferenceId``.

    ``sets`` maps a set name to paths, folders or ``(name, PIL image)`` pairs. Within a set the order is
    shuffled (``shuffle_seed``; None keeps it), as patients do not arrive sorted by skin type. The sets go one
    after the other; within a set up to ``concurrency`` requests are in flight (default as
    :func:`helpers.classify.classify_many`), so the captured traffic still comes set by set. Returns what the
    caller saw, one row per request in that order; failures are reported and skipped, like a batch.
    """
    batches = []
    for set_name, items in sets.items():
        if "/" in set_name or not set_name.strip():
            raise BadInputError(f"Set name {set_name!r}: use words without '/', e.g. 'skin proxies'.")
        expanded = [i for item in items for i in ([item] if isinstance(item, tuple) else images.expand_paths([item]))]
        if shuffle_seed is not None:
            random.Random(f"{shuffle_seed}/{set_name}").shuffle(expanded)
        batches.append([(set_name, number, item) for number, item in enumerate(expanded, start=1)])
    total = sum(map(len, batches))
    if not total:
        raise BadInputError("No images to send: every set is empty.")
    endpoint = endpoint or state.current_endpoint()
    concurrency = check_concurrency(classify.default_concurrency(endpoint) if concurrency is None else concurrency)

    def send(request) -> classify.Classification | DermAssistError:
        set_name, number, item = request
        image = item[1] if isinstance(item, tuple) else item
        try:
            return classify.classify(image, endpoint, top_k=len(triage.LABELS), inference_id=inference_id(set_name, number))
        except classify.STOPS_A_BATCH:
            raise  # every other request would fail the same way
        except DermAssistError as exc:
            return exc

    rows, failures = [], []
    with progress_bar(total=total, enabled=progress, desc="Sending traffic", unit="request") as bar:
        for batch in batches:
            outcomes = map_in_order(send, batch, concurrency=concurrency, on_done=bar.update, name="traffic")
            for (set_name, number, item), outcome in zip(batch, outcomes):
                if isinstance(outcome, DermAssistError):
                    name = item[0] if isinstance(item, tuple) else Path(item).name
                    failures.append(f"{set_name} / {name}: {outcome}")
                    continue
                rows.append({"set": set_name, "inference_id": inference_id(set_name, number), "top_label": outcome.top.label,
                             "top_score": outcome.top.score, "stand_in": outcome.stand_in or ""})
    for line in failures:
        print(f"not sent: {line}")
    return pd.DataFrame(rows, columns=["set", "inference_id", "top_label", "top_score", "stand_in"])


# --- outcomes, baseline, drift -----------------------------------------------------------------------


def with_outcomes(captured: pd.DataFrame, threshold: float = triage.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The captured records (``capture.read_capture``) with their set and their triage outcome at ``threshold``."""
    threshold = triage.check_threshold(threshold)
    table = captured.copy()
    table["set"] = [set_of(i) for i in table["inference_id"]]
    table["outcome"] = [triage.outcome_for(label, score, threshold) for label, score in zip(table["top_label"], table["top_score"])]
    return table


def summarise(table: pd.DataFrame) -> dict:
    """Requests, outcome shares and median confidence of some rows of :func:`with_outcomes`."""
    n = len(table)

    def share(outcome: str) -> float:
        return float((table["outcome"] == outcome).mean()) if n else float("nan")

    return {"requests": n, "benign_share": share(triage.BENIGN), "concerning_share": share(triage.CONCERNING),
            "uncertain_share": share(triage.UNCERTAIN),
            "median_confidence": float(table["top_score"].median()) if n else float("nan")}


@dataclass(frozen=True)
class Baseline:
    """What normal looks like: shares of Uncertain and Potentially Concerning, and the median confidence."""

    uncertain_share: float
    concerning_share: float
    median_confidence: float
    source: str

    @classmethod
    def from_set(cls, table: pd.DataFrame, set_name: str) -> Baseline:
        rows = table[table["set"] == set_name]
        if rows.empty:
            known = ", ".join(sorted(set(table["set"]))) or "none"
            raise BadInputError(f"No captured traffic from the set {set_name!r} to take a baseline from. Sets: {known}.")
        stats = summarise(rows)
        return cls(stats["uncertain_share"], stats["concerning_share"], stats["median_confidence"],
                   f"the {stats['requests']} captured '{set_name}' requests")

    @classmethod
    def choose(cls, table: pd.DataFrame, set_name: str, numbers: dict | None = None) -> Baseline:
        """The baseline of ``set_name``, with any value the learner set by hand (``numbers``, keyed like
        :data:`MEASURES`, e.g. ``{"uncertain_share": 0.6}``) taking its place."""
        measured = cls.from_set(table, set_name)
        chosen = _measures(numbers, "Baseline")
        for key, value in chosen.items():
            if not 0 <= value <= 1:
                raise BadInputError(f"Baseline {MEASURES[key]} must be between 0 and 1, not {value}.")
        if not chosen:
            return measured
        values = {k: chosen.get(k, getattr(measured, k)) for k in MEASURES}
        return cls(**values, source=f"your numbers (the rest from {measured.source})")

    def describe(self) -> str:
        return (f"Baseline from {self.source}: Uncertain {self.uncertain_share:.0%}, Potentially Concerning "
                f"{self.concerning_share:.0%}, median confidence {self.median_confidence:.2f}.")


@dataclass(frozen=True)
class DriftRule:
    """How far each measure may move from the baseline (either way) before it counts as drift; None = not watched."""

    max_uncertain_change: float | None = 0.10
    max_concerning_change: float | None = 0.10
    max_confidence_change: float | None = 0.10

    def __post_init__(self):
        for value in (self.max_uncertain_change, self.max_concerning_change, self.max_confidence_change):
            if value is not None and not 0 < float(value) <= 1:
                raise BadInputError(f"A drift tolerance must be between 0 and 1 (e.g. 0.1), not {value}.")
        if all(v is None for v in (self.max_uncertain_change, self.max_concerning_change, self.max_confidence_change)):
            raise BadInputError("Watch at least one measure: every drift tolerance is None.")

    @classmethod
    def of(cls, tolerances: dict) -> DriftRule:
        """From ``{"uncertain_share": 0.1, "concerning_share": 0.1, "median_confidence": 0.1}``; a measure left out
        (or None) is not watched."""
        chosen = _measures(tolerances, "Tolerance")
        return cls(chosen.get("uncertain_share"), chosen.get("concerning_share"), chosen.get("median_confidence"))

    def limits(self) -> dict[str, float]:
        return {k: float(v) for k, v in (("uncertain_share", self.max_uncertain_change),
                                         ("concerning_share", self.max_concerning_change),
                                         ("median_confidence", self.max_confidence_change)) if v is not None}

    def reasons(self, stats: dict, baseline: Baseline) -> list[str]:
        """Why ``stats`` is drift ([] if it is not): e.g. ``"share of Uncertain 75% vs 62% (+13 points)"``."""
        out = []
        for key, limit in self.limits().items():
            value, base = stats[key], getattr(baseline, key)
            if pd.isna(value) or abs(value - base) <= limit + 1e-9:
                continue
            if key == "median_confidence":
                out.append(f"{MEASURES[key]} {value:.2f} vs {base:.2f} ({value - base:+.2f})")
            else:
                out.append(f"{MEASURES[key]} {value:.0%} vs {base:.0%} ({(value - base) * 100:+.0f} points)")
        return out


def _measures(values: dict | None, what: str) -> dict[str, float]:
    """``values`` checked against :data:`MEASURES` (None values dropped), as floats."""
    values = dict(values or {})
    unknown = sorted(set(values) - set(MEASURES))
    if unknown:
        raise BadInputError(f"{what}: {unknown[0]!r} is not a measure; use {', '.join(MEASURES)}.")
    try:
        return {k: float(v) for k, v in values.items() if v is not None}
    except (TypeError, ValueError):
        raise BadInputError(f"{what}: every value must be a number between 0 and 1.") from None


def _row(label: dict, stats: dict, baseline: Baseline, rule: DriftRule) -> dict:
    reasons = rule.reasons(stats, baseline)
    return {**label, **stats, "drift": bool(reasons), "why": "; ".join(reasons)}


def by_set(table: pd.DataFrame, baseline: Baseline, rule: DriftRule = DriftRule()) -> pd.DataFrame:
    """One row per set (in the order the traffic came): requests, outcome shares, median confidence, drift and why."""
    order = list(dict.fromkeys(table.sort_values("inference_time", kind="stable")["set"]))
    return pd.DataFrame([_row({"set": s}, summarise(table[table["set"] == s]), baseline, rule) for s in order])


def over_time(table: pd.DataFrame, baseline: Baseline, rule: DriftRule = DriftRule(), window: int = 12) -> pd.DataFrame:
    """Consecutive windows of ``window`` requests (a window never mixes two runs of traffic from different sets)."""
    if not isinstance(window, int) or window < 1:
        raise BadInputError(f"The window must be a whole number of requests (1 or more), not {window!r}.")
    ordered = table.sort_values("inference_time", kind="stable").reset_index(drop=True)
    runs = (ordered["set"] != ordered["set"].shift()).cumsum()
    rows = []
    for _, run in ordered.groupby(runs, sort=True):
        for start in range(0, len(run), window):
            chunk = run.iloc[start:start + window]
            label = {"window": len(rows) + 1, "set": chunk["set"].iloc[0], "start": chunk["inference_time"].iloc[0],
                     "end": chunk["inference_time"].iloc[-1]}
            rows.append(_row(label, summarise(chunk), baseline, rule))
    return pd.DataFrame(rows)


def plot_over_time(windows: pd.DataFrame, baseline: Baseline, rule: DriftRule = DriftRule(), threshold: float | None = None):
    """Outcome mix (stacked bars) and median confidence (line, baseline band) per window. Returns (figure, alt text)."""
    import matplotlib.pyplot as plt

    from .accessibility import get_palette

    palette = get_palette()
    fig, (mix, conf) = plt.subplots(2, 1, figsize=(9, 5.6), sharex=True, gridspec_kw={"height_ratios": [1.2, 1]})
    x = list(range(len(windows)))
    bottom = [0.0] * len(windows)
    for outcome, column, hatch in ((triage.UNCERTAIN, "uncertain_share", ".."), (triage.CONCERNING, "concerning_share", "//"),
                                   (triage.BENIGN, "benign_share", "")):
        values = windows[column].tolist()
        mix.bar(x, values, bottom=bottom, color=palette.outcome_colour(outcome), hatch=hatch, edgecolor=palette.background,
                label=outcome.split(" —")[0])
        bottom = [b + v for b, v in zip(bottom, values)]
    mix.axhline(baseline.uncertain_share, color=palette.text, linestyle=":", linewidth=1.2, label="baseline Uncertain")
    for i, drift in enumerate(windows["drift"]):
        if drift:
            mix.text(i, 1.02, "DRIFT", ha="center", va="bottom", fontsize=8, fontweight="bold", color=palette.text)
    mix.set_ylim(0, 1.12)
    mix.set_yticks([0, 0.25, 0.5, 0.75, 1])
    mix.set_ylabel("share of requests")
    mix.legend(fontsize=8, ncol=4, loc="lower left", bbox_to_anchor=(0, 1.04), frameon=False)
    limit = rule.limits().get("median_confidence")
    if limit is not None:
        conf.axhspan(baseline.median_confidence - limit, baseline.median_confidence + limit, color=palette.secondary,
                     alpha=0.18, linewidth=0, label="baseline ± tolerance")
    conf.axhline(baseline.median_confidence, color=palette.text, linestyle=":", linewidth=1, label="baseline")
    conf.plot(x, windows["median_confidence"], color=palette.primary, marker="o", linewidth=1.5, label="median confidence")
    if threshold is not None:
        conf.axhline(threshold, color=palette.uncertain, linewidth=0.8, linestyle="--", label=f"threshold {threshold:.2f}")
    conf.set_ylim(0, 1)
    conf.set_ylabel("median top-1 confidence")
    conf.legend(fontsize=7, loc="lower left", ncol=2, frameon=False)
    conf.set_xticks(x, [f"{w}\n{s}\n{e:%H:%M:%S}" for w, s, e in zip(windows["window"], windows["set"], windows["end"])], fontsize=7)
    conf.set_xlabel("window of consecutive requests (number, set, time of its last request)")
    fig.suptitle("Captured answers over time: outcome mix and confidence against your baseline", fontsize=10)
    fig.tight_layout()
    parts = [f"window {w} ({s}, {n} requests): Uncertain {u:.0%}, Concerning {c:.0%}, median {m:.2f}{', DRIFT' if d else ''}"
             for w, s, n, u, c, m, d in zip(windows["window"], windows["set"], windows["requests"], windows["uncertain_share"],
                                            windows["concerning_share"], windows["median_confidence"], windows["drift"])]
    alt = (f"Two charts over {len(windows)} windows of captured requests. Top: stacked bars of the outcome mix; bottom: median "
           f"confidence against the baseline {baseline.median_confidence:.2f}. " + "; ".join(parts) + ".")
    return fig, alt


# --- what it means ------------------------------------------------------------------------------------


def findings(sets: pd.DataFrame) -> list[str]:
    """One sentence per set: drift and why, or within the baseline."""
    lines = []
    for row in sets.itertuples(index=False):
        if row.drift:
            lines.append(f"DRIFT in '{row.set}' ({row.requests} requests): {row.why}.")
        else:
            lines.append(f"'{row.set}' ({row.requests} requests) stays within your tolerance of the baseline.")
    return lines


def record_findings(sets: pd.DataFrame, baseline: Baseline, settings, work_dir=None) -> dict:
    """Put what monitoring found into the learner's risk register and DPIA (nothing they typed is overwritten).

    ``settings`` is what :func:`helpers.capture.enable_capture` returned. One risk per drifted set, one for
    the captured data itself; the DPIA gets a paragraph on what is captured, where and for how long.
    Returns ``{"risks": [ids], "dpia_notes": number of paragraphs added}``.
    """
    from .worksheets import RiskRegister
    from .worksheets.dpia import add_note

    register = RiskRegister(work_dir)
    ids = []
    for row in sets[sets["drift"]].itertuples(index=False):
        ids.append(register.add_risk(
            description=f"Drift: '{row.set}' traffic moves Derm-Assist's outcomes away from the baseline, unseen unless "
                        "someone watches the captured answers.",
            category="Data", likelihood=4, impact=4,
            mitigation="Watch the outcome mix and confidence of captured answers against a baseline; alert and review "
                       "when they drift; check image quality (light, focus, is it skin?) before classifying.",
            owner="", status="Monitoring", notes=f"Notebook 06: {row.why}. {baseline.describe()}",
            source="monitoring (notebook 06)"))
    what = "requests (the photos) and answers" if settings.capture_inputs else "answers only, never the photos"
    ids.append(register.add_risk(
        description="Captured answers in S3 could be linked back to a consultation and a patient.",
        category="Ethical/Compliance", likelihood=2, impact=3,
        mitigation=f"Capture {what}; the InferenceId names a request, not a person; private bucket with public access "
                   f"blocked; deleted after {settings.retention_days} days; access by role only.",
        owner="", status="Mitigated" if not settings.capture_inputs else "Open",
        notes=f"Data Capture on {settings.endpoint} into {settings.location.s3_uri}.", source="monitoring (notebook 06)"))
    notes = 0
    notes += add_note("data_categories",
                      f"Data Capture (notebook 06): for {settings.sampling}% of requests SageMaker stores the model's answer "
                      f"(labels and scores), the time and a request id in {settings.location.s3_uri}, deleted after "
                      f"{settings.retention_days} days. " + ("The photos are captured too (inputs)." if settings.capture_inputs
                                                            else "The photos are not captured (outputs only)."), work_dir)
    notes += add_note("mitigations",
                      "Monitoring: captured answers are compared with a baseline each week; drift in the share of Uncertain or "
                      "Potentially Concerning outcomes, or in the median confidence, triggers a review before more use.", work_dir)
    drifted_sets = sets[sets["drift"]]
    if not drifted_sets.empty:
        notes += add_note("risks", "Monitoring found drift: " + " ".join(findings(drifted_sets)) +
                          " Changed photos (light, focus, not skin) change outcomes, which can delay a referral.", work_dir)
    return {"risks": ids, "dpia_notes": notes}


def outcome_shares(table: pd.DataFrame, column: str = "set") -> pd.DataFrame:
    """Share of each outcome per ``column`` value (rows in order of appearance), for a quick table."""
    order = list(dict.fromkeys(table[column]))
    counts = pd.crosstab(table[column], table["outcome"], normalize="index").reindex(index=order, columns=list(triage.OUTCOMES))
    return counts.fillna(0.0).round(2)
