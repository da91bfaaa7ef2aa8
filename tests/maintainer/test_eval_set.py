"""The shipped labelled set is what its generator makes: same plan, same labels file, deterministic drawings."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np

from helpers import evaluation
from helpers.maintainer import eval_set


def test_plan_is_imbalanced_and_covers_every_type_and_class():
    plan = eval_set.plan()
    assert len(plan) == 48
    counts = Counter(label for _, label in plan)
    assert counts == {"nv": 24, "mel": 6, "bkl": 6, "bcc": 3, "akiec": 3, "vasc": 3, "df": 3}
    assert Counter(t for t, _ in plan) == {t: 8 for t in ("I", "II", "III", "IV", "V", "VI")}
    assert len(eval_set.plan(repeats=3)) == 144


def test_shipped_labels_file_matches_the_generator():
    with open(evaluation.EVAL_SET_DIR / evaluation.LABELS_FILE, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = [(eval_set.file_name(n, t, label), label, t) for n, (t, label) in enumerate(eval_set.plan(), start=1)]
    assert [(r["file"], r["label"], r["fitzpatrick"]) for r in rows] == expected


def test_same_seed_same_drawing_and_classes_look_different():
    first = np.asarray(eval_set.make_lesion(np.random.default_rng([1, 1]), "III", "mel"))
    again = np.asarray(eval_set.make_lesion(np.random.default_rng([1, 1]), "III", "mel"))
    assert first.shape == (eval_set.OUTPUT_SIZE, eval_set.OUTPUT_SIZE, 3)
    assert (first == again).all()
    vasc = np.asarray(eval_set.make_lesion(np.random.default_rng([1, 1]), "III", "vasc")).astype(float)
    centre = slice(80, 144)
    assert vasc[centre, centre, 0].mean() - vasc[centre, centre, 1].mean() > 40  # red where the lesion is
