"""The MoSCoW board: what the Derm-Assist MVP must, should, could and won't do, and why."""

from __future__ import annotations

import os
import re

import pandas as pd

from ..core.config import work_dir as _work_dir
from ..core.errors import BadInputError
from . import markdown as md
from .base import Worksheet
from .schema import Field, Table

PRIORITIES = ("Must", "Should", "Could", "Won't")
# What the activity brief asks for: (about, fewest, most) items per priority. Advice only.
BRIEF = {"Must": (2, 1, 3), "Should": (2, 1, 2), "Could": (1, 1, 2), "Won't": (1, 1, None)}
BRIEF_TEXT = {"Must": "about 2", "Should": "1–2", "Could": "1", "Won't": "at least 1"}
STORY = re.compile(r"^\s*as\s+(?P<who>.+?),\s*i want\s+(?P<what>.+?),?\s+so that\s+(?P<why>\S.*?)\s*$",
                   re.IGNORECASE | re.DOTALL)
DPIA_WORDS = re.compile(r"\bDPIA\b|data protection impact", re.IGNORECASE)
FLAG_WORDS = re.compile(r"\bflag", re.IGNORECASE)
CHECKLIST_WORDS = re.compile(r"checklist", re.IGNORECASE)

ITEM_FIELDS = (
    Field("id", "ID", readonly=True, help="Given on save (M1, M2, ...)."),
    Field("priority", "Priority", "choice", PRIORITIES, required=True, default="Must"),
    Field("text", "Item", "text", required=True, help="One thing the MVP does (or deliberately won't)."),
    Field("rationale", "Rationale", "textarea", help="Why this priority? Tie it to the GP brief, risk or cost."),
    Field("story", "User story", "textarea", help="As a …, I want …, so that …"),
    Field("done", "Definition of done", "textarea", help="How we will know it works: testable checks."),
)
SCHEMA = (Table("items", "Items", ITEM_FIELDS, row_name="item", id_field="id", id_prefix="M", natural_key="text"),)


def is_story(text: str) -> bool:
    """True when ``text`` has the form "As a …, I want …, so that …"."""
    return bool(STORY.match(text or ""))


def _words(item: dict) -> str:
    return " ".join(str(item.get(k, "")) for k in ("text", "story", "done"))


def check_brief(data: dict) -> list[str]:
    """Advice comparing the board with the activity brief (empty list: it matches). Never blocks."""
    items = data.get("items", [])
    tips = []
    for priority, (_about, low, high) in BRIEF.items():
        count = sum(i["priority"] == priority for i in items)
        if count < low or (high is not None and count > high):
            tips.append(f"{count} {priority} item(s); the brief suggests {BRIEF_TEXT[priority]}.")
    for item in items:
        name = item["text"]
        if not item.get("rationale", "").strip():
            tips.append(f"“{name}” has no rationale: say why it is a {item['priority']}.")
        story = item.get("story", "").strip()
        if item["priority"] == "Must" and not story:
            tips.append(f"Must “{name}” needs a user story (As a …, I want …, so that …).")
        elif story and not is_story(story):
            tips.append(f"The story for “{name}” is not in the form “As a …, I want …, so that …”.")
        if story and not item.get("done", "").strip():
            tips.append(f"“{name}” has a story but no definition of done.")
    storied = [i for i in items if i.get("story", "").strip()]
    if not any(DPIA_WORDS.search(_words(i)) for i in storied):
        tips.append("Add a compliance story for drafting the DPIA (the brief asks for one).")
    if not any(FLAG_WORDS.search(_words(i)) and CHECKLIST_WORDS.search(_words(i)) for i in storied):
        tips.append("Add a compliance story for the risk flag and compliance checklist (the brief asks for one).")
    return tips


def frame(data: dict) -> pd.DataFrame:
    """The board as a table (one row per item), in priority order."""
    order = {p: n for n, p in enumerate(PRIORITIES)}
    items = sorted(data.get("items", []), key=lambda i: order.get(i["priority"], 9))
    columns = {f.key: f.label for f in ITEM_FIELDS}
    rows = [{k: i.get(k, "") for k in columns} for i in items]
    return pd.DataFrame(rows, columns=list(columns)).rename(columns=columns)


def _body(data: dict) -> str:
    items = data.get("items", [])
    if not items:
        return md.NOT_FILLED
    parts = []
    for priority in PRIORITIES:
        chosen = [i for i in items if i["priority"] == priority]
        parts.append(f"## {priority} ({len(chosen)})")
        if not chosen:
            parts.append("_(none)_")
        for item in chosen:
            lines = [f"### {item['text']}", "", f"**Rationale:** {md.text(item.get('rationale'))}"]
            if item.get("story", "").strip():
                lines += ["", f"**User story:** {item['story'].strip()}"]
            if item.get("done", "").strip():
                lines += ["", f"**Definition of done:** {item['done'].strip()}"]
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


SPEC = Worksheet(name="moscow", title="MoSCoW board", template="moscow.md", schema=SCHEMA, body=_body,
                 advice=check_brief, frame=frame)


class MoscowBoard:
    """The learner's MoSCoW board in their work folder; every change is saved as a new version."""

    def __init__(self, work_dir: str | os.PathLike | None = None):
        self.work_dir = _work_dir(work_dir)
        self.reload()

    def reload(self) -> MoscowBoard:
        """Re-read the saved board."""
        record = SPEC.load(self.work_dir)
        self.items: list[dict] = list(record.data.get("items", [])) if record else []
        self.version = record.version if record else 0
        return self

    def find(self, text: str) -> dict | None:
        """The item with this text (case and spacing ignored), or ``None``."""
        wanted = " ".join(str(text).casefold().split())
        return next((i for i in self.items if " ".join(i["text"].casefold().split()) == wanted), None)

    def add_item(self, priority: str, text: str, rationale: str, story: str | None = None,
                 done: str | None = None) -> dict:
        """Add an item and save. An item with the same text is left as it is (re-runs are safe)."""
        self.reload()
        if not str(text or "").strip():
            raise BadInputError("MoSCoW board: the item's text is empty; say what the MVP does.")
        existing = self.find(text)
        if existing is not None:
            return existing
        row = {"priority": priority, "text": text, "rationale": rationale, "story": story or "", "done": done or ""}
        self._save(self.items + [row])
        return self.items[-1]

    def move(self, text: str, priority: str, rationale: str | None = None, story: str | None = None,
             done: str | None = None) -> dict:
        """Move an existing item to ``priority`` (e.g. after a curveball), or add it if it is new."""
        self.reload()
        item = self.find(text)
        if item is None:
            return self.add_item(priority, text, rationale or "", story, done)
        changed = dict(item, priority=priority, rationale=rationale if rationale is not None else item["rationale"])
        self._save([changed if i is item else i for i in self.items])
        return self.find(text)

    def _save(self, items: list[dict]) -> None:
        record = SPEC.save({"items": items}, self.work_dir, base_version=self.version)
        self.items, self.version = list(record.data["items"]), record.version

    def check_brief(self) -> list[str]:
        """Advice against the activity brief (empty when the board matches it)."""
        return check_brief({"items": self.items})

    def to_markdown(self) -> str:
        """The board as readable Markdown."""
        return SPEC.to_markdown({"items": self.items})

    def _repr_markdown_(self) -> str:
        return self.to_markdown()
