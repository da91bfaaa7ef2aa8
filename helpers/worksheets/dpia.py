"""The DPIA skeleton (UK GDPR): screening, lawful basis, risks to people and DPO sign-off."""

from __future__ import annotations

from ..core.errors import BadInputError
from . import markdown as md
from .base import Worksheet
from .schema import Field, get
from .screening import QUESTIONS, dpia_screening, summary

ARTICLE_6 = ("", "6(1)(a) consent", "6(1)(b) contract", "6(1)(c) legal obligation", "6(1)(d) vital interests",
             "6(1)(e) public task", "6(1)(f) legitimate interests")
ARTICLE_9 = ("", "9(2)(a) explicit consent", "9(2)(b) employment and social security", "9(2)(c) vital interests",
             "9(2)(d) not-for-profit body", "9(2)(e) made public by the person", "9(2)(f) legal claims",
             "9(2)(g) substantial public interest", "9(2)(h) health or social care", "9(2)(i) public health",
             "9(2)(j) archiving, research or statistics", "Not applicable: no special category data")
RESIDUAL = ("", "Low", "Medium", "High")


NOT_ANSWERED = ("Not answered yet: tick every question that applies (the result appears as you tick), or tick "
                "“I have gone through every screening question” if none does.")


def _answers(data: dict) -> dict[str, bool]:
    return {key: bool(get(data, f"screening.{key}", False)) for key in QUESTIONS}


def _answered(data: dict) -> bool:
    """A blank form has not been answered: unticked boxes only mean "no" once the learner says so."""
    return any(_answers(data).values()) or bool(data.get("screening_answered"))


def _result_line(data: dict) -> str:
    return summary(_answers(data)) if _answered(data) else NOT_ANSWERED


SCREENING = tuple(Field(f"screening.{key}", question, "bool") for key, question in QUESTIONS.items())
ANSWERED = Field("screening_answered", "I have gone through every screening question (unticked means no)", "bool")
SECTIONS = (
    Field("purpose", "Purpose of the processing", "textarea"),
    Field("data_categories", "Data categories", "textarea"),
    Field("special_category", "Includes special category data (health data is special category)", "bool"),
    Field("lawful_basis", "Lawful basis (Article 6)", "choice", ARTICLE_6),
    Field("lawful_basis_reason", "Why this lawful basis", "textarea"),
    Field("art9_condition", "Special category condition (Article 9)", "choice", ARTICLE_9),
    Field("art9_reason", "Why this condition", "textarea"),
    Field("necessity", "Necessity and proportionality", "textarea"),
    Field("risks", "Risks to individuals", "textarea"),
    Field("mitigations", "Mitigations", "textarea"),
    Field("residual_risk", "Residual risk", "choice", RESIDUAL),
    Field("residual_notes", "Why this residual risk", "textarea"),
    Field("dpo_name", "DPO name"),
    Field("dpo_advice", "DPO advice", "textarea"),
    Field("dpo_signed_off", "DPO signed off", "bool"),
    Field("dpo_date", "Sign-off date", help="YYYY-MM-DD"),
)
SCHEMA = (
    Field("project", "Project", help="Name and version of the system being assessed."),
    *SCREENING,
    ANSWERED,
    Field("screening_result", "Screening result", "computed", compute=_result_line),
    *SECTIONS,
)


def _advice(data: dict) -> list[str]:
    tips = []
    if not _answered(data):
        tips.append("Answer the screening first: " + NOT_ANSWERED.removeprefix("Not answered yet: "))
    result = dpia_screening(_answers(data))
    empty = [f.label for f in SECTIONS if f.kind == "textarea" and not str(data.get(f.key, "")).strip()]
    if _answered(data) and result.required and empty:
        tips.append(f"The screening says a full DPIA is required; still empty: {', '.join(empty[:3])}"
                    + (f" and {len(empty) - 3} more." if len(empty) > 3 else "."))
    if (data.get("special_category") or get(data, "screening.sensitive_data")) and (
            not data.get("art9_condition") or data["art9_condition"].startswith("Not applicable")):
        tips.append("Health data is special category data: choose an Article 9 condition as well as an "
                    "Article 6 basis.")
    if not data.get("lawful_basis"):
        tips.append("Choose a lawful basis under Article 6.")
    if data.get("lawful_basis", "").endswith("consent") or data.get("art9_condition", "").endswith("explicit consent"):
        tips.append("Consent is rarely the right basis for NHS direct care: GP practices usually rely on "
                    "Article 6(1)(e) public task with Article 9(2)(h) health or social care.")
    if data.get("residual_risk") == "High":
        tips.append("High residual risk: you must consult the ICO before starting the processing (Article 36).")
    if not data.get("dpo_signed_off"):
        tips.append("Not yet signed off by the Data Protection Officer.")
    return tips


def _body(data: dict) -> str:
    answers = _answers(data)
    result = dpia_screening(answers)
    checklist = "\n".join(f"- [{'x' if answers[key] else ' '}] {question}" for key, question in QUESTIONS.items())
    if not _answered(data):
        verdict = f"**{NOT_ANSWERED}**"
    else:
        verdict = ("**A full DPIA is required.**" if result.required else "**A full DPIA is not required.**") + (
            " Why:\n\n" + md.bullets(result.reasons))
    return "\n\n".join([
        f"**Project:** {md.text(data.get('project'))}",
        "## Screening (ICO)",
        checklist,
        verdict,
        md.fields(SECTIONS, data),
    ])


SPEC = Worksheet(name="dpia", title="DPIA skeleton (UK GDPR)", template="dpia.md", schema=SCHEMA, body=_body,
                 advice=_advice)


NOTE_FIELDS = tuple(f.key for f in SECTIONS if f.kind == "textarea")


def add_note(field: str, text: str, work_dir=None) -> bool:
    """Append ``text`` as a new paragraph of the DPIA's ``field`` and save; nothing typed there is overwritten.

    Returns False (and writes nothing) when the paragraph is already there, so re-running a cell is safe.
    Used by notebooks that find something the DPIA must record (e.g. notebook 06's Data Capture).
    """
    if field not in NOTE_FIELDS:
        raise BadInputError(f"DPIA: {field!r} is not a text section; use one of {', '.join(NOTE_FIELDS)}.")
    paragraph = " ".join(str(text or "").split())
    if not paragraph:
        raise BadInputError("DPIA: the note is empty.")
    record = SPEC.load(work_dir)
    data = dict(record.data) if record else SPEC.blank()
    current = str(data.get(field) or "")
    if paragraph in " ".join(current.split()):
        return False
    data[field] = f"{current.rstrip()}\n\n{paragraph}" if current.strip() else paragraph
    SPEC.save(data, work_dir, base_version=record.version if record else 0)  # merged with any save since
    return True
