"""Risk score and red/amber/green rating on a 5 x 5 likelihood x impact matrix.

Thresholds (score = likelihood x impact, 1..25):

========  ===========  ======================================================================
Rating    Scores       What it asks of the team
========  ===========  ======================================================================
Green     1 - 6        accept and review at the usual check-points
Amber     8 - 12       a named owner and a mitigation plan before the next demo
Red       15 - 25      act or escalate now; do not pilot with the risk at this level
========  ===========  ======================================================================

Why these cut-offs: they are the bands of the NHS 5 x 5 risk matrix (NPSA, *A risk matrix for
risk managers*, 2008: 1-3 low, 4-6 moderate, 8-12 high, 15-25 extreme), with low and moderate
merged into green, which is what NHS trusts and the learners' future employers use. The products
7, 11, 13 and 14 cannot occur, so each band boundary falls in a gap and no score is ambiguous.
Every 5 in impact with likelihood 3 or more (a serious harm that is more than unlikely) is red.
"""

from __future__ import annotations

from ..core.errors import BadInputError

LEVELS = range(1, 6)
GREEN, AMBER, RED = "Green", "Amber", "Red"
RAG_BANDS = ((6, GREEN), (12, AMBER), (25, RED))  # (highest score in band, rating)
RAG_COLOURS = {GREEN: "#b8e0b0", AMBER: "#ffd27f", RED: "#f4a7a7"}  # light fills: black text stays AAA
LIKELIHOOD_WORDS = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "almost certain"}
IMPACT_WORDS = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "catastrophic"}


def _level(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise BadInputError(f"{name} must be a whole number from 1 to 5 (got {value!r}).")
    return value


def risk_score(likelihood: int, impact: int) -> int:
    """``likelihood x impact``, each a whole number 1-5 (raises :class:`BadInputError` otherwise)."""
    return _level("Likelihood", likelihood) * _level("Impact", impact)


def rag_rating(score: int) -> str:
    """``"Green"`` for 1-6, ``"Amber"`` for 8-12, ``"Red"`` for 15-25 (see the module docstring)."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 25:
        raise BadInputError(f"A risk score must be a whole number from 1 to 25 (got {score!r}).")
    return next(rating for top, rating in RAG_BANDS if score <= top)
