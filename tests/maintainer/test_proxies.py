"""The synthetic skin-lesion proxies: deterministic, well named, every tone and shape present."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from PIL import Image

from helpers.core.config import SKIN_PROXIES_DIR
from helpers.images import FITZPATRICK_TYPES, fitzpatrick_type, list_images
from helpers.maintainer import proxies


def _shape(path) -> str:
    return path.stem.rsplit("_", 1)[-1]


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    """12 proxies (2 per type) generated once for the tests below."""
    return proxies.generate(tmp_path_factory.mktemp("proxies"), seed=7, per_type=2)


def test_same_seed_gives_identical_bytes(small_set, tmp_path):
    again = proxies.generate(tmp_path, seed=7, per_type=2)
    assert [p.name for p in again] == [p.name for p in small_set]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(small_set, again))


def test_different_seed_gives_a_different_image():
    first = proxies.make_proxy(np.random.default_rng([7, 1]), "I", "regular")
    second = proxies.make_proxy(np.random.default_rng([8, 1]), "I", "regular")
    assert first.tobytes() != second.tobytes()


def test_generated_set_covers_every_type_and_shape(small_set):
    assert len(small_set) == 12
    pairs = {(fitzpatrick_type(p), _shape(p)) for p in small_set}
    assert pairs == {(t, s) for t in FITZPATRICK_TYPES for s in proxies.SHAPES}
    for path in small_set:
        assert path.name == proxies.proxy_name(int(path.name[6:8]), fitzpatrick_type(path), _shape(path))


def test_regenerating_removes_stale_proxies(tmp_path):
    stale = tmp_path / proxies.proxy_name(99, "I", "regular")
    stale.write_bytes(b"old")
    (tmp_path / "README.md").write_text("kept")
    proxies.generate(tmp_path, per_type=2)
    assert not stale.exists()
    assert (tmp_path / "README.md").exists()
    assert len(list(tmp_path.glob("proxy-*.png"))) == 12


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        proxies.generate(tmp_path, per_type=1)
    with pytest.raises(ValueError):
        proxies.make_proxy(np.random.default_rng(0), "VII", "regular")
    with pytest.raises(ValueError):
        proxies.make_proxy(np.random.default_rng(0), "I", "round")


@pytest.mark.parametrize("number", [1, 12, 24])
def test_shipped_proxies_match_the_generator(number):
    """skin_proxies/ is what `python -m helpers.maintainer.proxies` draws (nobody edited a file by hand)."""
    row = next(r for r in proxies.plan() if r[0] == number)
    shipped = SKIN_PROXIES_DIR / proxies.proxy_name(*row)
    fresh = proxies.make_proxy(np.random.default_rng([proxies.DEFAULT_SEED, number]), row[1], row[2])
    a = np.asarray(Image.open(shipped).convert("RGB"), dtype=np.int16)
    b = np.asarray(fresh, dtype=np.int16)
    # Pixel-identical on the same platform; allow tiny floating-point differences elsewhere.
    assert np.abs(a - b).mean() < 0.5, shipped.name


def test_shipped_proxies_are_named_and_cover_all_types():
    paths = list_images(SKIN_PROXIES_DIR)
    assert len(paths) >= 12
    for path in paths:
        assert path.name.startswith("proxy-"), path.name
        assert fitzpatrick_type(path) in FITZPATRICK_TYPES, path.name
        assert _shape(path) in proxies.SHAPES, path.name
    counts = Counter((fitzpatrick_type(p), _shape(p)) for p in paths)
    for fitzpatrick in FITZPATRICK_TYPES:
        for shape in proxies.SHAPES:
            assert counts[(fitzpatrick, shape)] >= 1, (fitzpatrick, shape)


def test_shipped_proxies_are_real_512px_rgb_images():
    for path in list_images(SKIN_PROXIES_DIR):
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (512, 512)
            assert image.mode == "RGB"
            pixels = np.asarray(image)
        # Not blank: a skin texture and a darker blob.
        assert pixels.std() > 3, path.name
        assert pixels.min() < pixels.mean() - 20, path.name


def test_darker_types_are_darker():
    means = {}
    for path in list_images(SKIN_PROXIES_DIR):
        with Image.open(path) as image:
            means.setdefault(fitzpatrick_type(path), []).append(np.asarray(image).mean())
    averages = [np.mean(means[t]) for t in FITZPATRICK_TYPES]
    assert averages == sorted(averages, reverse=True)


def test_readme_says_synthetic():
    text = (SKIN_PROXIES_DIR / "README.md").read_text(encoding="utf-8").lower()
    assert "synthetic" in text and "not medical" in text
    assert "python -m helpers.maintainer.proxies" in text
