"""The Derm-Assist MVP as a small ipywidgets app: upload or pick an image → triage → review log.

``DermAssistApp.widget()`` is what a GP would click through in the notebook. ``assess()`` is the same
code path without a front end, which is how papermill and CI run it.
"""

from __future__ import annotations

import html
from pathlib import Path

from . import triage
from .accessibility import get_palette, plain_text_result
from .core.config import SKIN_PROXIES_DIR
from .core.errors import DermAssistError
from .images import list_images


class DermAssistApp:
    def __init__(self, endpoint: str | None = None, model_id: str | None = None, threshold: float = triage.DEFAULT_THRESHOLD,
                 work_dir=None, examples_dir: Path = SKIN_PROXIES_DIR):
        self.endpoint, self.model_id, self.work_dir = endpoint, model_id, work_dir
        self.threshold = triage.check_threshold(threshold)
        self.examples = list_images(examples_dir)
        self.log = triage.ReviewLog(work_dir)

    # --- the same path with or without a front end ---------------------------------------------------

    def assess(self, image, note: str = "", threshold: float | None = None):
        """Classify + triage + log one image. Returns (classification, triage result)."""
        return triage.assess(image, self.endpoint, self.threshold if threshold is None else threshold,
                             model_id=self.model_id, note=note, work_dir=self.work_dir)

    def result_html(self, image_name: str, classification, result: triage.TriageResult) -> str:
        palette = get_palette()
        colour = palette.outcome_colour(result.outcome)
        top = "".join(f"<li>{html.escape(p.label)}: {p.score:.0%}</li>" for p in classification.predictions[:3])
        mock = "<p><em>Simulated model (local mock): not the real ViT.</em></p>" if classification.is_mock else ""
        text = plain_text_result(result=None, outcome=result.outcome, confidence=result.top_score,
                                 predictions=[{"label": p.label, "score": p.score} for p in classification.predictions],
                                 image_name=image_name)
        return (
            f'<div role="status" aria-live="polite" style="border-left:8px solid {colour};padding:8px 12px;color:{palette.text}">'
            f'<h3 style="margin:0">{html.escape(result.outcome)}</h3>'
            f"<p>Top class <strong>{html.escape(result.top_label)}</strong> at {result.top_score:.0%} "
            f"(threshold {result.threshold:.0%}).</p><ol>{top}</ol>{mock}"
            f"<p><strong>{html.escape(triage.DISCLAIMER)}</strong></p>"
            f'<details><summary>Screen-reader text</summary><pre style="white-space:pre-wrap">{html.escape(text)}</pre></details></div>'
        )

    # --- the interactive app ------------------------------------------------------------------------

    def widget(self):
        import ipywidgets as w
        from IPython.display import HTML, display

        upload = w.FileUpload(accept="image/*", multiple=False, description="Upload photo")
        pick = w.Dropdown(options=[("— or pick a shipped example —", None)] + [(p.name, p) for p in self.examples], layout=w.Layout(width="28em"))
        threshold = w.FloatSlider(value=self.threshold, min=0.0, max=1.0, step=0.05, description="Threshold", readout_format=".0%")
        note = w.Textarea(placeholder="Reviewer note (optional, no patient details)", layout=w.Layout(width="36em"))
        button = w.Button(description="Assess", button_style="primary", icon="stethoscope")
        out = w.Output()

        def on_click(_):
            out.clear_output()
            with out:
                try:
                    if upload.value:
                        item = upload.value[0]
                        image, name = bytes(item["content"]), item["name"]
                    elif pick.value is not None:
                        image, name = pick.value, pick.value.name
                    else:
                        print("Upload a photo or pick an example first.")
                        return
                    classification, result = self.assess(image, note.value, threshold.value)
                    display(HTML(self.result_html(name, classification, result)))
                    print(f"Logged to {self.log.path} ({len(self.log)} assessments so far). Your note was kept.")
                except DermAssistError as exc:
                    print(f"⚠ {exc}")  # one line; what the learner typed stays in the form

        button.on_click(on_click)
        return w.VBox([w.HTML("<strong>Derm-Assist</strong> — decision support, not a diagnosis. "
                              "Do not upload real patient images in this workshop."),
                       w.HBox([upload, pick]), threshold, note, button, out])
