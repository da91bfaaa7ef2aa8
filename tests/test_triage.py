"""The Derm-Assist triage rule, the threshold, and the review log that never loses rows."""

import concurrent.futures
import csv
import io
import multiprocessing

import pytest

from helpers import assessment, triage
from helpers.classify import Prediction
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError
from helpers.models import SKIN_VIT, SKIN_VIT_ID


@pytest.mark.parametrize("label", ["melanoma", "basal_cell_carcinoma", "actinic_keratoses"])
def test_concerning_classes(label):
    assert triage.outcome_for(label, 0.9, 0.5) == triage.CONCERNING


@pytest.mark.parametrize("label", ["benign_keratosis-like_lesions", "melanocytic_Nevi", "vascular_lesions", "dermatofibroma"])
def test_benign_classes(label):
    assert triage.outcome_for(label, 0.9, 0.5) == triage.BENIGN


def test_every_label_is_mapped_exactly_once():
    assert triage.CONCERNING_LABELS | triage.BENIGN_LABELS == set(SKIN_VIT.labels)
    assert not triage.CONCERNING_LABELS & triage.BENIGN_LABELS


@pytest.mark.parametrize("score,threshold,expected", [
    (0.49, 0.5, triage.UNCERTAIN), (0.5, 0.5, triage.CONCERNING), (0.95, 0.96, triage.UNCERTAIN), (0.1, 0.0, triage.CONCERNING),
])
def test_threshold_boundary(score, threshold, expected):
    assert triage.outcome_for("melanoma", score, threshold) == expected


@pytest.mark.parametrize("bad", [-0.1, 1.5, "high", None])
def test_bad_threshold_is_bad_input(bad):
    with pytest.raises(BadInputError):
        triage.check_threshold(bad)


def test_imagenet_label_is_refused_with_a_remedy():
    with pytest.raises(BadInputError) as info:
        triage.outcome_for("German shepherd", 0.9)
    assert "swap" in str(info.value)


def test_triage_sorts_and_sums_concerning():
    result = triage.triage([{"label": "melanocytic_Nevi", "score": 0.55}, {"label": "melanoma", "score": 0.3},
                            Prediction("basal_cell_carcinoma", 0.15)], threshold=0.5)
    assert result.outcome == triage.BENIGN and result.top_label == "melanocytic_Nevi"
    assert result.concerning_probability == pytest.approx(0.45)
    assert "Benign" in result.summary()


def test_raising_the_threshold_only_moves_outcomes_to_uncertain():
    import pandas as pd

    table = pd.DataFrame({"image": list("abcd"), "top_label": ["melanoma", "melanocytic_Nevi", "melanoma", "dermatofibroma"],
                          "top_score": [0.95, 0.7, 0.45, 0.3]})
    outcomes = triage.outcome_table(table, (0.3, 0.5, 0.8))
    uncertain = [(outcomes[c] == triage.UNCERTAIN).sum() for c in outcomes.columns[1:]]
    assert uncertain == [0, 2, 3]
    for low, high in zip(outcomes.columns[1:], outcomes.columns[2:]):
        changed = outcomes[low] != outcomes[high]
        assert (outcomes.loc[changed, high] == triage.UNCERTAIN).all()


def test_review_log_appends_and_never_rewrites(tmp_path):
    log = triage.ReviewLog(tmp_path)
    log.append({"image_sha256": "a" * 64, "triage_outcome": triage.BENIGN, "reviewer_note": "first\nline"})
    first = log.path.read_text()
    log.append({"image_sha256": "b" * 64, "triage_outcome": triage.UNCERTAIN})
    assert log.path.read_text().startswith(first)  # earlier rows byte-for-byte intact
    assert len(log) == 2
    rows = list(csv.DictReader(log.path.open()))
    assert [r["image_sha256"][0] for r in rows] == ["a", "b"]
    assert rows[0]["reviewer_note"] == "first line" and rows[0]["timestamp"]
    assert list(rows[0]) == list(triage.LOG_COLUMNS)


def test_a_rerun_over_an_existing_log_keeps_every_row(tmp_path):
    triage.ReviewLog(tmp_path).append({"image_sha256": "c" * 64})
    again = triage.ReviewLog(tmp_path)  # a new notebook session over the same work folder
    again.append({"image_sha256": "d" * 64})
    assert len(again.read()) == 2


def test_assess_on_the_skin_endpoint_logs_hash_not_image(mock_aws, tmp_path):
    from helpers import endpoint, state

    info = endpoint.deploy(SKIN_VIT_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_VIT_ID)
    image = sorted(SKIN_PROXIES_DIR.glob("*.png"))[0]
    assessed = assessment.assess(image, threshold=0.0)
    classification, result = assessed.classification, assessed.result
    assert result.outcome in (triage.BENIGN, triage.CONCERNING)
    row = triage.ReviewLog().read().iloc[-1]
    assert row.image_sha256 == classification.sha256 and len(row.image_sha256) == 64
    assert row.model_id == SKIN_VIT_ID and row.stand_in == "simulated"
    assert image.name not in triage.ReviewLog().path.read_text()  # file names can identify people
    assert assessed.image_name == image.name and assessed.log_row["image_sha256"] == classification.sha256
    assert assessed.summary_row() == {"image": image.name, "outcome": result.outcome, "top_label": result.top_label,
                                      "top_score": round(result.top_score, 3)}
    assert assessed.plain_text().endswith(triage.DISCLAIMER) and assessed.is_mock


def _append_rows(work_dir, writer: str, count: int) -> None:
    log = triage.ReviewLog(work_dir)
    for i in range(count):
        log.append({"image_sha256": f"{writer}-{i}", "reviewer_note": f"{writer} row {i}"})


def _assert_every_row_once(log, expected: set[str]) -> None:
    text = log.path.read_text(encoding="utf-8")
    assert text.count("timestamp,image_sha256") == 1  # one header, no half-written rows
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [list(r) for r in rows[:1]] == [list(triage.LOG_COLUMNS)]
    assert len(rows) == len(expected) and {r["image_sha256"] for r in rows} == expected


def test_concurrent_appends_from_threads_lose_no_row(tmp_path):
    writers, count = [f"t{n}" for n in range(8)], 25
    with concurrent.futures.ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(lambda w: _append_rows(tmp_path, w, count), writers))
    _assert_every_row_once(triage.ReviewLog(tmp_path), {f"{w}-{i}" for w in writers for i in range(count)})


def test_concurrent_appends_from_processes_lose_no_row(tmp_path):
    writers, count = [f"p{n}" for n in range(4)], 20
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_append_rows, args=(tmp_path, w, count)) for w in writers]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0] * len(writers)
    _assert_every_row_once(triage.ReviewLog(tmp_path), {f"{w}-{i}" for w in writers for i in range(count)})
