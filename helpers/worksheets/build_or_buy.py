"""Build or buy: the learner's own criteria, and how each managed vision service (or building) meets them."""

from __future__ import annotations

import pandas as pd

from . import markdown as md
from .base import Worksheet
from .schema import Field, Table

# The options compared, with one neutral line each (what it is, not how good it is: that is the learner's call).
OPTIONS = {
    "Build: fine-tune and host our own model (SageMaker + Hugging Face)": "What this pack does: any public model, "
        "your data and evaluation, you run and pay for endpoints or jobs.",
    "SageMaker JumpStart": "Pre-trained models and fine-tuning from the SageMaker console or SDK, deployed to "
                           "endpoints in your account.",
    "SageMaker built-in image classification algorithm": "AWS's own training algorithm: bring labelled images in "
                                                         "S3, train and deploy without writing model code.",
    "Azure AI Custom Vision": "Microsoft's service: upload and tag images, train a classifier in a portal, "
                              "call a prediction API or export a compact model.",
    "Google Cloud Vision AI (Vertex AI image classification)": "Google's service: general labels from the "
        "Vision API, or a custom classifier trained on your labelled images in Vertex AI.",
}
SCORES = ("", "1 poor", "2", "3", "4", "5 strong")

ROW_FIELDS = (
    Field("option", "Option", readonly=True),
    Field("about", "What it is", "computed", compute=lambda row: OPTIONS.get(row.get("option"), "")),
    Field("fit", "How it meets our criteria", "textarea", help="Go through your criteria one by one; say what you checked."),
    Field("score", "Overall fit", "choice", SCORES),
)
SCHEMA = (
    Field("author", "Name or group"),
    Field("criteria", "Our criteria", "lines",
          help="One per line, most important first: e.g. melanoma recall we can measure, data stays in the UK, "
               "cost per 1,000 images, evaluation by skin type, vendor lock-in, who is accountable."),
    Table("options", "Options", ROW_FIELDS, fixed=True, row_name="option"),
    Field("decision", "Our decision", "textarea", help="Build, buy (which), or not yet: and what would change it."),
)


def _blank() -> dict:
    return {"author": "", "criteria": [], "options": [{"option": o, "fit": "", "score": ""} for o in OPTIONS], "decision": ""}


def _normalise(data: dict) -> dict:
    """Keep exactly the listed options, in order (a missing one comes back empty)."""
    given = {row.get("option"): row for row in data.get("options", [])}
    data["options"] = [{"option": o, "fit": given.get(o, {}).get("fit", ""), "score": given.get(o, {}).get("score", "")}
                       for o in OPTIONS]
    return data


def _advice(data: dict) -> list[str]:
    tips = []
    if len(data.get("criteria") or []) < 3:
        tips.append("List at least three criteria of your own before you score the options.")
    unscored = [r["option"] for r in data.get("options", []) if not r.get("score")]
    if unscored:
        tips.append(f"{len(unscored)} of {len(OPTIONS)} options have no overall fit yet.")
    if not str(data.get("decision") or "").strip():
        tips.append("Write your decision, even if it is 'not yet', and what evidence would change it.")
    return tips


def frame(data: dict) -> pd.DataFrame:
    return pd.DataFrame([[r["option"], r.get("score", ""), r.get("fit", "")] for r in data.get("options", [])],
                        columns=["Option", "Overall fit", "How it meets our criteria"])


def _body(data: dict) -> str:
    criteria = data.get("criteria") or []
    return "\n\n".join([
        f"**Name or group:** {md.text(data.get('author'))}",
        "## Our criteria\n\n" + ("\n".join(f"{i}. {md.text(c)}" for i, c in enumerate(criteria, 1)) or "—"),
        "## Options\n\n" + md.table(["Option", "Overall fit", "How it meets our criteria"],
                                    [[r["option"], r.get("score") or "—", r.get("fit") or "—"] for r in data.get("options", [])]),
        "## Our decision\n\n" + md.text(data.get("decision")),
    ])


SPEC = Worksheet(name="build_or_buy", title="Build or buy", template="build_or_buy.md", schema=SCHEMA, body=_body,
                 normalise=_normalise, advice=_advice, frame=frame, make_blank=_blank)
