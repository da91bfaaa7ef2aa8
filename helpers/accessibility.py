"""Accessible output: palettes, WCAG contrast checks, alt text and screen-reader-friendly results.

The plotting code reads :func:`get_palette` for every colour it draws, so one call to
``set_palette("okabe-ito")`` switches every chart in the pack to a colour-blind-safe palette.
Colour is never the only carrier of meaning: charts also get alt text from
:func:`describe_predictions`, and results have a plain-text form from :func:`plain_text_result`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from . import triage
from .core.errors import BadInputError

AA_NORMAL = 4.5  # WCAG 2.x success criterion 1.4.3, normal text
AA_LARGE = 3.0  # large text (18 pt, or 14 pt bold) and, under 1.4.11, chart marks and UI parts


@dataclass(frozen=True)
class Palette:
    """Colours by role, so charts say *what* a colour means rather than which hex it is."""

    name: str
    primary: str
    secondary: str
    benign: str
    concerning: str
    uncertain: str
    text: str
    background: str
    series: tuple[str, ...]
    sequential: str  # a matplotlib colormap name for heat maps

    def outcome_colour(self, outcome: str) -> str:
        """The colour for a triage outcome (one of ``triage.OUTCOMES``)."""
        colours = {triage.BENIGN: self.benign, triage.CONCERNING: self.concerning, triage.UNCERTAIN: self.uncertain}
        if outcome not in colours:
            raise BadInputError(f"{outcome!r} is not a triage outcome. Use one of: {', '.join(triage.OUTCOMES)}.")
        return colours[outcome]


_PALETTES = {
    "default": Palette(
        name="default",
        primary="#1f77b4",
        secondary="#ff7f0e",
        benign="#2ca02c",
        concerning="#d62728",
        uncertain="#ff7f0e",
        text="#222222",
        background="#ffffff",
        series=("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"),
        sequential="viridis",
    ),
    # Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
    "okabe-ito": Palette(
        name="okabe-ito",
        primary="#0072B2",
        secondary="#E69F00",
        benign="#0072B2",
        concerning="#D55E00",
        uncertain="#E69F00",
        text="#000000",
        background="#ffffff",
        series=("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"),
        sequential="cividis",
    ),
}
_ALIASES = {
    "colour-blind-safe": "okabe-ito",
    "color-blind-safe": "okabe-ito",
    "colourblind": "okabe-ito",
    "colorblind": "okabe-ito",
    "okabe_ito": "okabe-ito",
}
_current = {"name": "default"}


def palette_names() -> tuple[str, ...]:
    """The palettes :func:`set_palette` accepts (aliases such as ``"colour-blind-safe"`` work too)."""
    return tuple(_PALETTES)


def _resolve(name: str) -> str:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _PALETTES:
        raise BadInputError(
            f"Unknown palette {name!r}. Use one of: {', '.join(palette_names())} (or 'colour-blind-safe')."
        )
    return key


def set_palette(name: str) -> Palette:
    """Switch every chart the pack draws to palette ``name``; returns it."""
    _current["name"] = _resolve(name)
    return get_palette()


def get_palette(name: str | None = None) -> Palette:
    """The palette in use (or the one called ``name``)."""
    return _PALETTES[_resolve(name) if name is not None else _current["name"]]


# --- contrast -------------------------------------------------------------------------------------

Colour = str | Sequence[float]


def to_rgb255(colour: Colour) -> tuple[int, int, int]:
    """``"#RRGGBB"``, ``"#RGB"``, a CSS/matplotlib colour name, (r, g, b) in 0-255, or floats in 0-1."""
    if isinstance(colour, str):
        from matplotlib.colors import to_rgb

        try:
            floats = to_rgb(colour.strip())
        except ValueError:
            raise BadInputError(
                f"Not a colour: {colour!r}. Use a hex code like '#1f77b4' or a name like 'black'."
            ) from None
        return tuple(round(c * 255) for c in floats)  # type: ignore[return-value]
    values = tuple(colour)[:3] if isinstance(colour, Sequence) else ()
    if len(values) != 3 or not all(isinstance(v, (int, float)) for v in values):
        raise BadInputError(f"Not a colour: {colour!r}. Use a hex code or an (r, g, b) tuple.")
    if all(isinstance(v, float) for v in values) and all(0.0 <= v <= 1.0 for v in values):
        values = tuple(v * 255 for v in values)
    if not all(0 <= v <= 255 for v in values):
        raise BadInputError(f"RGB values must be 0-255 (or all floats 0-1); got {colour!r}.")
    return tuple(round(v) for v in values)  # type: ignore[return-value]


def relative_luminance(colour: Colour) -> float:
    """WCAG 2.x relative luminance: 0 for black, 1 for white."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb255(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: Colour, bg: Colour) -> float:
    """WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white). Order does not matter."""
    a, b = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def pack_colour_pairs() -> list[tuple[str, str, str]]:
    """(use, foreground, background) for the text/background pairs the pack's charts and results use:
    body text, each role colour used as text, and white labels on outcome badges."""
    pairs = []
    for palette in _PALETTES.values():
        bg = palette.background
        pairs.append((f"{palette.name}: body text", palette.text, bg))
        for role in ("primary", "benign", "concerning", "uncertain"):
            pairs.append((f"{palette.name}: {role} as text", getattr(palette, role), bg))
        for role in ("benign", "concerning", "uncertain"):
            pairs.append((f"{palette.name}: white on {role} badge", "#ffffff", getattr(palette, role)))
    return pairs


def best_text_colour(background: Colour) -> str:
    """Black or white, whichever contrasts more with ``background`` (for labels on coloured bars)."""
    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background) else "#ffffff"


def _normalise_pairs(pairs) -> list[tuple[str, Colour, Colour]]:
    if isinstance(pairs, Mapping):
        pairs = [(name, *value) for name, value in pairs.items()]
    result = []
    for item in pairs:
        item = tuple(item)
        if len(item) == 2:
            item = (f"{item[0]} on {item[1]}", *item)
        if len(item) != 3:
            raise BadInputError(f"Each pair must be (foreground, background) or (use, fg, bg); got {item!r}.")
        result.append(item)
    return result


def check_contrast(pairs: Iterable | Mapping | None = None) -> pd.DataFrame:
    """Contrast ratio of each text/background pair, and whether it passes WCAG AA.

    ``pairs``: ``[(fg, bg), ...]``, ``[(use, fg, bg), ...]`` or ``{use: (fg, bg)}``; by default
    every pair the pack uses (:func:`pack_colour_pairs`). AA normal text needs 4.5:1; large text
    (and chart marks, WCAG 1.4.11) needs 3:1.
    """
    rows = []
    for use, fg, bg in _normalise_pairs(pack_colour_pairs() if pairs is None else pairs):
        ratio = contrast_ratio(fg, bg)
        rows.append(
            {
                "use": use,
                "foreground": fg,
                "background": bg,
                "ratio": round(ratio, 2),
                "aa_normal": ratio >= AA_NORMAL,
                "aa_large": ratio >= AA_LARGE,
            }
        )
    return pd.DataFrame(rows, columns=["use", "foreground", "background", "ratio", "aa_normal", "aa_large"])


# --- words for screen readers ---------------------------------------------------------------------


def spoken_label(label: str) -> str:
    """A label as a person would say it: ``melanocytic_Nevi`` -> ``melanocytic nevi``;
    ImageNet's ``German shepherd, German shepherd dog, ...`` -> ``German shepherd``."""
    text = str(label).split(",")[0].strip()
    if "_" in text:  # a model identifier such as melanocytic_Nevi: words, lower case
        text = " ".join(text.replace("_", " ").split()).lower()
    return text


def percent(score: float) -> str:
    """0.968 -> ``"97%"``; tiny scores say "less than 1%" rather than "0%"."""
    value = float(score) * 100
    if 0 < value < 0.5:
        return "less than 1%"
    if 99.5 <= value < 100:
        return "more than 99%"
    return f"{value:.0f}%"


def confidence_words(score: float) -> str:
    """A confidence in words and percent, e.g. ``"high confidence (92%)"``."""
    score = float(score)
    level = "high" if score >= 0.8 else "moderate" if score >= 0.6 else "low"
    return f"{level} confidence ({percent(score)})"


def _checked(predictions) -> list[dict]:
    checked = []
    for p in predictions or []:
        if hasattr(p, "label") and hasattr(p, "score"):  # a helpers.classify.Prediction
            p = {"label": p.label, "score": p.score}
        if not isinstance(p, Mapping) or "label" not in p or "score" not in p:
            raise BadInputError(
                f"Each prediction must be a dict with 'label' and 'score'; got {p!r}. Pass the endpoint's answer as is."
            )
        checked.append({"label": str(p["label"]), "score": float(p["score"])})
    return sorted(checked, key=lambda p: p["score"], reverse=True)


def describe_predictions(predictions, title: str | None = None) -> str:
    """Alt text for a top-k bar chart, e.g. "Bar chart of the top 5 predictions for dog.jpg.
    Highest: German shepherd, 97%. Then: malinois, 1%; ..."."""
    preds = _checked(predictions)
    subject = f" for {title}" if title else ""
    if not preds:
        return f"Bar chart of predictions{subject}: no predictions to show."
    noun = "prediction" if len(preds) == 1 else f"{len(preds)} predictions"
    first = preds[0]
    text = f"Bar chart of the top {noun}{subject}. Highest: {spoken_label(first['label'])}, {percent(first['score'])}."
    rest = [f"{spoken_label(p['label'])}, {percent(p['score'])}" for p in preds[1:]]
    if rest:
        text += " Then: " + "; ".join(rest) + "."
    return text


def plain_text_result(
    result=None,
    *,
    outcome: str | None = None,
    confidence: float | None = None,
    predictions=None,
    image_name: str | None = None,
    top: int = 3,
) -> str:
    """A triage result as short sentences a screen reader reads well, ending with the disclaimer.

    Pass a result (a dict or an object with ``outcome``, ``confidence``, ``predictions``) or the
    fields as keywords; keywords win.
    """
    def field(name):
        if isinstance(result, Mapping):
            return result.get(name)
        return getattr(result, name, None)

    outcome = outcome if outcome is not None else field("outcome")
    confidence = confidence if confidence is not None else field("confidence")
    predictions = predictions if predictions is not None else field("predictions")
    image_name = image_name if image_name is not None else field("image_name")
    if not outcome:
        raise BadInputError("plain_text_result needs an outcome, e.g. outcome='Benign'. Pass the triage result.")
    preds = _checked(predictions)
    if confidence is None and preds:
        confidence = preds[0]["score"]
    lines = [f"Result{f' for {image_name}' if image_name else ''}: {outcome}."]
    if confidence is not None:
        lines.append(f"The model reports {confidence_words(confidence)}.")
    if preds:
        listed = "; ".join(f"{spoken_label(p['label'])}, {percent(p['score'])}" for p in preds[: max(top, 1)])
        lines.append(f"Top classes: {listed}.")
    lines.append(triage.DISCLAIMER)
    return "\n".join(lines)
