"""The Derm-Assist MVP as a small ipywidgets app: upload or pick an image → triage → review log.

``DermAssistApp.widget()`` is what a GP would click through in the notebook;
``DermAssistApp.show_without_front_end()`` runs the same path on shipped examples, which is how papermill
and CI run it. Both go through :func:`helpers.assessment.assess`, the one place an image is assessed.
"""

from __future__ import annotations

import html
from pathlib import Path

from . import assessment, triage
from .accessibility import get_palette
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

    def _assess(self, image, name: str | None = None, note: str = "", threshold: float | None = None) -> assessment.Assessment:
        return assessment.assess(image, self.endpoint, self.threshold if threshold is None else threshold,
                                 model_id=self.model_id, note=note, image_name=name, work_dir=self.work_dir)

    def result_html(self, result: assessment.Assessment) -> str:
        palette = get_palette()
        triaged, classification = result.result, result.classification
        colour = palette.outcome_colour(triaged.outcome)
        top = "".join(f"<li>{html.escape(p.label)}: {p.score:.0%}</li>" for p in classification.predictions[:3])
        mock = f"<p><em>{html.escape(result.stand_in_note)}</em></p>" if result.stand_in_note else ""
        return (
            f'<div role="status" aria-live="polite" style="border-left:8px solid {colour};padding:8px 12px;color:{palette.text}">'
            f'<h3 style="margin:0">{html.escape(triaged.outcome)}</h3>'
            f"<p>Top class <strong>{html.escape(triaged.top_label)}</strong> at {triaged.top_score:.0%} "
            f"(threshold {triaged.threshold:.0%}).</p><ol>{top}</ol>{mock}"
            f"<p><strong>{html.escape(triage.DISCLAIMER)}</strong></p>"
            f'<details><summary>Screen-reader text</summary><pre style="white-space:pre-wrap">{html.escape(result.plain_text())}</pre></details></div>'
        )

    def show_without_front_end(self, images, note: str = ""):
        """Assess ``images`` with no front end (papermill, CI): show each result card, return a summary table."""
        import pandas as pd
        from IPython.display import HTML, display

        rows = []
        for image in images:
            result = self._assess(image, note=note)
            display(HTML(self.result_html(result)))
            rows.append(result.summary_row())
        print(f"{len(rows)} assessments logged to {self.log.path} ({len(self.log)} rows in total).")
        return pd.DataFrame(rows)

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
                    display(HTML(self.result_html(self._assess(image, name, note.value, threshold.value))))
                    print(f"Logged to {self.log.path} ({len(self.log)} assessments so far). Your note was kept.")
                except DermAssistError as exc:
                    print(f"⚠ {exc}")  # one line; what the learner typed stays in the form

        button.on_click(on_click)
        return w.VBox([w.HTML(f"<strong>Derm-Assist</strong> — {html.escape(triage.DISCLAIMER_HEADLINE.lower())} "
                              "Do not upload real patient images in this workshop."),
                       w.HBox([upload, pick]), threshold, note, button, out])
