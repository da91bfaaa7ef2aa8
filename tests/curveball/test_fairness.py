"""Fairness audit by Fitzpatrick type."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from helpers.core.errors import BadInputError
from helpers.curveball.fairness import confidence_gap, fairness_by_group, plot_fairness, referral_gap, wilson_interval

UNCERTAIN = "Uncertain — refer for specialist review"


def audit_table():
    rows = []
    rows += [("I", 0.9, "Benign")] * 3 + [("I", 0.8, "Potentially Concerning")]
    rows += [("VI", 0.5, UNCERTAIN)] * 2 + [("VI", 0.4, "Potentially Concerning"), ("VI", 0.7, "Benign")]
    rows += [("III", 0.6, "Benign"), ("III", 0.7, "Benign")]
    return pd.DataFrame(rows, columns=["fitzpatrick", "top_score", "triage"])


def test_table_is_in_fitzpatrick_order_with_counts_and_confidence():
    table = fairness_by_group(audit_table())
    assert list(table.index) == ["I", "III", "VI"]
    assert list(table["n"]) == [4, 2, 4]
    assert table.loc["I", "mean_confidence"] == pytest.approx(0.875)
    assert table.loc["VI", "min_confidence"] == pytest.approx(0.4)


def test_referral_rate_counts_concerning_and_uncertain():
    table = fairness_by_group(audit_table())
    assert table.loc["I", "referral_rate"] == pytest.approx(0.25)
    assert table.loc["III", "referral_rate"] == 0
    assert table.loc["VI", "referral_rate"] == pytest.approx(0.75)
    assert table.loc["VI", f"share: {UNCERTAIN}"] == pytest.approx(0.5)
    assert table.loc["VI", "share: Benign"] == pytest.approx(0.25)
    shares = table[[c for c in table.columns if c.startswith("share: ")]].sum(axis=1)
    assert shares.tolist() == pytest.approx([1.0, 1.0, 1.0])
    for group in table.index:
        row = table.loc[group]
        assert row["referral_ci_low"] <= row["referral_rate"] <= row["referral_ci_high"]


def test_gaps():
    table = fairness_by_group(audit_table())
    assert referral_gap(table) == pytest.approx(0.75)
    assert confidence_gap(table) == pytest.approx(0.875 - 0.525)  # I vs VI
    assert confidence_gap(table, "min_confidence") == pytest.approx(0.8 - 0.4)
    equal = fairness_by_group(pd.DataFrame({"fitzpatrick": ["I", "II"], "top_score": [0.9, 0.9],
                                            "triage": ["Benign", "Benign"]}))
    assert referral_gap(equal) == 0 and confidence_gap(equal) == 0


def test_wilson_interval():
    low, high = wilson_interval(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-3)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_custom_columns_and_unknown_groups_go_last():
    df = pd.DataFrame({"tone": ["V", "unknown", "II"], "score": [0.5, 0.5, 0.5],
                       "outcome": ["Benign", "Benign", "Potentially Concerning"]})
    table = fairness_by_group(df, group_col="tone", score_col="score", outcome_col="outcome")
    assert list(table.index) == ["II", "V", "unknown"] and table.index.name == "tone"


def test_missing_columns_or_rows_are_explained():
    with pytest.raises(BadInputError, match="top_score"):
        fairness_by_group(pd.DataFrame({"fitzpatrick": ["I"], "triage": ["Benign"]}))
    with pytest.raises(BadInputError, match="Classify"):
        fairness_by_group(pd.DataFrame({"fitzpatrick": [None], "top_score": [0.5], "triage": ["Benign"]}))
    with pytest.raises(BadInputError):
        referral_gap(pd.DataFrame({"x": [1]}))


def test_plot_fairness():
    table = fairness_by_group(audit_table())
    fig = plot_fairness(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["I\nn=4", "III\nn=2", "VI\nn=4"]
    assert "gap 75%" in ax.get_title()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_plot_fairness_legend_covers_no_bar_marker_or_label():
    rows = [{"fitzpatrick": tone, "top_score": score, "triage": outcome}
            for tone in ("I", "II", "III") for score, outcome in ((0.95, "Potentially Concerning"), (0.9, "Uncertain"))]
    table = fairness_by_group(pd.DataFrame(rows))  # every referral rate is 100%: bars reach the top
    fig = plot_fairness(table)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax, twin = fig.axes[:2]
    legend = ax.get_legend().get_window_extent(renderer)
    covered = [*ax.patches, *twin.lines, *ax.get_xticklabels(), ax.xaxis.label, ax.title]
    assert not [a for a in covered if legend.overlaps(a.get_window_extent(renderer))]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_referral_follows_the_triage_rule_outcomes():
    """Whatever the triage rule calls its benign outcome, everything else counts as a referral."""
    from helpers import triage

    labels = ["melanoma", "melanocytic_Nevi", "dermatofibroma", "basal_cell_carcinoma"]
    scores = [0.9, 0.8, 0.3, 0.7]
    table = pd.DataFrame({"fitzpatrick": ["II"] * 4, "top_score": scores,
                          "triage": [triage.outcome_for(lab, sc, 0.5) for lab, sc in zip(labels, scores)]})
    groups = fairness_by_group(table)
    assert groups.loc["II", "referral_rate"] == pytest.approx(3 / 4)  # only melanocytic_Nevi at 0.8 is benign
    assert groups.loc["II", f"share: {triage.BENIGN}"] == pytest.approx(1 / 4)


@pytest.mark.parametrize("n", range(1, 30))
def test_wilson_interval_always_contains_the_rate(n):
    """Found by a whole-workshop run under faults: with every image of a group referred (n=4, 10, 14, ...),
    rounding put the upper bound a hair below 1 and matplotlib refused the negative error bar in the data-bias
    exercise."""
    for k in (0, n // 2, n):
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= k / n <= high <= 1.0
