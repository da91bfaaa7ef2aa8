"""HAM10000, the data behind the skin models: its classes, published counts, licence and what it does not record.

One owner for these facts. The model registry (:mod:`helpers.models`) maps each skin model's labels to the
class codes below, and the evaluation (:mod:`helpers.evaluation`) reads labelled sets in these codes.

Source: Tschandl, Rosendahl & Kittler, "The HAM10000 dataset, a large collection of multi-source
dermatoscopic images of common pigmented skin lesions", Scientific Data 5, 180161 (2018),
doi:10.1038/sdata.2018.161 — 10,015 dermatoscopic images, released "as a training set for academic machine
learning purposes" (the data descriptor and its Harvard Dataverse record, doi:10.7910/DVN/DBW86T). Licence:
CC BY-NC 4.0 as the dataset is usually cited; the notebook tells learners to confirm it on that record for the
version they use before relying on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LesionClass:
    code: str  # the dataset's short code (the ``dx`` column of HAM10000_metadata)
    name: str
    published_count: int  # images in HAM10000 (Tschandl et al. 2018, Table 1)
    concerning: bool  # malignant or pre-malignant: the triage rule refers these


CLASSES: tuple[LesionClass, ...] = (
    LesionClass("nv", "melanocytic naevus", 6705, False),
    LesionClass("mel", "melanoma", 1113, True),
    LesionClass("bkl", "benign keratosis-like lesion", 1099, False),
    LesionClass("bcc", "basal cell carcinoma", 514, True),
    LesionClass("akiec", "actinic keratosis / intraepithelial carcinoma", 327, True),
    LesionClass("vasc", "vascular lesion", 142, False),
    LesionClass("df", "dermatofibroma", 115, False),
)
CODES: tuple[str, ...] = tuple(c.code for c in CLASSES)
BY_CODE = {c.code: c for c in CLASSES}
MELANOMA = "mel"
OTHER = "other"  # what a prediction outside the skin classes (an ImageNet label, say) counts as

CITATION = ("Tschandl P, Rosendahl C, Kittler H. The HAM10000 dataset, a large collection of multi-source "
            "dermatoscopic images of common pigmented skin lesions. Sci Data 5, 180161 (2018). doi:10.1038/sdata.2018.161")
LICENCE = "CC BY-NC 4.0 (attribution, non-commercial use only)"
LICENCE_URL = "https://creativecommons.org/licenses/by-nc/4.0/"
RECORD_URL = "https://doi.org/10.7910/DVN/DBW86T"  # the dataset's record: check the licence of the version you use

# What the metadata (lesion id, image id, dx, dx_type, age, sex, localization) does not say.
NOT_RECORDED = (
    "skin tone (no Fitzpatrick type or other measure of pigmentation)",
    "who was photographed: ethnicity, and how patients were selected beyond two clinics (Vienna, Austria and Queensland, Australia)",
    "the camera and dermatoscope per image, beyond the source collection",
    "follow-up outcome for lesions diagnosed without histopathology (dx_type: follow_up, consensus, confocal)",
)


def total() -> int:
    return sum(c.published_count for c in CLASSES)


def majority_class() -> LesionClass:
    return max(CLASSES, key=lambda c: c.published_count)


def majority_baseline() -> float:
    """The accuracy of always answering the commonest class on HAM10000 itself (6,705 / 10,015)."""
    return majority_class().published_count / total()


def counts_table():
    """The published counts as a table, commonest first, with each class's share."""
    import pandas as pd

    table = pd.DataFrame([{"code": c.code, "class": c.name, "images": c.published_count,
                           "concerning": c.concerning} for c in CLASSES])
    table["share"] = table["images"] / total()
    return table.sort_values("images", ascending=False).set_index("code")


def plot_counts(ax=None, accuracy_claim: float | None = None):
    """Bar chart of the published counts; the majority baseline (and a claimed accuracy) as text."""
    import matplotlib.pyplot as plt

    from .accessibility import get_palette

    palette = get_palette()
    table = counts_table()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    colours = [palette.secondary if concerning else palette.primary for concerning in table["concerning"]]
    ax.bar(table.index, table["images"], color=colours)
    for x, (images, share) in enumerate(zip(table["images"], table["share"])):
        ax.text(x, images, f"{images:,}\n{share:.1%}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("images in HAM10000")
    ax.set_ylim(0, table["images"].max() * 1.25)
    title = f"Always answering '{majority_class().code}' scores {majority_baseline():.1%}"
    if accuracy_claim is not None:
        title += f"; the model card claims {accuracy_claim:.1%}"
    ax.set_title(title + " (concerning classes in the second colour)", fontsize=9)
    return ax.figure
