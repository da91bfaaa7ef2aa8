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
from .core.display import RERUN_UP_TO_HERE, hinted_vbox, plural, show_html
from .core.errors import DermAssistError
from .images import list_images

NO_PICK = "— or pick a shipped example —"
NOTHING_CHOSEN = "<i>No photo chosen yet: upload one or pick an example.</i>"
RESTART_HINT = (f"If the app is missing here (after a kernel restart or when the notebook is reopened), {RERUN_UP_TO_HERE}; "
                "the review log keeps every earlier result.")


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

        rows = []
        for image in images:
            result = self._assess(image, note=note)
            show_html(self.result_html(result), f"{result.image_name}: {result.result.summary()}")
            rows.append(result.summary_row())
        print(f"{plural(len(rows), 'assessment')} logged to {self.log.path} ({plural(len(self.log), 'row')} in total).")
        return pd.DataFrame(rows)

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
                    result = self._assess(source["image"], source["name"], note.value, threshold.value)
                except DermAssistError as exc:
                    print(f"⚠ {exc}")  # one line; what the learner typed stays in the form
                    return
                display(HTML(self.result_html(result)))
                kept = " Your note was saved with it." if note.value.strip() else ""
                print(f"Logged to {self.log.path} ({plural(len(self.log), 'assessment')} so far).{kept}")
            self._refresh_log_views()

        upload.observe(on_upload, names="value")
        pick.observe(on_pick, names="value")
        clear.on_click(on_clear)
        button.on_click(on_click)
        return hinted_vbox(
            [w.HTML(f"<strong>Derm-Assist</strong> — {html.escape(triage.DISCLAIMER_HEADLINE.lower())} "
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
