"""The evaluation: metrics checked by hand on tiny sets, and a bad labels file gives one line saying what to fix."""

from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image

from helpers import evaluation, ham10000, models
from helpers.core.errors import BadInputError

VIT = models.SKIN_VIT
LABEL = dict(zip(VIT.label_codes, VIT.labels))  # HAM10000 code -> the ViT's own spelling


def _set(tmp_path, rows, header="file,label,fitzpatrick"):
    for row in rows:
        name = row.split(",")[0]
        if name and not (tmp_path / name).exists():
            Image.new("RGB", (8, 8), (200, 150, 120)).save(tmp_path / name)
    (tmp_path / "labels.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return tmp_path


@pytest.fixture()
def ten(tmp_path):
    """6 naevi, 2 melanomas, 2 BCCs; skin types I (first five) and VI (last five)."""
    truth = ["nv"] * 6 + ["mel", "mel", "bcc", "bcc"]
    rows = [f"img{i}.png,{label},{'I' if i < 5 else 'VI'}" for i, label in enumerate(truth)]
    return evaluation.load_labelled_set(_set(tmp_path, rows))


def _report(labelled, predicted_codes):
    answers = {f: (LABEL[c], 0.9) for f, c in zip(labelled.items["file"], predicted_codes)}
    return evaluation.score(labelled, answers, VIT.id, "test")


def test_hand_checked_metrics(ten):
    # truth:      nv nv nv nv nv nv mel mel bcc bcc
    predicted = ["nv", "nv", "nv", "nv", "nv", "mel", "mel", "nv", "bcc", "nv"]
    report = _report(ten, predicted)
    assert report.accuracy == pytest.approx(7 / 10)
    assert (report.baseline_class, report.baseline) == ("nv", pytest.approx(0.6))
    # recalls: nv 5/6, mel 1/2, bcc 1/2 -> balanced accuracy is their mean
    assert report.balanced_accuracy == pytest.approx((5 / 6 + 1 / 2 + 1 / 2) / 3)
    per_class = report.per_class()
    assert list(per_class.index) == ["mel", "nv", "bcc"]  # melanoma first
    assert per_class.loc["mel", "recall"] == pytest.approx(0.5)
    assert per_class.loc["mel", "precision"] == pytest.approx(1 / 2)  # one of two "mel" answers was right
    assert per_class.loc["nv", "precision"] == pytest.approx(5 / 7)
    assert per_class.loc["bcc", "precision"] == pytest.approx(1.0)
    assert report.melanoma_recall == pytest.approx(0.5)
    confusion = report.confusion()
    assert confusion.loc["mel", "nv"] == 1 and confusion.loc["nv", "mel"] == 1 and confusion.loc["bcc", "nv"] == 1
    assert confusion.to_numpy().sum() == 10
    assert "melanoma recall 50% (1 of 2 found, 1 missed)" in report.summary()
    assert "above the 60%" in report.summary()


def test_always_naevus_matches_the_baseline_and_finds_no_melanoma(ten):
    report = _report(ten, ["nv"] * 10)
    assert report.accuracy == pytest.approx(report.baseline) == pytest.approx(0.6)
    assert report.balanced_accuracy == pytest.approx(1 / 3)
    assert report.melanoma_recall == 0
    assert "NOT above" in report.summary()


def test_fitzpatrick_groups_with_wilson_intervals(ten):
    report = _report(ten, ["nv"] * 10)  # type I: 5 naevi, all right; type VI: 1 naevus of 5 right
    table = report.by_fitzpatrick()
    assert list(table.index) == ["I", "VI"]
    assert table.loc["I", "accuracy"] == 1.0 and table.loc["VI", "accuracy"] == pytest.approx(0.2)
    # Wilson 95% for 5/5: (0.566, 1.0); for 1/5: (0.036, 0.624)
    assert table.loc["I", "ci_low"] == pytest.approx(0.5655, abs=1e-3) and table.loc["I", "ci_high"] == 1.0
    assert (table.loc["VI", "ci_low"], table.loc["VI", "ci_high"]) == (pytest.approx(0.0362, abs=1e-3), pytest.approx(0.6245, abs=1e-3))


def test_unanswered_and_foreign_labels_count_as_wrong(ten):
    files = list(ten.items["file"])
    answers = {f: (LABEL["nv"], 0.9) for f in files[:6]}
    answers[files[6]] = ("tench, Tinca tinca", 0.5)  # an ImageNet answer: not a skin class
    report = evaluation.score(ten, answers, VIT.id, "test", failures=[(files[7], "ModelError")])
    assert report.table.loc[6, "predicted"] == ham10000.OTHER
    assert report.accuracy == pytest.approx(0.6)
    assert {f for f, _ in report.failures} == set(files[7:])
    assert ham10000.OTHER in report.confusion().columns


def test_model_labels_and_codes_are_both_accepted(tmp_path):
    labelled = evaluation.load_labelled_set(_set(tmp_path, ["a.png,melanoma,", "b.png,melanocytic_Nevi,ii", "c.png,MEL,"]))
    assert list(labelled.items["label"]) == ["mel", "nv", "mel"]
    assert list(labelled.items["fitzpatrick"]) == ["", "II", ""]


@pytest.mark.parametrize(("header", "rows", "expected"), [
    ("file,diagnosis", ["a.png,nv"], "lacks the column(s) label"),
    ("file,label", ["a.png,mole"], "line 2: unknown label 'mole'. Use one of nv, mel"),
    ("file,label", ["a.png,nv", "missing.png,nv"], "line 3: image 'missing.png' not found"),
    ("file,label,fitzpatrick", ["a.png,nv,VII"], "Fitzpatrick type 'VII' is not one of I, II"),
    ("file,label", ["a.png,nv", "a.png,mel"], "lists 'a.png' more than once"),
    ("file,label", [], "no rows"),
])
def test_bad_labels_file_gives_one_line(tmp_path, header, rows, expected):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    folder = _set(tmp_path, rows, header)
    (tmp_path / "missing.png").unlink(missing_ok=True)  # _set drew every listed image: take this one away
    with pytest.raises(BadInputError) as caught:
        evaluation.load_labelled_set(folder)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_folder_or_labels_file(tmp_path):
    with pytest.raises(BadInputError, match="folder not found"):
        evaluation.load_labelled_set(tmp_path / "nowhere")
    with pytest.raises(BadInputError, match="No labels file"):
        evaluation.load_labelled_set(tmp_path)


def test_shipped_set_loads_and_is_imbalanced_like_ham10000():
    labelled = evaluation.load_labelled_set(evaluation.EVAL_SET_DIR)
    assert len(labelled) == 48
    assert labelled.majority_baseline() == ("nv", 0.5)
    assert set(labelled.items["fitzpatrick"]) == {"I", "II", "III", "IV", "V", "VI"}
    assert set(labelled.items["label"]) == set(ham10000.CODES)


def test_ham10000_facts():
    assert ham10000.total() == 10015
    assert ham10000.majority_baseline() == pytest.approx(6705 / 10015)
    assert f"{ham10000.majority_baseline():.1%}" == "66.9%"
    assert isinstance(ham10000.counts_table(), pd.DataFrame)
    assert {c for c in ham10000.CODES if ham10000.BY_CODE[c].concerning} == {
        VIT.code_of(label) for label in VIT.triage.concerning}  # the dataset and the triage rule agree


def test_without_scikit_learn_the_metrics_say_how_to_get_it(ten, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # what an environment without it looks like to import
    with pytest.raises(BadInputError, match="pip install scikit-learn"):
        float(_report(ten, ["nv"] * 10).accuracy)
