"""The 300-400 word reflection journal, with a live word count."""

from __future__ import annotations

import re

from . import markdown as md
from .base import Worksheet
from .schema import Field

TARGET = (300, 400)
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def word_count(text: str) -> int:
    """Words in ``text``: runs of letters/digits; "GP's" and "decision-support" count once,
    punctuation and Markdown marks (``#``, ``-``, ``*``) not at all."""
    return len(_WORD.findall(text or ""))


def count_line(text: str) -> str:
    """e.g. "312 words (target 300–400): on target"."""
    n, (low, high) = word_count(text), TARGET
    verdict = "on target" if low <= n <= high else (f"{low - n} to go" if n < low else f"{n - high} over")
    return f"{n} words (target {low}–{high}): {verdict}"


SCHEMA = (
    Field("author", "Name or group", help="So your coach knows whose portfolio this is."),
    Field("text", "Reflection", "textarea", live=True),
    Field("count", "Word count", "computed", compute=lambda d: count_line(d.get("text", ""))),
)


def _advice(data: dict) -> list[str]:
    n, (low, high) = word_count(data.get("text", "")), TARGET
    if n < low:
        return [f"The reflection has {n} words; aim for {low}–{high}."]
    if n > high:
        return [f"The reflection has {n} words; trim it to {high} at most."]
    return []


def _body(data: dict) -> str:
    return "\n\n".join([f"**Name or group:** {md.text(data.get('author'))}", md.text(data.get("text")),
                        f"_{count_line(data.get('text', ''))}_"])


SPEC = Worksheet(name="reflection", title="Reflection journal", template="reflection.md", schema=SCHEMA,
                 body=_body, advice=_advice)
