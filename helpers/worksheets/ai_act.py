"""EU AI Act checklist for a high-risk AI system (Chapter III, Section 2: Articles 9-15)."""

from __future__ import annotations

import pandas as pd

from . import markdown as md
from .base import Worksheet
from .schema import Field, Table

STATUSES = ("Not started", "In progress", "Done", "Not applicable")
# Requirement -> what counts as evidence (shown in the form and on the paper template).
AREAS = {
    "Risk management system (Art. 9)": "A living risk register covering health, safety and fundamental rights, "
                                       "with mitigations and testing against them.",
    "Data and data governance (Art. 10)": "Where training/validation data came from, how representative it is "
                                          "(e.g. across Fitzpatrick skin types), known gaps and biases.",
    "Technical documentation (Art. 11, Annex IV)": "What the system is, the model and version, how it was built, "
                                                   "tested and deployed, its limits.",
    "Record-keeping (Art. 12)": "Automatic logs of each use: time, input reference, output, model version.",
    "Transparency and information for deployers (Art. 13)": "Instructions for use: intended purpose, accuracy, "
                                                            "known limits, 'decision support, not diagnosis'.",
    "Human oversight (Art. 14)": "How the GP can understand, question, override or ignore the output; "
                                 "guarding against over-trust.",
    "Accuracy, robustness and cybersecurity (Art. 15)": "Measured accuracy and its spread across groups, behaviour "
                                                        "on bad inputs, protection of the endpoint.",
}

ROW_FIELDS = (
    Field("area", "Requirement", readonly=True),
    Field("guide", "What counts as evidence", "computed", compute=lambda row: AREAS.get(row.get("area"), "")),
    Field("status", "Status", "choice", STATUSES, required=True, default="Not started"),
    Field("evidence", "Evidence", "textarea", help="Links to the notebook results or figures that show it."),
)
SCHEMA = (
    Field("system", "System", help="Name, version and intended purpose in one line."),
    Field("classification", "Why it is high-risk", "textarea"),
    Table("requirements", "Requirements", ROW_FIELDS, fixed=True, row_name="requirement"),
)


def _blank() -> dict:
    return {"system": "", "classification": "",
            "requirements": [{"area": area, "status": "Not started", "evidence": ""} for area in AREAS]}


def _normalise(data: dict) -> dict:
    """Keep exactly the seven requirements, in order (a missing one comes back as not started)."""
    given = {row.get("area"): row for row in data.get("requirements", [])}
    data["requirements"] = [
        {"area": area, "status": given.get(area, {}).get("status", "Not started"),
         "evidence": given.get(area, {}).get("evidence", "")}
        for area in AREAS
    ]
    return data


def _advice(data: dict) -> list[str]:
    rows = data.get("requirements", [])
    tips = [f"{r['area']}: marked Done but no evidence yet; link the notebook result that shows it."
            for r in rows if r["status"] == "Done" and not r.get("evidence", "").strip()]
    tips += [f"{r['area']}: marked Not applicable; high-risk systems must meet every requirement, so say why."
             for r in rows if r["status"] == "Not applicable" and not r.get("evidence", "").strip()]
    open_rows = [r for r in rows if r["status"] in ("Not started", "In progress")]
    if open_rows:
        tips.append(f"{len(open_rows)} of {len(rows)} requirements are not done yet.")
    if not data.get("classification", "").strip():
        tips.append("Say why the system is high-risk (e.g. software that is a medical device: Article 6(1), Annex I).")
    return tips


def frame(data: dict) -> pd.DataFrame:
    """The checklist as a table: requirement, status, evidence."""
    return pd.DataFrame([[r["area"], r["status"], r.get("evidence", "")] for r in data.get("requirements", [])],
                        columns=["Requirement", "Status", "Evidence"])


def _body(data: dict) -> str:
    rows = data.get("requirements", [])
    done = sum(r["status"] == "Done" for r in rows)
    return "\n\n".join([
        f"**System:** {md.text(data.get('system'))}",
        "## Why it is high-risk\n\n" + md.text(data.get("classification")),
        f"## Requirements ({done} of {len(rows)} done)",
        md.table(["Requirement", "Status", "Evidence"],
                 [[r["area"], r["status"], r.get("evidence") or "—"] for r in rows]),
    ])


SPEC = Worksheet(name="ai_act", title="EU AI Act checklist (high-risk system)", template="eu_ai_act_checklist.md",
                 schema=SCHEMA, body=_body, normalise=_normalise, advice=_advice, frame=frame,
                 make_blank=_blank)
