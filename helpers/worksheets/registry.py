"""The worksheets by name, in the order the portfolio shows them."""

from __future__ import annotations

from ..core.errors import BadInputError
from . import ai_act, build_or_buy, curveball_notes, dpia, moscow, reflection, risk_register
from .base import Worksheet

WORKSHEETS: dict[str, Worksheet] = {
    spec.name: spec
    for spec in (moscow.SPEC, risk_register.SPEC, dpia.SPEC, ai_act.SPEC, curveball_notes.SPEC, build_or_buy.SPEC,
                 reflection.SPEC)
}
NAMES = tuple(WORKSHEETS)


def get_spec(name: str) -> Worksheet:
    """The worksheet called ``name``; a one-line error listing the names otherwise."""
    try:
        return WORKSHEETS[name]
    except (KeyError, TypeError):
        raise BadInputError(f"No worksheet called {name!r}; use one of: {', '.join(NAMES)}.") from None
