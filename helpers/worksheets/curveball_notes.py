"""Curveball notes: what changed, how the team adapted, and the risks it added to the register.

Entries are keyed by card id, spelled as :mod:`helpers.curveball.cards` spells it (``budget-cut``).
Notes saved when this worksheet spelled ids with underscores (``budget_cut``) are read in today's
spelling, so re-running the curveball fills the learner's existing entry instead of adding another.
"""

from __future__ import annotations

import os

from ..core.config import work_dir as _work_dir
from ..core.errors import BadInputError
from ..curveball.cards import canonical_id, card_ids
from . import markdown as md
from .base import Worksheet
from .moscow import PRIORITIES, MoscowBoard
from .risk_register import SPEC as REGISTER_SPEC
from .risk_register import RiskRegister
from .schema import Field, Table, get

CARDS = card_ids()
QUESTIONS = {
    "surprise": "What surprised you about the change, and how did the team first react?",
    "trade_off": "What did you give up or postpone, and why was that the right trade-off for GPs and patients?",
    "evidence": "Which result, plot or rule gave you confidence in the new plan?",
    "next_time": "What would you do differently if this happened on a real project?",
}
TEXT_KEYS = ("what_changed", "how_adapted", "who_led")

ENTRY_FIELDS = (
    Field("card_id", "Curveball card", options=CARDS, required=True, help=f"The card you drew, e.g. {CARDS[0]}."),
    Field("what_changed", "What changed", "textarea"),
    Field("how_adapted", "How we adapted", "textarea"),
    Field("who_led", "Who led", help="Who led the response, and who else did what."),
    Field("new_risks", "New or changed risks (in the risk register)", "lines", readonly=True,
          help="Filled when a risk is added to the register; edit risks in the register itself."),
    Field("moscow_changes", "Changes to the MoSCoW board", "lines", help="One change per line."),
    *(Field(f"reflection.{key}", question, "textarea") for key, question in QUESTIONS.items()),
)
SCHEMA = (Table("entries", "Curveballs", ENTRY_FIELDS, row_name="curveball", id_field="card_id"),)


def _body(data: dict) -> str:
    entries = data.get("entries", [])
    if not entries:
        return md.NOT_FILLED
    parts = []
    for entry in entries:
        parts.append(f"## Curveball: {entry['card_id']}")
        parts.append(md.fields(ENTRY_FIELDS[1:], entry, level=3))
    return "\n\n".join(parts)


def _advice(data: dict) -> list[str]:
    tips = []
    for entry in data.get("entries", []):
        empty = [f.label for f in ENTRY_FIELDS if f.kind == "textarea" and not str(get(entry, f.key, "")).strip()]
        if empty:
            tips.append(f"{entry['card_id']}: still empty: {', '.join(empty)}.")
        if not entry.get("new_risks"):
            tips.append(f"{entry['card_id']}: did the curveball add or change a risk? Add it to the register.")
    return tips


def _change_text(change) -> str:
    if isinstance(change, str):
        return change.strip()
    reason = f" ({change['rationale']})" if change.get("rationale") else ""
    return f"“{change['text']}” → {change['to']}{reason}"


class CurveballNotes:
    """The learner's curveball notes; recording one also adds its new risks to the risk register."""

    def __init__(self, work_dir: str | os.PathLike | None = None):
        self.work_dir = _work_dir(work_dir)
        self._store = SPEC.store(self.work_dir)
        self.reload()

    def reload(self) -> CurveballNotes:
        """Re-read the saved notes."""
        record = self._store.load()
        self.entries: list[dict] = list(record.data.get("entries", [])) if record else []
        self.version = record.version if record else 0
        return self

    def record(self, card_id: str, what_changed: str, how_adapted: str, who_led: str, new_risks=(),
               reflection_answers: dict | None = None, moscow_changes=(), replace: bool = False) -> dict:
        """Save the notes for ``card_id``, add ``new_risks`` to the register, apply ``moscow_changes``.

        ``new_risks`` are dicts of :meth:`RiskRegister.add_risk` arguments. ``moscow_changes`` are
        lines of text, or dicts ``{"text", "to", "rationale"[, "story", "done"]}`` that also move
        (or add) the item on the MoSCoW board. If notes for this card exist already, only empty answers are filled in
        (re-running a cell never overwrites what was typed) unless ``replace=True``.
        """
        self.reload()
        card_id = canonical_id(card_id)
        if not card_id:
            raise BadInputError(f"Curveball notes: card_id is empty; use the id on your card, e.g. {CARDS[0]!r}.")
        answers = dict(reflection_answers or {})
        unknown = sorted(set(answers) - set(QUESTIONS))
        if unknown:
            raise BadInputError(f"Curveball notes: unknown reflection question {unknown[0]!r}; "
                                f"use {', '.join(QUESTIONS)}.")
        risks = [self._checked_risk(risk, card_id) for risk in new_risks]
        changes = [self._checked_change(change) for change in moscow_changes]

        register = RiskRegister(self.work_dir)
        risk_lines = []
        for risk in risks:
            risk_id = register.add_risk(**risk)
            risk_lines.append(f"{risk_id} — {register.find(risk['description'])['description']}")
        board = MoscowBoard(self.work_dir)
        for change in changes:
            if isinstance(change, dict):
                board.move(change["text"], change["to"], change.get("rationale"), change.get("story"),
                           change.get("done"))

        fresh = {"card_id": card_id, "what_changed": what_changed, "how_adapted": how_adapted, "who_led": who_led,
                 "new_risks": risk_lines, "moscow_changes": [_change_text(c) for c in changes],
                 "reflection": {key: answers.get(key, "") for key in QUESTIONS}}
        entries = [dict(e) for e in self.entries]
        old = next((e for e in entries if e.get("card_id") == card_id), None)
        if old is None:
            entries.append(fresh)
        else:
            entries[entries.index(old)] = fresh if replace else _fill_blanks(old, fresh)
        record = SPEC.save({"entries": entries}, self.work_dir, base_version=self.version)
        self.entries, self.version = list(record.data["entries"]), record.version
        return next(e for e in self.entries if e["card_id"] == card_id)

    @staticmethod
    def _checked_risk(risk: dict, card_id: str) -> dict:
        if not isinstance(risk, dict):
            raise BadInputError("Curveball notes: each new risk must be a dict of RiskRegister.add_risk arguments.")
        risk = dict(risk)
        risk.setdefault("source", f"curveball: {card_id}")
        allowed = {"description", "category", "likelihood", "impact", "mitigation", "owner", "status", "notes",
                   "source"}
        unknown = sorted(set(risk) - allowed)
        if unknown:
            raise BadInputError(f"Curveball notes: a new risk has an unknown field {unknown[0]!r}.")
        REGISTER_SPEC.validated({"risks": [{"id": "R0", **risk}]})  # fail before anything is written
        return risk

    @staticmethod
    def _checked_change(change):
        if isinstance(change, str):
            return change
        if not isinstance(change, dict) or not change.get("text") or change.get("to") not in PRIORITIES:
            raise BadInputError("Curveball notes: a MoSCoW change is a line of text or "
                                f"{{'text': ..., 'to': one of {', '.join(PRIORITIES)}, 'rationale': ...}}.")
        return change

    def to_markdown(self) -> str:
        """The notes as readable Markdown."""
        return SPEC.to_markdown({"entries": self.entries})

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _fill_blanks(old: dict, new: dict) -> dict:
    """``old`` with its empty answers filled from ``new``; lists are merged without duplicates."""
    merged = dict(old)
    for key in TEXT_KEYS:
        if not str(merged.get(key, "")).strip():
            merged[key] = new.get(key, "")
    for key in ("new_risks", "moscow_changes"):
        merged[key] = list(dict.fromkeys(list(old.get(key, [])) + list(new.get(key, []))))
    reflection = dict(old.get("reflection") or {})
    for key, answer in (new.get("reflection") or {}).items():
        if not str(reflection.get(key, "")).strip():
            reflection[key] = answer
    merged["reflection"] = reflection
    return merged


def _joined(first, second) -> str:
    first, second = str(first or "").strip(), str(second or "").strip()
    return first if not second or second == first else second if not first else f"{first}\n\n{second}"


def _merge_same_card(first: dict, second: dict) -> dict:
    """Two saved entries for one card as one: answers typed in both are kept, one after the other."""
    merged = _fill_blanks(first, second)
    for key in TEXT_KEYS:
        merged[key] = _joined(first.get(key), second.get(key))
    reflection = dict(merged.get("reflection") or {})
    for key, answer in (second.get("reflection") or {}).items():
        reflection[key] = _joined((first.get("reflection") or {}).get(key), answer)
    merged["reflection"] = reflection
    return merged


def _upgrade(data: dict) -> dict:
    """Saved notes in today's card-id spelling. Two entries that now name the same card (one saved as
    ``budget_cut``, one as ``budget-cut``) become one, keeping every answer typed in either."""
    entries: list[dict] = []
    for entry in data.get("entries") or []:
        if not isinstance(entry, dict):
            entries.append(entry)
            continue
        entry = {**entry, "card_id": canonical_id(entry.get("card_id", ""))}
        same = next((i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("card_id") == entry["card_id"]),
                    None)
        if same is None:
            entries.append(entry)
        else:
            entries[same] = _merge_same_card(entries[same], entry)
    return {**data, "entries": entries} if "entries" in data else data


def _fill_example(work_dir=None):
    """Record the example curveball(s) through :meth:`CurveballNotes.record`, like a learner would.

    Its risks go into the register and its changes onto the board, so those are filled from their
    own examples first if nothing was saved there yet.
    """
    from .moscow import SPEC as MOSCOW_SPEC
    from .templates import example

    for spec in (REGISTER_SPEC, MOSCOW_SPEC):
        if spec.load(work_dir) is None:
            spec.fill_example(work_dir)
    notes = CurveballNotes(work_dir)
    for kwargs in example(SPEC.name)["curveballs"]:
        notes.record(**kwargs)
    return SPEC.load(work_dir)


SPEC = Worksheet(name="curveball_notes", title="Curveball notes", template="curveball_notes.md", schema=SCHEMA,
                 body=_body, advice=_advice, example_filler=_fill_example, upgrade=_upgrade)
