"""Monitoring from captured answers: drifted images, outcomes by the MVP's rule, baseline, drift flags, findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from PIL import ImageFilter

from helpers import images, monitoring, triage
from helpers.capture import CaptureLocation, CaptureSettings
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError
from helpers.worksheets import RiskRegister
from helpers.worksheets.dpia import SPEC as DPIA

PROXIES = sorted(SKIN_PROXIES_DIR.glob("*.png"))
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def captured(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """A capture table (as capture.read_capture returns) from (set, top label, top score), one second apart."""
    return pd.DataFrame([{"inference_time": START + timedelta(seconds=i), "inference_id": monitoring.inference_id(s, i + 1),
                          "event_id": f"e{i}", "top_label": label, "top_score": score, "predictions": [], "input_captured": False,
                          "file": "f.jsonl"} for i, (s, label, score) in enumerate(rows)])


def proxies_like(n_uncertain: int, n_concerning: int, n_benign: int, set_name: str, confident: float = 0.7):
    return ([(set_name, "melanoma", 0.3)] * n_uncertain + [(set_name, "melanoma", confident)] * n_concerning
            + [(set_name, "melanocytic_Nevi", confident)] * n_benign)


@pytest.fixture
def table():
    rows = (proxies_like(5, 3, 2, "skin proxies") + proxies_like(0, 6, 0, "fun images", confident=0.97)
            + proxies_like(8, 1, 1, "blurred proxies"))
    return monitoring.with_outcomes(captured(rows), threshold=0.5)


def luminance(image) -> float:
    return float(np.asarray(image.convert("L"), dtype=float).mean())


def sharpness(image) -> float:
    return float(np.asarray(image.convert("L").filter(ImageFilter.FIND_EDGES), dtype=float).mean())


def test_drifted_images_are_darker_or_blurred_copies():
    original = images.load_image(PROXIES[0])
    (dark_name, dark), = monitoring.drifted(PROXIES[:1], "darker")
    (blur_name, blur), = monitoring.drifted(PROXIES[:1], "blurred")
    assert dark.size == blur.size == original.size and dark_name.endswith("_darker") and blur_name.endswith("_blurred")
    assert luminance(dark) < 0.95 * luminance(original)  # a gamma curve: light skin darkens a little, dark skin a lot
    darker_all = [luminance(image) for _, image in monitoring.drifted(PROXIES, "darker")]
    assert np.mean(darker_all) < 0.75 * np.mean([luminance(images.load_image(p)) for p in PROXIES])
    assert sharpness(blur) < 0.5 * sharpness(original) and abs(luminance(blur) - luminance(original)) < 3
    assert luminance(monitoring.drifted(PROXIES[:1], "darker", 3.0)[0][1]) < luminance(dark)  # stronger = darker
    assert len(monitoring.drifted([SKIN_PROXIES_DIR], "blurred")) == len(PROXIES)


@pytest.mark.parametrize("kind,strength", [("foggy", None), ("darker", 0.8), ("blurred", 0)])
def test_bad_drift_is_one_line(kind, strength):
    with pytest.raises(BadInputError):
        monitoring.drifted(PROXIES[:1], kind, strength)


def test_inference_ids_carry_the_set_and_nothing_else():
    assert monitoring.inference_id("darker proxies", 7) == "darker proxies/007"
    assert monitoring.set_of("darker proxies/007") == "darker proxies"
    assert monitoring.set_of("") == monitoring.set_of("no-set-here") == monitoring.UNLABELLED
    with pytest.raises(BadInputError, match="without '/'"):
        monitoring.send_traffic({"a/b": PROXIES[:1]}, "x", progress=False)


def test_outcomes_follow_the_mvp_rule(table):
    expected = [triage.outcome_for(label, score, 0.5) for label, score in zip(table.top_label, table.top_score)]
    assert list(table.outcome) == expected
    assert list(dict.fromkeys(table.set)) == ["skin proxies", "fun images", "blurred proxies"]
    shares = monitoring.outcome_shares(table)
    assert shares.loc["skin proxies", triage.UNCERTAIN] == 0.5 and shares.loc["fun images", triage.CONCERNING] == 1.0


def test_baseline_from_a_set_or_the_learners_numbers(table):
    base = monitoring.Baseline.from_set(table, "skin proxies")
    assert (base.uncertain_share, base.concerning_share) == (0.5, 0.3)
    assert base.median_confidence == pytest.approx(table[table.set == "skin proxies"].top_score.median())
    mine = monitoring.Baseline.choose(table, "skin proxies", {"uncertain_share": 0.2, "median_confidence": None})
    assert mine.uncertain_share == 0.2 and mine.concerning_share == 0.3 and "your numbers" in mine.source
    assert monitoring.Baseline.choose(table, "skin proxies") == monitoring.Baseline.choose(table, "skin proxies", {}) == base
    with pytest.raises(BadInputError, match="Sets: blurred proxies, fun images, skin proxies"):
        monitoring.Baseline.from_set(table, "holiday snaps")
    with pytest.raises(BadInputError, match="between 0 and 1"):
        monitoring.Baseline.choose(table, "skin proxies", {"median_confidence": 60})
    with pytest.raises(BadInputError, match="'uncertain' is not a measure; use uncertain_share"):
        monitoring.Baseline.choose(table, "skin proxies", {"uncertain": 0.2})


def test_drift_is_flagged_either_way_past_the_tolerance(table):
    base = monitoring.Baseline.from_set(table, "skin proxies")
    sets = monitoring.by_set(table, base).set_index("set")
    assert not sets.loc["skin proxies", "drift"]
    fun = sets.loc["fun images"]  # confidence UP and no Uncertain at all: still drift
    assert fun.drift and "share of Uncertain 0% vs 50% (-50 points)" in fun.why and "median confidence 0.97" in fun.why
    blurred = sets.loc["blurred proxies"]
    assert blurred.drift and "share of Uncertain 80% vs 50% (+30 points)" in blurred.why
    relaxed = monitoring.DriftRule.of({"uncertain_share": 0.35, "concerning_share": 0.25})
    assert relaxed == monitoring.DriftRule(0.35, 0.25, None)
    assert not monitoring.by_set(table, base, relaxed).set_index("set").loc["blurred proxies", "drift"]
    exactly = monitoring.DriftRule(max_uncertain_change=0.30, max_concerning_change=None, max_confidence_change=None)
    assert not monitoring.by_set(table, base, exactly).set_index("set").loc["blurred proxies", "drift"]  # at the limit is not past it


@pytest.mark.parametrize("kwargs", [{"max_uncertain_change": 0}, {"max_confidence_change": 2},
                                    {"max_uncertain_change": None, "max_concerning_change": None, "max_confidence_change": None}])
def test_bad_tolerances_are_refused(kwargs):
    with pytest.raises(BadInputError):
        monitoring.DriftRule(**kwargs)
    with pytest.raises(BadInputError, match="number"):
        monitoring.DriftRule.of({"uncertain_share": "ten percent"})


def test_windows_follow_time_and_never_mix_sets(table):
    base = monitoring.Baseline.from_set(table, "skin proxies")
    windows = monitoring.over_time(table, base, window=4)
    assert list(windows.set) == ["skin proxies"] * 3 + ["fun images"] * 2 + ["blurred proxies"] * 3
    assert list(windows.requests) == [4, 4, 2, 4, 2, 4, 4, 2] and windows.requests.sum() == len(table)
    assert (windows.start <= windows.end).all() and windows.end.is_monotonic_increasing
    assert windows[windows.set == "fun images"].drift.all()
    with pytest.raises(BadInputError):
        monitoring.over_time(table, base, window=0)
    fig, alt = monitoring.plot_over_time(windows, base, threshold=0.5)
    assert len(fig.axes) == 2 and alt.count("window ") == len(windows) and "DRIFT" in alt
    assert "DRIFT" in [t.get_text() for t in fig.axes[0].texts]


def test_findings_go_into_the_register_and_the_dpia_once(table, tmp_path):
    work = tmp_path / "work"
    DPIA.save({**DPIA.blank(), "risks": "Photos disclosed through a breach."}, work)
    base = monitoring.Baseline.from_set(table, "skin proxies")
    sets = monitoring.by_set(table, base)
    settings = CaptureSettings("derm-assist-x", "cfg", CaptureLocation("bucket", "data-capture/x"), False, 100, 30, True)
    first = monitoring.record_findings(sets, base, settings, work)
    register = RiskRegister(work)
    assert len(first["risks"]) == 3 == len(register)  # fun images, blurred proxies, the captured data itself
    assert {r["source"] for r in register.risks} == {"monitoring (notebook 06)"}
    assert any("'blurred proxies'" in r["description"] and r["status"] == "Monitoring" for r in register.risks)
    dpia = DPIA.load(work).data
    assert dpia["risks"].startswith("Photos disclosed through a breach.")  # what was typed stays first, untouched
    assert "Monitoring found drift" in dpia["risks"] and "outputs only" in dpia["data_categories"]
    assert first["dpia_notes"] == 3
    again = monitoring.record_findings(sets, base, settings, work)  # re-running the cell changes nothing
    assert again == {"risks": first["risks"], "dpia_notes": 0} and len(RiskRegister(work)) == 3
    assert DPIA.load(work).data == dpia
