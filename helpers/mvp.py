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
from .core.display import hinted_vbox, plural
from .core.errors import DermAssistError
from .images import list_images

NO_PICK = "— or pick a shipped example —"
NOTHING_CHOSEN = "<i>No photo chosen yet: upload one or pick an example.</i>"
RESTART_HINT = ("After a kernel restart or reopening the notebook, this can show “Error displaying widget”: "
                "re-run this cell (the review log keeps every earlier result).")


class DermAssistApp:
    """The MVP. ``endpoint``/``model_id`` left as ``None`` (as notebook 04 does) are looked up in the
    state file at every assessment, so the app follows a redeploy (e.g. the budget card's serverless
    endpoint) instead of calling an endpoint that was deleted."""

    def __init__(self, endpoint: str | None = None, model_id: str | None = None, threshold: float = triage.DEFAULT_THRESHOLD,
                 work_dir=None, examples_dir: Path = SKIN_PROXIES_DIR):
        self.endpoint, self.model_id, self.work_dir = endpoint, model_id, work_dir
        self.threshold = triage.check_threshold(threshold)
        self.examples = list_images(examples_dir)
        self.log = triage.ReviewLog(work_dir)
        self._log_views: list = []  # review-log views to refresh after each assessment

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
        """Upload or pick an image, see which one will be assessed, assess it, clear it."""
        import ipywidgets as w
        from IPython.display import HTML, display

        upload = w.FileUpload(accept="image/*", multiple=False, description="Upload photo")
        pick = w.Dropdown(options=[(NO_PICK, None)] + [(p.name, p) for p in self.examples], layout=w.Layout(width="28em"))
        clear = w.Button(description="Clear", icon="times", layout=w.Layout(width="auto"),
                         tooltip="Forget the chosen photo and the result")
        chosen = w.HTML(NOTHING_CHOSEN)
        threshold = w.FloatSlider(value=self.threshold, min=0.0, max=1.0, step=0.05, description="Threshold", readout_format=".0%")
        note = w.Textarea(placeholder="Reviewer note (optional, no patient details)", layout=w.Layout(width="36em"))
        button = w.Button(description="Assess", button_style="primary", icon="stethoscope")
        out = w.Output()
        source: dict = {}  # what Assess uses: the last photo uploaded or example picked, whichever came last
        quiet = []         # non-empty while the app itself resets a control

        def choose(image=None, name: str = "", kind: str = "") -> None:
            source.clear()
            if image is not None:
                source.update(image=image, name=name)
            chosen.value = (f"Will assess: <strong>{html.escape(name)}</strong> ({kind})" if image is not None
                            else NOTHING_CHOSEN)

        def reset(control, value) -> None:
            quiet.append(1)
            try:
                control.value = value
            finally:
                quiet.pop()

        def on_upload(change) -> None:
            if quiet or not change["new"]:
                return
            item = change["new"][-1]
            choose(bytes(item["content"]), str(item["name"]), "uploaded")
            reset(pick, None)

        def on_pick(change) -> None:
            if quiet or change["new"] is None:
                return
            choose(change["new"], change["new"].name, "shipped example")
            reset(upload, ())

        def on_clear(_=None) -> None:
            reset(upload, ())
            reset(pick, None)
            choose()
            out.clear_output()

        def on_click(_=None) -> None:
            out.clear_output()
            with out:
                if not source:
                    print("Upload a photo or pick an example first.")
                    return
                try:
                    classification, result = self.assess(source["image"], note.value, threshold.value)
                except DermAssistError as exc:
                    print(f"⚠ {exc}")  # one line; what the learner typed stays in the form
                    return
                display(HTML(self.result_html(source["name"], classification, result)))
                kept = " Your note was saved with it." if note.value.strip() else ""
                print(f"Logged to {self.log.path} ({plural(len(self.log), 'assessment')} so far).{kept}")
            self._refresh_log_views()

        upload.observe(on_upload, names="value")
        pick.observe(on_pick, names="value")
        clear.on_click(on_clear)
        button.on_click(on_click)
        return hinted_vbox(
            [w.HTML("<strong>Derm-Assist</strong> — decision support, not a diagnosis. "
                    "Do not upload real patient images in this workshop."),
             w.HBox([upload, pick, clear]), chosen, threshold, note, button, out],
            name="The Derm-Assist app", hint=RESTART_HINT)

    def review_log(self, rows: int = 10, live: bool = True):
        """The last ``rows`` of the review log: a view that refreshes after every assessment in the
        app (``live``, in JupyterLab), or the table as it is now (papermill, CI)."""
        if not live:
            return self.log.read().tail(rows)
        import ipywidgets as w

        view = w.HTML()
        self._log_views.append((view, rows))
        self._refresh_log_views()
        return hinted_vbox([view], name="The review log", hint=RESTART_HINT)

    def _refresh_log_views(self) -> None:
        for view, rows in getattr(self, "_log_views", []):
            table = self.log.read().tail(rows)
            view.value = (table.to_html(index=False, border=0) if len(table)
                          else "<i>No assessments yet: use the app above.</i>")
