"""The charts the notebooks draw. Every chart comes with alt text, and uses the current palette
(``helpers.accessibility.set_palette("colourblind")`` switches all of them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use(matplotlib.get_backend())  # keep the notebook's backend; Agg under papermill via MPLBACKEND
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .accessibility import best_text_colour, describe_predictions, get_palette  # noqa: E402
from .classify import Classification  # noqa: E402
from .images import FITZPATRICK_TYPES, load_image  # noqa: E402


def _short(label: str, limit: int = 34) -> str:
    first = label.split(",")[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def prediction_bars(ax, result: Classification, title: str | None = None) -> None:
    """Horizontal bars of the top-k scores, highest at the top, scores written on the bars."""
    palette = get_palette()
    labels = [_short(p.label) for p in result.predictions][::-1]
    scores = [p.score for p in result.predictions][::-1]
    colours = [palette.secondary] * (len(scores) - 1) + [palette.primary]
    ax.barh(labels, scores, color=colours)
    ax.set_xlim(0, 1)
    ax.set_xlabel("confidence")
    for y, score in enumerate(scores):
        text = f"{score:.0%}" if score >= 0.005 else "<1%"
        inside = score > 0.8  # write on the bar when there is no room beside it
        ax.text(score - 0.02 if inside else score + 0.02, y, text, va="center", ha="right" if inside else "left",
                color=best_text_colour(palette.primary) if inside else palette.text, fontsize=9)
    ax.set_title(title or Path(result.image).name, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)


def image_with_predictions(result: Classification, image_path: str | Path | None = None):
    """One image beside its top-k bar chart. Returns (figure, alt text)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 1.4]})
    left.imshow(load_image(image_path or result.image))
    left.axis("off")
    prediction_bars(right, result)
    fig.tight_layout()
    alt = describe_predictions([{"label": p.label, "score": p.score} for p in result.predictions], title=Path(result.image).name)
    return fig, alt


def gallery(results: Sequence[Classification], columns: int = 2):
    """Every image beside its bars, in a grid. Returns (figure, alt text for the whole grid)."""
    rows = (len(results) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns * 2, figsize=(6.5 * columns, 2.6 * rows), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.5] * columns})
    for index in range(rows * columns):
        image_ax, bars_ax = axes[index // columns][2 * (index % columns)], axes[index // columns][2 * (index % columns) + 1]
        if index >= len(results):
            image_ax.axis("off")
            bars_ax.axis("off")
            continue
        result = results[index]
        image_ax.imshow(load_image(result.image))
        image_ax.axis("off")
        prediction_bars(bars_ax, result)
    fig.tight_layout()
    alt = " ".join(
        describe_predictions([{"label": p.label, "score": p.score} for p in r.predictions], title=Path(r.image).name) for r in results
    )
    return fig, alt


def confidence_contrast(groups: dict[str, Sequence[float]], title: str = "Top-1 confidence"):
    """Each group's top-1 confidences as dots over a box: the teachable contrast in one picture."""
    palette = get_palette()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    names = list(groups)
    ax.boxplot([list(groups[n]) for n in names], tick_labels=names, widths=0.4, showfliers=False)
    for i, name in enumerate(names, start=1):
        values = list(groups[name])
        offsets = [i + (j - (len(values) - 1) / 2) * 0.03 for j in range(len(values))]
        ax.scatter(offsets, values, color=palette.series[(i - 1) % len(palette.series)], zorder=3, s=28)
    ax.set_ylim(0, 1)
    ax.set_ylabel("top-1 confidence")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    parts = []
    for name in names:
        values = pd.Series(list(groups[name]), dtype=float)
        parts.append(f"{name}: {len(values)} images, median {values.median():.0%}, range {values.min():.0%} to {values.max():.0%}")
    return fig, f"Box plot of {title.lower()}. " + "; ".join(parts) + "."


def confidence_by_fitzpatrick(table: pd.DataFrame, score_col: str = "top_score", title: str = "Top-1 confidence by Fitzpatrick type"):
    """Mean (bar) and each image (dots) of top-1 confidence per Fitzpatrick type I..VI."""
    palette = get_palette()
    order = [t for t in FITZPATRICK_TYPES if t in set(table["fitzpatrick"])]
    means = table.groupby("fitzpatrick")[score_col].mean().reindex(order)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.bar(order, means.values, color=palette.secondary, alpha=0.6, label="mean")
    for i, tone in enumerate(order):
        values = table.loc[table["fitzpatrick"] == tone, score_col]
        ax.scatter([i] * len(values), values, color=palette.primary, zorder=3, s=22)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Fitzpatrick skin type (synthetic proxies)")
    ax.set_ylabel("top-1 confidence")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    alt = f"Bar chart of {title.lower()}. " + "; ".join(f"type {t}: mean {m:.0%}" for t, m in means.items()) + "."
    return fig, alt


def model_comparison(before: pd.DataFrame, after: pd.DataFrame, before_name: str, after_name: str, group_col: str = "set"):
    """Each image's top-1 confidence under two models (x: before, y: after), one colour per image set."""
    palette = get_palette()
    merged = before.merge(after, on=["image", group_col], suffixes=("_before", "_after"))
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for i, (group, rows) in enumerate(merged.groupby(group_col, sort=True)):
        ax.scatter(rows["top_score_before"], rows["top_score_after"], s=36, label=group,
                   color=palette.series[i % len(palette.series)], marker="os^D"[i % 4], zorder=3)
    ax.plot([0, 1], [0, 1], color=palette.text, linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"top-1 confidence, {before_name}")
    ax.set_ylabel(f"top-1 confidence, {after_name}")
    ax.set_title("Same images, two models")
    ax.legend(frameon=False)
    fig.tight_layout()
    parts = [f"{g}: {before_name} median {r['top_score_before'].median():.0%}, {after_name} median {r['top_score_after'].median():.0%}"
             for g, r in merged.groupby(group_col, sort=True)]
    return fig, "Scatter plot of top-1 confidence per image under two models. " + "; ".join(parts) + "."
