"""Data bias: does the model treat skin tones alike? Confidence and referral rate by Fitzpatrick type.

Input is one row per classified image with its Fitzpatrick type, the top class's score and the
triage outcome at the learner's threshold. The referral rate is the share of outcomes that are not
:data:`helpers.triage.BENIGN` (any other outcome of the triage rule refers the patient). With only a
few images per group the gaps are noisy, so each rate comes with a 95% Wilson interval.
"""

from __future__ import annotations

import math

import pandas as pd

from ..core.errors import BadInputError
from ..images import FITZPATRICK_TYPES
from ..triage import BENIGN

Z95 = 1.959964


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion; sensible even for tiny ``n`` (``(0, 1)`` if n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # The interval always contains p; rounding can put a bound a hair past it (1 - 1e-16 when p is 1).
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def _group_order(groups) -> list:
    present = list(dict.fromkeys(groups))
    known = [g for g in FITZPATRICK_TYPES if g in present]
    return known + sorted((g for g in present if g not in FITZPATRICK_TYPES), key=str)


def fairness_by_group(df: pd.DataFrame, group_col: str = "fitzpatrick", score_col: str = "top_score",
                      outcome_col: str = "triage", benign: str = BENIGN) -> pd.DataFrame:
    """One row per group, in Fitzpatrick order I..VI: ``n``, ``mean_confidence``, ``min_confidence``,
    ``share: <outcome>`` for each outcome seen, ``referral_rate`` (not ``benign``) and its 95% interval."""
    missing = [c for c in (group_col, score_col, outcome_col) if c not in df.columns]
    if missing:
        raise BadInputError(f"Missing column(s) {', '.join(missing)}; the table has {', '.join(map(str, df.columns))}. "
                            "Pass group_col=, score_col=, outcome_col= to match it.")
    data = df[[group_col, score_col, outcome_col]].dropna(subset=[group_col]).copy()
    if data.empty:
        raise BadInputError("No rows with a group to audit. Classify and triage the skin proxies first.")
    data[group_col] = data[group_col].astype(str)
    outcomes = list(dict.fromkeys([benign] + sorted(set(data[outcome_col].astype(str)) - {benign})))
    rows = []
    for group in _group_order(data[group_col]):
        part = data[data[group_col] == group]
        n = len(part)
        referred = int((part[outcome_col].astype(str) != benign).sum())
        low, high = wilson_interval(referred, n)
        row = {"group": group, "n": n, "mean_confidence": float(part[score_col].mean()),
               "min_confidence": float(part[score_col].min())}
        row.update({f"share: {o}": float((part[outcome_col].astype(str) == o).mean()) for o in outcomes})
        row.update({"referral_rate": referred / n, "referral_ci_low": low, "referral_ci_high": high})
        rows.append(row)
    return pd.DataFrame(rows).set_index("group").rename_axis(group_col)


def _gap(table: pd.DataFrame, column: str) -> float:
    if column not in table.columns or table.empty:
        raise BadInputError(f"Expected the table from fairness_by_group (with a {column!r} column).")
    values = table.loc[table["n"] > 0, column] if "n" in table.columns else table[column]
    return float(values.max() - values.min())


def referral_gap(table: pd.DataFrame) -> float:
    """Largest minus smallest referral rate across groups (0 = every group referred equally often)."""
    return _gap(table, "referral_rate")


def confidence_gap(table: pd.DataFrame, column: str = "mean_confidence") -> float:
    """Largest minus smallest mean (or ``column="min_confidence"``) confidence across groups."""
    return _gap(table, column)


def plot_fairness(table: pd.DataFrame, ax=None):
    """Referral rate per Fitzpatrick type with 95% intervals and n under each bar; mean confidence as
    markers on a second axis. Returns the figure."""
    import matplotlib.pyplot as plt

    from ..accessibility import get_palette

    if "referral_rate" not in table.columns:
        raise BadInputError("plot_fairness needs the table from fairness_by_group(...).")
    palette = get_palette()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    fig = ax.figure
    groups = [str(g) for g in table.index]
    x = range(len(groups))
    rates = table["referral_rate"].to_numpy()
    errors = [rates - table["referral_ci_low"].to_numpy(), table["referral_ci_high"].to_numpy() - rates]
    ax.bar(x, rates, color=palette.primary, label="referral rate (95% interval)")
    ax.errorbar(x, rates, yerr=errors, fmt="none", ecolor=palette.text, capsize=4, linewidth=1)
    ax.set_xticks(list(x), [f"{g}\nn={n}" for g, n in zip(groups, table["n"])])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"Fitzpatrick type ({table.index.name or 'group'})")
    ax.set_ylabel("Referral rate (not 'Benign')")
    twin = ax.twinx()
    twin.plot(list(x), table["mean_confidence"], "D", color=palette.secondary, markersize=7,
              label="mean confidence")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("Mean top-class confidence")
    handles = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    # Below the axis labels, never over the bars (a bar can reach the top of the plot).
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    ax.set_title(f"Referral rate by skin type: gap {referral_gap(table):.0%}, "
                 f"confidence gap {confidence_gap(table):.2f}", fontsize=10)
    return fig
