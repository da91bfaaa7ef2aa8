"""The risk register: a living list of risks, scored, rated, mapped and compared over time."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from ..core.config import work_dir as _work_dir
from ..core.errors import BadInputError
from . import heatmap
from . import markdown as md
from .base import Worksheet
from .schema import Field, Table
from .scoring import RAG_BANDS, rag_rating, risk_score

CATEGORIES = ("Data", "Budget", "User", "Ethical/Compliance")
STATUSES = ("Open", "Monitoring", "Mitigated", "Closed")

# Column headers of templates/risk_register.csv and of the CSV export (paper and export match).
HEADERS = {
    "id": "ID",
    "description": "Description",
    "category": "Category (Data/Budget/User/Ethical/Compliance)",
    "likelihood": "Likelihood (1-5)",
    "impact": "Impact (1-5)",
    "score": "Score (L x I)",
    "rating": "Rating (Green/Amber/Red)",
    "mitigation": "Mitigation",
    "owner": "Owner",
    "status": "Status (Open/Monitoring/Mitigated/Closed)",
    "notes": "Notes",
    "source": "Source",
}
DIFF_COLUMNS = ["ID", "Change", "Field", "Before", "After"]


def _score_text(row: dict) -> str:
    try:
        score = risk_score(row.get("likelihood"), row.get("impact"))
    except BadInputError:
        return "Score: likelihood and impact must each be 1–5"
    return f"Score {score} · {rag_rating(score)}"


RISK_FIELDS = (
    Field("id", "ID", readonly=True, help="Given on save (R1, R2, ...)."),
    Field("description", "Description", "textarea", required=True, help="What could go wrong, for whom."),
    Field("category", "Category", "choice", CATEGORIES, required=True, default="Data"),
    Field("likelihood", "Likelihood", "int", required=True, default=3, help="1 rare … 5 almost certain"),
    Field("impact", "Impact", "int", required=True, default=3, help="1 negligible … 5 catastrophic"),
    Field("score", "Score", "computed", compute=_score_text),
    Field("mitigation", "Mitigation", "textarea", help="What we do to make it less likely or less harmful."),
    Field("owner", "Owner"),
    Field("status", "Status", "choice", STATUSES, required=True, default="Open"),
    Field("notes", "Notes", "textarea"),
    Field("source", "Source", help="Where it came from: demo, curveball, review…"),
)
SCHEMA = (Table("risks", "Risks", RISK_FIELDS, row_name="risk", id_field="id", id_prefix="R", natural_key="description"),)


def _key(description: str) -> str:
    return " ".join(str(description).casefold().split()).rstrip(".")


def _number(risk_id: str) -> int:
    match = re.fullmatch(r"R(\d+)", str(risk_id or "").strip(), re.IGNORECASE)
    return int(match.group(1)) if match else 0


def _advice(data: dict) -> list[str]:
    risks = data.get("risks", [])
    tips = []
    if len(risks) < 2:
        tips.append(f"The brief asks for at least two risks; the register has {len(risks)}.")
    for risk in risks:
        rating = rag_rating(risk_score(risk["likelihood"], risk["impact"]))
        if rating != "Green" and risk["status"] != "Closed" and not risk.get("mitigation", "").strip():
            tips.append(f"{risk['id']} is {rating} but has no mitigation yet.")
        if rating == "Red" and not risk.get("owner", "").strip():
            tips.append(f"{risk['id']} is Red: name an owner.")
    missing = [c for c in CATEGORIES if risks and c not in {r["category"] for r in risks}]
    if missing:
        tips.append("No risks yet in: " + ", ".join(missing) + ". Is that really so?")
    return tips


def frame(data: dict) -> pd.DataFrame:
    """The register as a table with score and rating, columns as in the CSV template."""
    rows = []
    for risk in data.get("risks", []):
        score = risk_score(risk["likelihood"], risk["impact"])
        rows.append({**{k: risk.get(k, "") for k in HEADERS}, "score": score, "rating": rag_rating(score)})
    return pd.DataFrame(rows, columns=list(HEADERS)).rename(columns=HEADERS)


def _body(data: dict) -> str:
    risks = data.get("risks", [])
    if not risks:
        return md.NOT_FILLED
    ratings = [rag_rating(risk_score(r["likelihood"], r["impact"])) for r in risks]
    counts = ", ".join(f"{ratings.count(name)} {name.lower()}" for _top, name in reversed(RAG_BANDS))
    still_open = sum(r["status"] in ("Open", "Monitoring") for r in risks)
    table = frame(data)
    table.columns = [c.split(" (")[0] for c in table.columns]
    return (
        f"{len(risks)} risks: {counts}; {still_open} open or monitored. "
        "Score = likelihood × impact; Green 1–6, Amber 8–12, Red 15–25.\n\n"
        + md.table(list(table.columns), table.itertuples(index=False))
    )


SPEC = Worksheet(
    name="risk_register",
    title="Risk register",
    template="risk_register.csv",
    schema=SCHEMA,
    body=_body,
    advice=_advice,
    frame=frame,
    images=lambda data: {"risk_heatmap.png": heatmap.png(data.get("risks", []))},
)


def diff_risks(before: list[dict], after: list[dict]) -> pd.DataFrame:
    """Rows added, removed or changed between two lists of risks (one line per changed field)."""
    old = {r["id"]: r for r in before}
    new = {r["id"]: r for r in after}
    labels = {f.key: f.label for f in RISK_FIELDS if f.kind != "computed"}
    rows = []
    for rid in sorted(set(old) | set(new), key=lambda x: (_number(x), str(x))):
        if rid not in old:
            rows.append([rid, "added", "", "", new[rid].get("description", "")])
        elif rid not in new:
            rows.append([rid, "removed", "", old[rid].get("description", ""), ""])
        else:
            for key, label in labels.items():
                if old[rid].get(key) != new[rid].get(key):
                    rows.append([rid, "changed", label, old[rid].get(key, ""), new[rid].get(key, "")])
            before_score = _score_text(old[rid])
            after_score = _score_text(new[rid])
            if before_score != after_score:
                rows.append([rid, "changed", "Score", before_score.removeprefix("Score "),
                             after_score.removeprefix("Score ")])
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


class RiskRegister:
    """The learner's risk register, read from and saved to their work folder.

    Every change through code (``add_risk``) is saved at once as a new version, so the register is
    a living document whose history (after the demo, after the curveball) can be compared.
    """

    def __init__(self, work_dir: str | os.PathLike | None = None):
        self.work_dir = _work_dir(work_dir)
        self._store = SPEC.store(self.work_dir)
        self.reload()

    def reload(self) -> RiskRegister:
        """Re-read the saved register (picks up saves from forms or other notebooks)."""
        record = SPEC.load(self.work_dir)
        self.risks: list[dict] = list(record.data.get("risks", [])) if record else []
        self.version = record.version if record else 0
        self.saved_at = record.saved_at if record else ""
        return self

    def find(self, description: str) -> dict | None:
        """The risk with this description (case and spacing ignored), or ``None``."""
        wanted = _key(description)
        return next((r for r in self.risks if _key(r.get("description", "")) == wanted), None)

    def add_risk(self, description: str, category: str, likelihood: int, impact: int, mitigation: str = "",
                 owner: str = "", status: str = "Open", notes: str = "", source: str = "") -> str:
        """Append a risk and save; return its ID. The same description twice returns the first ID."""
        self.reload()
        if not str(description or "").strip():
            raise BadInputError("Risk register: the risk's description is empty; say what could go wrong.")
        existing = self.find(description)
        if existing is not None:
            return existing["id"]
        row = {"id": "", "description": description, "category": category, "likelihood": likelihood,
               "impact": impact, "mitigation": mitigation, "owner": owner, "status": status, "notes": notes,
               "source": source}
        data = SPEC.validated({"risks": self.risks + [row]})
        self._save(data)
        return data["risks"][-1]["id"]

    def save(self) -> None:
        """Save ``self.risks`` (after editing them in code) as a new version."""
        self._save(SPEC.validated({"risks": self.risks}))

    def _save(self, data: dict) -> None:
        record = SPEC.save(data, self.work_dir, base_version=self.version)
        self.risks, self.version, self.saved_at = list(record.data["risks"]), record.version, record.saved_at

    def table(self) -> pd.DataFrame:
        """The register with score and rating, as a DataFrame."""
        return frame({"risks": self.risks})

    def heatmap(self, ax=None):
        """A 5 x 5 likelihood x impact heat map (matplotlib figure) with risk IDs in their cells."""
        return heatmap.draw(self.risks, ax=ax or heatmap.new_figure(for_notebook=True).add_subplot())

    def diff(self, since: int | None = None) -> pd.DataFrame:
        """What changed from saved version ``since`` (default: the one before the last save) to now.

        ``since=0`` is the register before its first save: every risk shows as added.
        """
        if since is None:
            base = self._store.previous()
        elif since == 0:
            base = None
        else:
            base = self._store.version(since)
            if base is None:
                raise BadInputError(f"Risk register: there is no saved version {since} "
                                    f"(saved versions: {self._store.versions()}).")
        return diff_risks(base.data.get("risks", []) if base else [], self.risks)

    def to_csv(self, path: str | os.PathLike | None = None):
        """CSV text, or write it to ``path`` and return the path (like pandas)."""
        if path is None:
            return self.table().to_csv(index=False)
        self.table().to_csv(path, index=False)
        return Path(path)

    def to_markdown(self) -> str:
        """The register as readable Markdown."""
        return SPEC.to_markdown({"risks": self.risks})

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __len__(self) -> int:
        return len(self.risks)
