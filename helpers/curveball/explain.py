"""Regulatory scrutiny: a model-agnostic explanation computed only through the endpoint.

Occlusion sensitivity slides a patch of the image's median colour over it, asks the endpoint again for
each position, and maps how far the top class's score drops. (A mid-grey patch, the textbook default,
is darker than light skin and would itself look like a lesion.) It needs nothing but ``score_fn`` (an image
in, the endpoint's ``[{"label", "score"}, ...]`` out), and every position costs one invocation; a few
positions are scored at once, as their calls mostly wait on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..core.concurrency import check_concurrency, map_in_order
from ..core.errors import BadInputError
from ..images import to_rgb

ScoreFn = Callable[[Image.Image], list]
MAX_SIDE = 224  # the models see 224x224; a bigger map only costs more calls
DEFAULT_CONCURRENCY = 4  # patch positions scored at once: overlaps the round trips without flooding the endpoint

WHAT_IT_EXPLAINS = """\
What an occlusion map explains
- Which regions of THIS image the score of the top class depends on: where covering the image with a
  patch of its median colour lowers the score most.
- It is model-agnostic: it uses nothing but the endpoint's answers, so it works on a black box.

What it does not explain
- Why: it shows where the score is sensitive, not why, nor what the model "saw" there.
- Cause: it is not causal and not a clinical reason; a hot spot on the lesion does not make the
  answer right, and a hot spot on a ruler, hair or background is a warning about the model.
- Fine detail: its resolution is limited by the patch size and stride; small features can be missed.
- Other images: it says nothing about how the model behaves on other images or other patients.
- It costs one invocation per patch position (plus one for the original image), and a patched image is
  an input the model never saw in training, so some drops reflect the odd input, not the lesion.
"""


@dataclass(frozen=True)
class OcclusionResult:
    """The drop in the target score at each patch position, and a per-pixel heat map of it."""

    target_label: str
    baseline_score: float
    drops: np.ndarray  # (rows, cols): baseline minus the score with the patch at (ys[r], xs[c])
    heatmap: np.ndarray  # (height, width): mean drop over the patches covering each pixel
    xs: tuple[int, ...]
    ys: tuple[int, ...]
    patch: int
    stride: int
    invocations: int
    image_size: tuple[int, int]  # (width, height) of the image the map was computed on
    fill: tuple[int, int, int]  # the patch colour (RGB)

    def most_sensitive_box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the patch position with the largest drop."""
        row, col = np.unravel_index(int(np.argmax(self.drops)), self.drops.shape)
        x, y = self.xs[col], self.ys[row]
        return x, y, x + self.patch, y + self.patch


def working_size(image_size: tuple[int, int], max_side: int | None = MAX_SIDE) -> tuple[int, int]:
    """The (width, height) the map is computed at: the image shrunk so its longest side is ``max_side``."""
    width, height = (int(v) for v in image_size)
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _defaults(size: tuple[int, int], patch: int | None, stride: int | None) -> tuple[int, int]:
    patch = patch or max(4, min(size) // 4)
    stride = stride or max(1, patch // 2)
    if not (isinstance(patch, int) and isinstance(stride, int)) or patch < 1 or stride < 1:
        raise BadInputError(f"patch and stride must be whole numbers of pixels >= 1; got {patch!r}, {stride!r}.")
    if patch > min(size):
        raise BadInputError(f"patch={patch} px is bigger than the image ({size[0]}x{size[1]} after resizing); "
                            "use a smaller patch.")
    return patch, stride


def positions(length: int, patch: int, stride: int) -> list[int]:
    """Patch offsets along one side; the last one is flush with the edge so every pixel is covered."""
    offsets = list(range(0, length - patch + 1, stride))
    if offsets[-1] != length - patch:
        offsets.append(length - patch)
    return offsets


def estimate_invocations(image_size: tuple[int, int], patch: int | None = None, stride: int | None = None,
                         max_side: int | None = MAX_SIDE) -> int:
    """How many endpoint calls :func:`occlusion_map` will make for an image of ``image_size`` (width, height):
    one per patch position plus one for the original image."""
    size = working_size(image_size, max_side)
    patch, stride = _defaults(size, patch, stride)
    return len(positions(size[0], patch, stride)) * len(positions(size[1], patch, stride)) + 1


def median_colour(image: Image.Image) -> tuple[int, int, int]:
    """The image's median colour (RGB): a patch that hides detail without adding a dark blob."""
    return tuple(int(v) for v in np.median(np.asarray(to_rgb(image)).reshape(-1, 3), axis=0))


def _scores(predictions) -> dict[str, float]:
    """The endpoint's answer (dicts, or objects with ``label``/``score``) as ``{label: score}``."""
    try:
        pairs = [(p.label, p.score) if hasattr(p, "label") else (p["label"], p["score"]) for p in predictions]
        scores = {str(label): float(score) for label, score in pairs}
    except (TypeError, KeyError, ValueError):
        raise BadInputError(
            "score_fn must return the endpoint's answer: a list of {'label': ..., 'score': ...}."
        ) from None
    if not scores:
        raise BadInputError("score_fn returned no predictions; check the endpoint and its top_k.")
    return scores


def occlusion_map(image: Image.Image, score_fn: ScoreFn, target_label: str | None = None,
                  patch: int | None = None, stride: int | None = None, fill=None,
                  max_invocations: int = 200, max_side: int | None = MAX_SIDE,
                  progress: bool = True, concurrency: int = DEFAULT_CONCURRENCY) -> OcclusionResult:
    """Slide a ``fill``-coloured ``patch`` (px, default a quarter of the short side) with ``stride``
    (default half the patch) over ``image`` and record the drop in ``target_label``'s score (default:
    the top class of the original image). ``fill`` is an RGB tuple, by default the image's median colour.
    The image is first shrunk to ``max_side``.

    Refuses to start if it would take more than ``max_invocations`` calls. Ask ``score_fn`` for all
    labels (``top_k`` = number of classes) so the target never drops out of the answer.

    The original image is scored first, alone (it decides the target); then up to ``concurrency`` patch
    positions are scored at once, so ``score_fn`` is called from several threads at the same time unless
    ``concurrency=1`` (use that for a score_fn that is not thread-safe). The result is the same either way.
    """
    if not isinstance(image, Image.Image):
        raise BadInputError("occlusion_map needs a PIL image; load it with helpers.images.load_image(path).")
    check_concurrency(concurrency)
    work = to_rgb(image)
    fill = median_colour(work) if fill is None else tuple(int(v) for v in fill)
    size = working_size(work.size, max_side)
    if size != work.size:
        work = work.resize(size, Image.Resampling.LANCZOS)
    patch, stride = _defaults(size, patch, stride)
    xs, ys = positions(size[0], patch, stride), positions(size[1], patch, stride)
    needed = len(xs) * len(ys) + 1
    if needed > max_invocations:
        raise BadInputError(f"This map needs {needed} endpoint calls, over max_invocations={max_invocations}. "
                            "Use a bigger stride or patch, or raise max_invocations.")
    from ..core.progress import progress_bar

    cover_patch = Image.new("RGB", (patch, patch), fill)
    grid = [(x, y) for y in ys for x in xs]  # row by row, as drops[r, c] is laid out

    def occluded_images():
        """The image with the patch at each grid position, made only as a call frees up."""
        for x, y in grid:
            occluded = work.copy()
            occluded.paste(cover_patch, (x, y))
            yield occluded

    # The bar counts every call it announces: the original image's, then one per patch position.
    with progress_bar(total=needed, enabled=progress, desc=f"Occlusion ({needed} calls)", unit="call") as bar:
        first = _scores(score_fn(work))
        bar.update(1)
        label = target_label if target_label is not None else max(first, key=first.get)
        if label not in first:
            raise BadInputError(f"{label!r} is not in the endpoint's answer for this image. Use one of: "
                                f"{', '.join(first)}, or leave target_label=None.")
        baseline = first[label]

        def drop(occluded: Image.Image) -> float:
            # A label that fell out of the top-k scores below the last one shown; 0 is the safe reading.
            return baseline - _scores(score_fn(occluded)).get(label, 0.0)

        values = map_in_order(drop, occluded_images(), concurrency=concurrency, on_done=bar.update, name="occlusion")
    calls = 1 + len(values)
    drops = np.array(values, dtype=float).reshape(len(ys), len(xs))
    total = np.zeros((size[1], size[0]))
    cover = np.zeros((size[1], size[0]))
    for r, y in enumerate(ys):
        for c, x in enumerate(xs):
            total[y:y + patch, x:x + patch] += drops[r, c]
            cover[y:y + patch, x:x + patch] += 1
    heatmap = np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)
    return OcclusionResult(label, baseline, drops, heatmap, tuple(xs), tuple(ys), patch, stride, calls, size, fill)


def plot_occlusion(result: OcclusionResult, image: Image.Image, ax=None, alpha: float = 0.5):
    """The heat map of score drops over the image, with a colour bar, the most sensitive patch outlined
    and the number of invocations in the title. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from ..accessibility import get_palette, percent, spoken_label

    palette = get_palette()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    fig = ax.figure
    width, height = result.image_size
    shown = to_rgb(image).resize((width, height), Image.Resampling.LANCZOS)
    ax.imshow(shown, extent=(0, width, height, 0))
    vmax = max(float(result.heatmap.max()), 1e-9)
    vmin = min(float(result.heatmap.min()), 0.0)
    # Where occlusion changed nothing, leave the image visible.
    heat = np.ma.masked_where(np.abs(result.heatmap) < 0.01 * vmax, result.heatmap)
    layer = ax.imshow(heat, cmap=palette.sequential, alpha=alpha, vmin=vmin, vmax=vmax,
                      extent=(0, width, height, 0))
    left, top, right, bottom = result.most_sensitive_box()
    ax.add_patch(Rectangle((left, top), right - left, bottom - top, fill=False, edgecolor=palette.text,
                           linewidth=1.5, linestyle="--"))
    bar = fig.colorbar(layer, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(f"Drop in score of {spoken_label(result.target_label)}")
    ax.set_title(f"Occlusion sensitivity: {spoken_label(result.target_label)} "
                 f"(score {percent(result.baseline_score)})\n{result.invocations} endpoint invocations, "
                 f"patch {result.patch} px, stride {result.stride} px", fontsize=10)
    ax.set_axis_off()
    return fig
