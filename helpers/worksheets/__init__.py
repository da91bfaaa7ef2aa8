"""Worksheets the learners fill inline: forms backed by plain, versioned files in their work folder.

Six worksheets (``NAMES``): ``moscow``, ``risk_register``, ``dpia``, ``ai_act``,
``curveball_notes`` and ``reflection``. Each starts from a template in ``templates/`` (printable
too), saves atomically to ``<work>/worksheets/<name>/record.json`` keeping every version in
``history/``, and exports Markdown/CSV to ``<work>/worksheets/exports/``.

One record per worksheet, whichever notebook, tab or kernel edits it: rows have IDs (M1, R1, ...),
a save merges with anything saved since the form opened, and every open form's typing is kept as
its own draft until it is saved.

Modules, one job each: ``store`` (atomic versioned files, drafts, the lock), ``merge`` (three-way
merge of two edits), ``schema`` (fields and validation),
``templates`` (paper templates and examples), ``base`` (what all worksheets share), one module
per worksheet, ``scoring``/``heatmap``/``screening`` (the rules), ``forms``/``form_extras``
(ipywidgets), ``show`` and ``portfolio``.
"""

from .curveball_notes import CurveballNotes
from .moscow import MoscowBoard
from .portfolio import build_portfolio, describe_portfolio
from .reflection import word_count
from .registry import NAMES, WORKSHEETS, get_spec
from .risk_register import RiskRegister
from .scoring import rag_rating, risk_score
from .screening import QUESTIONS as SCREENING_QUESTIONS
from .screening import ScreeningResult, dpia_screening
from .show import show
from .store import ConflictError

__all__ = [
    "NAMES",
    "SCREENING_QUESTIONS",
    "WORKSHEETS",
    "ConflictError",
    "CurveballNotes",
    "MoscowBoard",
    "RiskRegister",
    "ScreeningResult",
    "build_portfolio",
    "describe_portfolio",
    "dpia_screening",
    "get_spec",
    "rag_rating",
    "risk_score",
    "show",
    "word_count",
]
