"""The 5 x 5 likelihood x impact heat map with risk IDs placed in their cells."""

from __future__ import annotations

import io
from collections import defaultdict
from functools import lru_cache

from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from .scoring import IMPACT_WORDS, LEVELS, LIKELIHOOD_WORDS, RAG_COLOURS, rag_rating


def cells(risks: list[dict]) -> dict[tuple[int, int], list[str]]:
    """``{(likelihood, impact): [ids]}``; closed risks are shown in brackets."""
    placed: dict[tuple[int, int], list[str]] = defaultdict(list)
    for risk in risks:
        l, i = risk.get("likelihood"), risk.get("impact")
        if l in LEVELS and i in LEVELS:
            label = str(risk.get("id") or "new")  # typed in the form, ID given on Save
            placed[(l, i)].append(f"({label})" if risk.get("status") == "Closed" else label)
    return placed


def new_figure(for_notebook: bool = False) -> Figure:
    """An empty figure sized for the heat map.

    ``for_notebook``: made through pyplot (so Jupyter knows how to show it) and closed at once, so
    it is shown once, as the cell's result, and not a second time by the inline backend.
    """
    if for_notebook:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(6.8, 5.4))
        plt.close(fig)
    else:
        fig = Figure(figsize=(6.8, 5.4), dpi=100)
    fig.subplots_adjust(left=0.19, right=0.76, bottom=0.15, top=0.92)  # fixed: faster than a layout engine
    return fig


def draw(risks: list[dict], ax=None):
    """Draw the heat map on ``ax`` (or a new figure) and return the figure.

    Colour is never the only cue: every cell also prints its score, and the legend names the bands.
    """
    if ax is None:
        ax = new_figure().add_subplot()
    fig = ax.figure
    placed = cells(risks)
    for l in LEVELS:
        for i in LEVELS:
            score = l * i
            ax.add_patch(_cell(l, i, RAG_COLOURS[rag_rating(score)]))
            ax.text(l - 0.44, i + 0.40, str(score), fontsize=7, color="#333333", va="top", ha="left")
            ids = placed.get((l, i), [])
            if ids:
                rows = [", ".join(ids[k:k + 3]) for k in range(0, len(ids), 3)]
                ax.text(l, i - 0.05, "\n".join(rows), ha="center", va="center", fontsize=10,
                        fontweight="bold", color="black")
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(list(LEVELS), [f"{n}\n{LIKELIHOOD_WORDS[n]}" for n in LEVELS], fontsize=8)
    ax.set_yticks(list(LEVELS), [f"{IMPACT_WORDS[n]} {n}" for n in LEVELS], fontsize=8)
    ax.set_xlabel("Likelihood")
    ax.set_ylabel("Impact")
    ax.set_aspect("equal")
    ax.set_title("Risk heat map: likelihood × impact")
    handles = [_cell(0, 0, RAG_COLOURS[name]) for name in RAG_COLOURS]
    ax.legend(handles, ["Green 1–6", "Amber 8–12", "Red 15–25"], loc="upper left",
              bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)
    return fig


def _cell(l: int, i: int, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((l - 0.5, i - 0.5), 1, 1, facecolor=to_rgb(colour), edgecolor="white", linewidth=2)


def png(risks: list[dict]) -> bytes:
    """The heat map as PNG bytes (for exports and the portfolio).

    The picture depends only on each risk's ID, likelihood, impact and status, so saving a register
    whose texts changed reuses the last picture instead of drawing it again (a draw takes ~0.3 s).
    """
    placed = tuple((risk.get("id"), risk.get("likelihood"), risk.get("impact"), risk.get("status")) for risk in risks)
    return _png(placed)


@lru_cache(maxsize=16)
def _png(placed: tuple) -> bytes:
    risks = [{"id": rid, "likelihood": l, "impact": i, "status": status} for rid, l, i, status in placed]
    buffer = io.BytesIO()
    draw(risks).savefig(buffer, format="png", dpi=110, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()


def alt_text(risks: list[dict]) -> str:
    """A text equivalent of the heat map, for screen readers and the printed portfolio."""
    placed = cells(risks)
    if not placed:
        return "Risk heat map (5 by 5, likelihood by impact): no risks placed yet."
    parts = [
        f"{', '.join(ids)} at likelihood {l}, impact {i} (score {l * i}, {rag_rating(l * i)})"
        for (l, i), ids in sorted(placed.items(), key=lambda kv: (-kv[0][0] * kv[0][1], kv[0]))
    ]
    return "Risk heat map (5 by 5, likelihood by impact): " + "; ".join(parts) + "."
