"""The Derm-Assist web app: the notebook MVP as a small Gradio page stakeholders can use.

``derm-assist app`` serves it on 127.0.0.1 over the learner's endpoint; ``space/app.py`` serves the same page
with the model running inside a Hugging Face Space. Both build the page with :func:`build_blocks` from an
*assess* callable, and every assessment goes through :func:`helpers.assessment.assess` (the triage rule, the
disclaimer and the review log are the notebook's). What the page shows after a click is computed by
:class:`Handlers`, which needs no Gradio, so it is unit-tested directly.

Gradio is an optional extra (``pip install -e '.[app]'``; ``make`` installs it): it is imported only when a
page is built. In SageMaker Studio the app is reached through JupyterLab's proxy,
``https://<domain>.studio.<region>.sagemaker.aws/jupyterlab/default/proxy/<port>/``; :func:`app_link` works
out that address and the root path Gradio needs so that its assets load there.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import assessment, triage
from .core.config import APP_PORT, SKIN_PROXIES_DIR
from .core.errors import BadInputError, DermAssistError, redact

HOST = "127.0.0.1"
DEFAULT_PORT = APP_PORT
TITLE = "Derm-Assist"
TOP_CLASSES = 5  # classes in the chart
CONCURRENCY = 4  # assessments served at once (endpoint calls wait on the network; the review log has a lock)
UPLOAD_CACHE_SECONDS = 3600  # Gradio's copies of uploaded photos are deleted after this long
NO_IMAGE = "Upload a photo or pick a shipped example first."
NOT_A_PATIENT = "Use public or synthetic images only: never a real patient's photo in this workshop."

STUDIO_METADATA = "/opt/ml/metadata/resource-metadata.json"
STUDIO_METADATA_VARIABLE = "DERM_ASSIST_STUDIO_METADATA"  # another path for the metadata file (tests)

log = logging.getLogger(__name__)

# assess(image, display name, threshold, reviewer note) -> Assessment
AssessFn = Callable[[object, str, float, str], assessment.Assessment]


# --- what the page shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The page after one click: the result card (Markdown), the chart's scores and a one-line status."""

    result: str
    scores: dict[str, float] | None
    status: str


def result_markdown(result: assessment.Assessment) -> str:
    """The result card: outcome, confidence, the stand-in note when the mock answered, the disclaimer."""
    triaged = result.result
    lines = [
        f"## {triaged.outcome}",
        f"Top class **{triaged.top_label}** at **{triaged.top_score:.0%}** confidence (threshold {triaged.threshold:.0%}).",
    ]
    if result.stand_in_note:
        lines.append(f"*{result.stand_in_note}*")
    lines.append(f"**{triage.DISCLAIMER}**")
    return "\n\n".join(lines)


def warning_line(message: str) -> str:
    return f"⚠ {' '.join(str(message).split())}"


class Handlers:
    """What the page does, without Gradio: turn an upload or a picked example into an :class:`Answer`.

    Every failure becomes one line in the status (the learner's note and choices stay in the form); the
    traceback of anything unexpected goes to the terminal that runs the app, never to the page.
    """

    def __init__(self, assess: AssessFn, examples: Sequence[Path] = (), *, log_path: Path | None = None):
        self.assess = assess
        self.examples = {Path(p).name: Path(p) for p in examples}
        self.log_path = log_path

    def example_names(self) -> list[str]:
        return list(self.examples)

    def run(self, upload: str | os.PathLike | None, example: str | None, threshold: float, note: str | None) -> Answer:
        try:
            image, name = self._image(upload, example)
            result = self.assess(image, name, triage.check_threshold(threshold), note or "")
        except DermAssistError as exc:
            return Answer("", None, warning_line(exc))
        except Exception as exc:  # a bug or an unforeseen failure: one line here, the traceback in the terminal
            log.exception("Assessment failed")
            return Answer("", None, warning_line(
                f"Something unexpected went wrong ({type(exc).__name__}: {redact(str(exc))[:160]}). "
                "The details are in the terminal running the app."))
        scores = {p.label: round(p.score, 4) for p in result.classification.predictions[:TOP_CLASSES]}
        return Answer(result_markdown(result), scores, self._logged(result))

    def _image(self, upload, example) -> tuple[Path, str]:
        if upload:
            path = Path(getattr(upload, "name", upload))  # a path, or Gradio's file object
            return path, path.name
        if example:
            if example not in self.examples:
                raise BadInputError(f"{example!r} is not one of the shipped examples. Pick one from the list.")
            return self.examples[example], example
        raise BadInputError(NO_IMAGE)

    def _logged(self, result: assessment.Assessment) -> str:
        if result.log_row is None:
            return "Not recorded: this page keeps no review log."
        where = f" in {self.log_path}" if self.log_path else ""
        return f"Recorded for review{where} (the image's SHA-256 and your note; never the image or its name)."


# --- the page -----------------------------------------------------------------------------------------


def _gradio():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a workshop machine
    try:
        import gradio as gr
    except ImportError:
        raise DermAssistError(
            "The web app needs Gradio, in the pack's optional 'app' extra: pip install -e '.[app]' (make installs it)."
        ) from None
    return gr


def build_blocks(handlers: Handlers, *, banner: str, threshold: float = triage.DEFAULT_THRESHOLD, with_note: bool = True):
    """The Derm-Assist page over ``handlers``: upload or pick an example, threshold, reviewer note, result and chart."""
    gr = _gradio()
    threshold = triage.check_threshold(threshold)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS)) as blocks:
        gr.Markdown(f"# {TITLE}\n{triage.DISCLAIMER_HEADLINE} {NOT_A_PATIENT}")
        gr.Markdown(banner, elem_id="banner")
        with gr.Row():
            with gr.Column():
                upload = gr.File(label="Photo (JPEG or PNG)", type="filepath", file_count="single", elem_id="upload")
                example = gr.Dropdown(choices=handlers.example_names(), value=None, label="…or pick a shipped example",
                                      elem_id="example")
                slider = gr.Slider(0.0, 1.0, value=threshold, step=0.05, label="Threshold: below it the outcome is Uncertain — refer",
                                   elem_id="threshold")
                note = gr.Textbox(label="Reviewer note (optional, no patient details)", lines=2, visible=with_note, elem_id="note")
                button = gr.Button("Assess", variant="primary", elem_id="assess")
            with gr.Column():
                status = gr.Markdown(elem_id="status")
                result = gr.Markdown(elem_id="result")
                chart = gr.Label(label="Top classes", num_top_classes=TOP_CLASSES, elem_id="chart")

        def on_assess(upload_value, example_value, threshold_value, note_value):
            answer = handlers.run(upload_value, example_value, threshold_value, note_value)
            return answer.result, answer.scores, answer.status

        button.click(on_assess, [upload, example, slider, note], [result, chart, status], concurrency_limit=CONCURRENCY)
        upload.upload(lambda _: None, upload, example)  # a new upload wins over a picked example
        example.input(lambda _: None, example, upload)  # and a picked example over an earlier upload
    return blocks


def endpoint_handlers(endpoint: str | None = None, *, work_dir=None, examples_dir: Path = SKIN_PROXIES_DIR) -> Handlers:
    """Handlers that assess on ``endpoint`` (default: the remembered one, read at each click) and log every row."""
    from .images import list_images

    def assess_on_endpoint(image, name, threshold, note):
        return assessment.assess(image, endpoint, threshold, note=note, image_name=name, work_dir=work_dir)

    return Handlers(assess_on_endpoint, list_images(examples_dir), log_path=triage.ReviewLog(work_dir).path)


def endpoint_banner() -> str:
    """The notebooks' banner: where requests go (the local mock or AWS)."""
    from .core import aws

    return f"**{'MOCK' if aws.is_mock() else 'AWS'}** — {aws.banner()}"


# --- serving it ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppLink:
    url: str  # what the learner opens
    root_path: str  # what Gradio is told it is served under ("" when reached directly)
    where: str  # "local" or "SageMaker Studio"


def studio_metadata(path: str | os.PathLike | None = None) -> dict | None:
    """Studio's description of the running app (``DomainId``, ``AppType``, ``ResourceArn``...), or None outside Studio."""
    path = Path(path or os.environ.get(STUDIO_METADATA_VARIABLE) or STUDIO_METADATA)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("DomainId") else None


def app_link(port: int = DEFAULT_PORT, root_path: str | None = None, metadata: dict | None = None) -> AppLink:
    """Where to open the app on ``port``: in Studio, through JupyterLab's proxy; elsewhere, 127.0.0.1.

    ``root_path`` overrides the path prefix (for another proxy); in Studio it defaults to
    ``/jupyterlab/default/proxy/<port>`` (``/jupyter/default/...`` in Studio Classic's JupyterServer app).
    """
    port = check_port(port)
    metadata = studio_metadata() if metadata is None else metadata
    if metadata:
        app = "jupyter" if metadata.get("AppType") == "JupyterServer" else "jupyterlab"
        prefix = _clean_root(root_path) if root_path is not None else f"/{app}/default/proxy/{port}"
        host = f"https://{metadata['DomainId']}.studio.{_studio_region(metadata)}.sagemaker.aws"
        return AppLink(f"{host}{prefix}/", prefix, "SageMaker Studio")
    prefix = _clean_root(root_path or "")
    return AppLink(f"http://{HOST}:{port}{prefix}/", prefix, "local")


def _studio_region(metadata: dict) -> str:
    match = re.match(r"arn:aws[\w-]*:sagemaker:([a-z0-9-]+):", str(metadata.get("ResourceArn", "")))
    if match:
        return match.group(1)
    from .core import aws

    return aws.region()


def _clean_root(root_path: str) -> str:
    root = "/" + str(root_path).strip().strip("/")
    return "" if root == "/" else root


def check_port(port) -> int:
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise BadInputError(f"The port must be a whole number between 1024 and 65535, not {port!r}.") from None
    if not 1024 <= value <= 65535:
        raise BadInputError(f"The port must be between 1024 and 65535 (e.g. {DEFAULT_PORT}), not {value}.")
    return value


def launch(blocks, link: AppLink, port: int, *, block: bool = True):
    """Serve ``blocks`` on 127.0.0.1:``port`` under ``link.root_path``; one line if the port is taken."""
    started = time.perf_counter()
    try:
        blocks.queue(default_concurrency_limit=CONCURRENCY).launch(
            server_name=HOST, server_port=port, root_path=link.root_path, share=False, inbrowser=False,
            show_error=False, quiet=True, prevent_thread_lock=not block, footer_links=[],
        )
    except OSError as exc:
        raise DermAssistError(f"Cannot serve the app on {HOST}:{port} ({exc}). Pick another port with --port.") from None
    return time.perf_counter() - started


def serve(endpoint: str | None = None, port: int = DEFAULT_PORT, threshold: float = triage.DEFAULT_THRESHOLD, *,
          root_path: str | None = None, work_dir=None, block: bool = True, announce: Callable[[str], None] = print):
    """Build the endpoint app and serve it (what ``derm-assist app`` runs). Returns the Blocks when not blocking."""
    port = check_port(port)
    threshold = triage.check_threshold(threshold)
    link = app_link(port, root_path)
    started = time.perf_counter()
    blocks = build_blocks(endpoint_handlers(endpoint, work_dir=work_dir), banner=endpoint_banner(), threshold=threshold)
    announce(f"Derm-Assist app ({link.where}): open {link.url}  (Ctrl+C to stop)")
    launch(blocks, link, port, block=False)
    announce(f"Ready in {time.perf_counter() - started:.1f} s. Assessments are logged to {triage.ReviewLog(work_dir).path}.")
    if not block:
        return blocks
    try:
        blocks.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        blocks.close()
    return None


# --- the model inside a Space -------------------------------------------------------------------------


class PipelineClassifier:
    """Classify with a transformers ``image-classification`` pipeline in this process (how a Space runs the model).

    The image is cleaned exactly as for the endpoint (:func:`helpers.images.prepare_payload`), so the SHA-256
    in a review row means the same thing on both paths.
    """

    def __init__(self, model_id: str, *, revision: str | None = None, device: str = "cpu"):
        try:
            from transformers import pipeline
        except ImportError:
            raise DermAssistError("Running the model in-process needs transformers and torch: pip install -r space/requirements.txt.") from None
        self.model_id = model_id
        self.pipe = pipeline("image-classification", model=model_id, revision=revision, device=device)
        labels = set(self.pipe.model.config.id2label.values())
        if labels != set(triage.LABELS):
            raise BadInputError(
                f"{model_id} predicts {sorted(labels)[:4]}..., not the {len(triage.LABELS)} {triage.MODEL.name} classes the "
                "triage rule reads. Pick a model with the same labels, or add its ModelSpec in helpers/models.py."
            )

    def __call__(self, image) -> assessment.classify.Classification:
        import io

        from PIL import Image

        from . import classify, images, models

        spec = models.find(self.model_id)
        payload = images.prepare_payload(image, spec.geometry if spec else None)
        started = time.perf_counter()
        with Image.open(io.BytesIO(payload.body)) as decoded:
            raw = self.pipe(decoded.convert("RGB"), top_k=len(triage.LABELS))
        predictions = sorted((classify.Prediction(str(p["label"]), float(p["score"])) for p in raw), key=lambda p: p.score, reverse=True)
        name = str(image) if isinstance(image, (str, os.PathLike)) else "image"
        return classify.Classification(image=name, predictions=predictions, endpoint=f"in-process {self.model_id}",
                                       latency_ms=(time.perf_counter() - started) * 1000, sha256=images.sha256_bytes(payload.body))


def space_handlers(model_id: str, *, examples_dir: Path | None = None) -> Handlers:
    """Handlers with ``model_id`` running in-process (``space/app.py``). A public Space keeps no review log.

    A model the registry knows is loaded at its pinned revision (:mod:`helpers.models`)."""
    from . import models
    from .images import list_images

    known = models.find(model_id)
    classifier = PipelineClassifier(model_id, revision=known.revision if known else None)

    def assess_in_process(image, name, threshold, note):
        return assessment.assess(image, threshold=threshold, model_id=model_id, image_name=name, log=False, classifier=classifier)

    examples = list_images(examples_dir) if examples_dir and Path(examples_dir).is_dir() else []
    return Handlers(assess_in_process, examples)


def space_blocks(handlers: Handlers, model_id: str):
    """The same page as ``derm-assist app``, saying that the model runs inside the Space and nothing is kept."""
    banner = (f"**IN-SPACE MODEL** — `{model_id}` runs inside this Space (transformers pipeline on CPU). "
              "Nothing is recorded: this public page keeps no review log.")
    return build_blocks(handlers, banner=banner, with_note=False)
