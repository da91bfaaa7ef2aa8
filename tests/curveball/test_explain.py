"""Occlusion sensitivity through a score function (the endpoint's stand-in)."""

import threading
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from fake_progress import record_bars
from PIL import Image

from helpers.core.errors import BadInputError
from helpers.curveball.explain import WHAT_IT_EXPLAINS, estimate_invocations, occlusion_map, plot_occlusion, positions, working_size

BOX = (150, 40, 190, 80)  # left, top, right, bottom of the only region the fake model looks at


def image_with_spot(size=(224, 224)):
    image = Image.new("RGB", size, (230, 190, 160))
    image.paste((60, 30, 20), BOX)
    return image


class FakeEndpoint:
    """Scores 'melanoma' by how dark the BOX region is; counts its calls like an endpoint bill, and how many overlap."""

    def __init__(self, seconds: float = 0.0):
        self.seconds = seconds  # a network round trip, to let calls overlap
        self.lock = threading.Lock()
        self.calls = self.in_flight = self.most = 0
        self.log: list[str] = []  # "start n" / "end n", in the order they happened

    def __call__(self, image):
        with self.lock:
            number = self.calls = self.calls + 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.log.append(f"start {number}")
        time.sleep(self.seconds)
        with self.lock:
            self.in_flight -= 1
            self.log.append(f"end {number}")
        region = np.asarray(image.convert("L"), dtype=float)[BOX[1]:BOX[3], BOX[0]:BOX[2]]
        darkness = 1 - region.mean() / 255
        melanoma = float(np.clip(darkness, 0, 1))
        return sorted([{"label": "melanoma", "score": melanoma},
                       {"label": "melanocytic_Nevi", "score": 1 - melanoma}],
                      key=lambda p: p["score"], reverse=True)


def test_maximum_drop_is_over_the_region_the_model_uses():
    endpoint = FakeEndpoint()
    result = occlusion_map(image_with_spot(), endpoint, patch=40, stride=20, progress=False)
    assert result.target_label == "melanoma"
    assert result.baseline_score > 0.7
    left, top, right, bottom = result.most_sensitive_box()
    assert left < BOX[2] and right > BOX[0] and top < BOX[3] and bottom > BOX[1]  # overlaps the spot
    row, col = np.unravel_index(np.argmax(result.heatmap), result.heatmap.shape)
    assert BOX[0] <= col < BOX[2] and BOX[1] <= row < BOX[3]
    assert result.heatmap[10, 10] == pytest.approx(0)  # far from the spot nothing changes
    assert result.drops.shape == (len(result.ys), len(result.xs))


def test_invocations_are_counted_and_match_the_estimate():
    for size, patch, stride in (((224, 224), 40, 20), ((300, 200), None, None), ((224, 224), 56, 56)):
        endpoint = FakeEndpoint()
        image = image_with_spot(size)
        result = occlusion_map(image, endpoint, patch=patch, stride=stride, progress=False)
        assert result.invocations == endpoint.calls == estimate_invocations(size, patch, stride)
    assert estimate_invocations((224, 224), 56, 56) == 4 * 4 + 1


def test_large_images_are_shrunk_first_and_the_estimate_agrees():
    endpoint = FakeEndpoint()
    big = image_with_spot((224, 224)).resize((896, 896))
    result = occlusion_map(big, endpoint, progress=False)
    assert result.image_size == (224, 224) == working_size(big.size)
    assert result.invocations == estimate_invocations(big.size) == endpoint.calls
    assert (result.patch, result.stride) == (56, 28)


def test_positions_cover_the_edge():
    assert positions(100, 40, 30) == [0, 30, 60]
    assert positions(100, 40, 25) == [0, 25, 50, 60]


def test_explicit_target_and_grey_fill():
    endpoint = FakeEndpoint()
    result = occlusion_map(image_with_spot(), endpoint, target_label="melanocytic_Nevi", patch=40, stride=40,
                           progress=False)
    assert result.target_label == "melanocytic_Nevi"
    assert result.drops.min() < 0  # covering the spot raises the other class's score
    with pytest.raises(BadInputError, match="melanoma"):
        occlusion_map(image_with_spot(), FakeEndpoint(), target_label="dermatofibroma", progress=False)


def test_budget_and_bad_input_are_refused_before_any_call():
    endpoint = FakeEndpoint()
    with pytest.raises(BadInputError, match="max_invocations"):
        occlusion_map(image_with_spot(), endpoint, patch=8, stride=4, max_invocations=100, progress=False)
    with pytest.raises(BadInputError, match="bigger than the image"):
        occlusion_map(image_with_spot((64, 64)), endpoint, patch=80, progress=False)
    with pytest.raises(BadInputError, match="PIL image"):
        occlusion_map("lesion.png", endpoint)
    for bad in (0, 17, True, 2.5):
        with pytest.raises(BadInputError, match="concurrency must be a whole number from 1 to 16") as info:
            occlusion_map(image_with_spot(), endpoint, concurrency=bad, progress=False)
        assert "\n" not in str(info.value)
    assert endpoint.calls == 0
    with pytest.raises(BadInputError, match="label"):
        occlusion_map(image_with_spot(), lambda image: [{"x": 1}], progress=False)


def test_what_it_explains_covers_the_caveats():
    text = WHAT_IT_EXPLAINS.lower()
    for phrase in ("not why", "not causal", "patch size", "invocation", "never saw"):
        assert phrase in text, phrase


def test_plot_occlusion_titles_the_cost():
    image = image_with_spot()
    result = occlusion_map(image, FakeEndpoint(), patch=56, stride=56, progress=False)
    fig = plot_occlusion(result, image)
    title = fig.axes[0].get_title()
    assert f"{result.invocations} endpoint invocations" in title and "melanoma" in title
    assert len(fig.axes) == 2  # the image and its colour bar
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_score_fn_may_return_prediction_objects():
    class Prediction:
        def __init__(self, label, score):
            self.label, self.score = label, score

    endpoint = FakeEndpoint()

    def objects(image):
        return [Prediction(p["label"], p["score"]) for p in endpoint(image)]

    result = occlusion_map(image_with_spot(), objects, patch=56, stride=56, progress=False)
    assert result.target_label == "melanoma" and result.drops.max() > 0.1


def test_progress_bar_counts_every_call_it_announces(monkeypatch):
    """The bar says "Occlusion (N calls)" and must reach N of N, the original image's call included."""
    from helpers.core import progress

    bars = record_bars(monkeypatch, progress)
    result = occlusion_map(image_with_spot(), FakeEndpoint(), patch=56, stride=28)
    [bar] = bars
    assert bar.kwargs["desc"] == f"Occlusion ({result.invocations} calls)"
    assert bar.kwargs["total"] == bar.count == result.invocations == 50


def test_the_patch_takes_the_images_median_colour_unless_told_otherwise():
    image = image_with_spot()
    assert occlusion_map(image, FakeEndpoint(), patch=56, stride=56, progress=False).fill == (230, 190, 160)
    grey = occlusion_map(image, FakeEndpoint(), patch=56, stride=56, fill=(128, 128, 128), progress=False)
    assert grey.fill == (128, 128, 128)


def test_patch_positions_are_scored_a_few_at_a_time_with_the_same_map():
    together, alone = FakeEndpoint(seconds=0.05), FakeEndpoint(seconds=0.05)
    result = occlusion_map(image_with_spot(), together, patch=56, stride=28, concurrency=4, progress=False)
    same = occlusion_map(image_with_spot(), alone, patch=56, stride=28, concurrency=1, progress=False)
    assert 1 < together.most <= 4 and alone.most == 1
    assert together.log[:2] == ["start 1", "end 1"]  # the original image alone first: it decides the target
    assert (result.target_label, result.baseline_score, result.invocations) == (same.target_label, same.baseline_score, 50)
    assert together.calls == alone.calls == 50
    np.testing.assert_array_equal(result.drops, same.drops)  # each drop at its own position, not in finishing order
    np.testing.assert_array_equal(result.heatmap, same.heatmap)
    assert result.most_sensitive_box() == same.most_sensitive_box()


def test_a_failing_call_stops_the_map():
    endpoint = FakeEndpoint(seconds=0.01)

    def failing(image):
        if endpoint.calls >= 5:
            raise BadInputError("The endpoint is gone; deploy it again.")
        return endpoint(image)

    with pytest.raises(BadInputError, match="deploy it again"):
        occlusion_map(image_with_spot(), failing, patch=56, stride=28, concurrency=4, progress=False)
    assert endpoint.calls < 50
