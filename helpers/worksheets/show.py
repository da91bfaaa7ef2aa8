"""``show()``: a worksheet as a form (interactive) or as a saved, summarised record (papermill/CI)."""

from __future__ import annotations

import os

from ..core.config import work_dir as _work_dir
from .registry import get_spec


class ShownRecord(dict):
    """A worksheet's data (a plain dict) that Jupyter displays as its Markdown summary."""

    def __init__(self, data: dict, markdown: str, version: int):
        super().__init__(data)
        self.markdown = markdown
        self.version = version

    def _repr_markdown_(self) -> str:
        return self.markdown


def show(name: str, work_dir: str | os.PathLike | None = None, interactive: bool = True):
    """Show worksheet ``name``.

    ``interactive=True``: return a form pre-filled from the saved record (or the blank template),
    with a Save button and a status line. ``interactive=False`` (papermill, CI): keep a saved record
    exactly as it is, or else fill one from the example data and save it; refresh the exports and
    return the record's data, which a notebook displays as a Markdown summary (plain Python prints
    it). Only Save (or code such as ``RiskRegister.add_risk``) ever writes a new version.
    """
    spec = get_spec(name)
    folder = _work_dir(work_dir)
    if interactive:
        from .forms import WorksheetForm

        return WorksheetForm(spec, folder)
    record = spec.load(folder)
    if record is None:
        record = spec.fill_example(folder)
        origin = "filled from the example data and saved"
    else:
        spec.export(record.data, folder, record)
        origin = "your saved record, left as it is"
    summary = spec.to_markdown(record.data, record, level=2)
    shown = ShownRecord(record.data, f"*{spec.title}: {origin} (version {record.version}).*\n\n{summary}",
                        record.version)
    if not _in_ipython():
        print(shown.markdown)
    return shown


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None
