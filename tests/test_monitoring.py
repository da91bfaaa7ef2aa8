"""Monitoring from captured answers: drifted images, outcomes by the MVP's rule, baseline, drift flags, findings."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from fake_progress import record_bars
from PIL import Image, ImageFilter

from helpers import classify, images, models, monitoring, state, triage
from helpers.capture import CaptureLocation, CaptureSettings
from helpers.core.config import DEFAULT_SERVERLESS_CONCURRENCY, SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError, EndpointNotFoundError
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


# --- traffic: a few requests in flight, set by set ------------------------------------------------------------

# Two sets of tiny images; image i is red i, and the fake endpoint answers "red i" for it.
SETS = {"first": [(f"p{i}", Image.new("RGB", (8, 8), (i, 0, 0))) for i in range(10)],
        "second": [(f"p{i}", Image.new("RGB", (8, 8), (i, 0, 0))) for i in range(10, 17)]}


class FakeClassify:
    """Stands in for classify.classify: a short wait (later requests shorter, so they finish first), then the image's
    colour as its label. Notes how many requests overlap, and from how many sets."""

    def __init__(self, bad=(), fatal_at=None):
        self.bad, self.fatal_at = set(bad), fatal_at
        self.lock = threading.Lock()
        self.in_flight: Counter = Counter()  # set -> requests in flight
        self.most = self.most_sets = 0
        self.started: list[str] = []
        self.answered: dict[str, str] = {}  # inference id -> label
        self.endpoints: set[str] = set()

    def __call__(self, image, endpoint=None, top_k=5, *, inference_id=None, **_):
        set_name = monitoring.set_of(inference_id)
        with self.lock:
            self.in_flight[set_name] += 1
            self.most = max(self.most, sum(self.in_flight.values()))
            self.most_sets = max(self.most_sets, len(+self.in_flight))
            self.started.append(inference_id)
            self.endpoints.add(endpoint)
        try:
            time.sleep(0.05 - 0.004 * (int(inference_id[-3:]) % 8))
            label = f"red {image.getpixel((0, 0))[0]}"
            if inference_id == self.fatal_at:
                raise EndpointNotFoundError(f"Endpoint '{endpoint}' not found. Deploy it again.")
            if label in self.bad:
                raise BadInputError(f"{label} is not an image the endpoint takes.")
            with self.lock:
                self.answered[inference_id] = label
            return classify.Classification(image="image", predictions=[classify.Prediction(label, 0.9)], endpoint=endpoint,
                                           latency_ms=50.0)
        finally:
            with self.lock:
                self.in_flight[set_name] -= 1


@pytest.fixture
def fake(mock_aws, monkeypatch):
    """A fake endpoint call in place of classify.classify (the mock only gives a clean work folder and region)."""
    fake = FakeClassify()
    monkeypatch.setattr(classify, "classify", fake)
    return fake


def test_traffic_keeps_a_few_requests_in_flight_set_by_set_and_rows_in_request_order(fake, monkeypatch):
    sent = monitoring.send_traffic(SETS, "ep", progress=False)
    assert 1 < fake.most <= classify.DEFAULT_CONCURRENCY  # requests overlapped, as many as classify_many keeps
    assert fake.most_sets == 1  # a set is finished before the next starts: captured traffic still comes set by set
    assert list(sent.inference_id) == [f"first/{n:03d}" for n in range(1, 11)] + [f"second/{n:03d}" for n in range(1, 8)]
    assert dict(zip(sent.inference_id, sent.top_label)) == fake.answered  # each row is its own request's answer
    assert list(sent.set) == ["first"] * 10 + ["second"] * 7

    alone = FakeClassify()
    monkeypatch.setattr(classify, "classify", alone)
    pd.testing.assert_frame_equal(monitoring.send_traffic(SETS, "ep", progress=False, concurrency=1), sent)
    assert alone.most == 1
    unshuffled = monitoring.send_traffic(SETS, "ep", shuffle_seed=None, progress=False)
    assert list(unshuffled.top_label) == [f"red {i}" for i in range(17)] != list(sent.top_label)


def test_failed_requests_are_reported_in_order_and_skipped(fake, capsys):
    fake.bad = {"red 12", "red 3", "red 5"}
    sent = monitoring.send_traffic(SETS, "ep", shuffle_seed=None, progress=False)
    assert len(sent) == 14 and not {"red 3", "red 5", "red 12"} & set(sent.top_label)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["not sent", "not sent", "not sent"]
    assert [line.split(": ")[1] for line in lines] == ["first / p3", "first / p5", "second / p12"]


def test_an_endpoint_that_is_gone_stops_the_traffic(fake):
    fake.fatal_at = "first/004"
    with pytest.raises(EndpointNotFoundError, match="Deploy it again"):
        monitoring.send_traffic(SETS, "ep", progress=False)
    assert fake.started and not any(i.startswith("second/") for i in fake.started)  # stopped: the next set never went


def test_traffic_to_the_remembered_serverless_endpoint_keeps_its_max_concurrency(fake):
    state.remember_endpoint("derm-assist-tester-sls", models.SKIN.id, serverless=True)
    monitoring.send_traffic(SETS, progress=False)
    assert fake.endpoints == {"derm-assist-tester-sls"}
    assert fake.most == DEFAULT_SERVERLESS_CONCURRENCY == classify.default_concurrency("derm-assist-tester-sls")


def test_the_traffic_progress_bar_counts_requests(fake, monkeypatch):
    bars = record_bars(monkeypatch, monitoring)
    monitoring.send_traffic(SETS, "ep")
    [bar] = bars
    assert bar.kwargs["total"] == bar.count == 17 and bar.kwargs["unit"] == "request"


@pytest.mark.parametrize("bad", [0, 17, True])
def test_traffic_concurrency_is_a_small_whole_number(fake, bad):
    with pytest.raises(BadInputError, match="concurrency must be a whole number from 1 to 16") as info:
        monitoring.send_traffic(SETS, "ep", progress=False, concurrency=bad)
    assert "\n" not in str(info.value) and fake.started == []


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
