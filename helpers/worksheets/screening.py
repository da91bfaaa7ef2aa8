"""ICO DPIA screening: does the processing need a full DPIA, and why?

The rule (UK GDPR Article 35(1)): a DPIA is required before processing that is "likely to result
in a high risk" to people's rights and freedoms. The screening below applies, in order:

1. **Article 35(3)** — always a DPIA for (a) systematic and extensive evaluation or profiling with
   decisions that have legal or similarly significant effects, (b) large-scale processing of
   special category data (health data is special category), (c) large-scale systematic
   monitoring of a publicly accessible area.
2. **The ICO's list** (Article 35(4), "Examples of processing likely to result in high risk"):
   always for denial of service, large-scale profiling, data matching, targeting children or
   other vulnerable people, and risk of physical harm; and for innovative technology (including
   AI), biometric identification, genetic data, invisible processing and tracking *when combined
   with any other criterion* of the EDPB guidelines.
3. **The EDPB guidelines** (WP248 rev.01, endorsed by the ICO): processing that meets **two or
   more** of its nine criteria usually needs a DPIA.

Otherwise a DPIA is not required, but the ICO calls one good practice for any major project that
processes personal data, and the screening itself should be kept as the record of the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.errors import BadInputError

# The nine EDPB (WP248 rev.01) criteria: key -> question.
EDPB_CRITERIA = {
    "evaluation_scoring": "Does it evaluate or score people, including profiling and predicting "
                          "(for example their health)?",
    "automated_decision": "Does it make automated decisions with legal or similarly significant effects on people?",
    "systematic_monitoring": "Does it observe, monitor or control people systematically?",
    "sensitive_data": "Does it process special category data (such as health data) or other highly personal data?",
    "large_scale": "Is it large scale (many people, much data, a long time or a wide area)?",
    "matching_datasets": "Does it match or combine datasets from different sources?",
    "vulnerable_subjects": "Are the people vulnerable (patients, children, employees, people who cannot "
                           "easily object)?",
    "innovative_technology": "Does it use innovative technology or a new application of existing technology "
                             "(including AI)?",
    "prevents_rights": "Does it stop people exercising a right or using a service or contract?",
}
# Further types on the ICO's list, and Article 35(3)(c): key -> question.
ICO_CRITERIA = {
    "denial_of_service": "Are decisions about access to a service, product, opportunity or benefit based to any extent "
                         "on automated decision-making or on special category data?",
    "biometric_data": "Does it use biometric data to identify people uniquely?",
    "genetic_data": "Does it process genetic data (other than by a clinician for the person's direct care)?",
    "invisible_processing": "Is personal data obtained other than from the person, where telling them would be "
                            "impossible or take disproportionate effort?",
    "tracking": "Does it track people's location or behaviour, online or offline?",
    "targeting_children": "Does it use children's or other vulnerable people's data for marketing, profiling or "
                          "automated decisions, or offer online services directly to children?",
    "physical_harm": "Could a personal data breach put someone's physical health or safety at risk?",
    "public_monitoring": "Does it systematically monitor a publicly accessible area on a large scale?",
}
QUESTIONS = {**EDPB_CRITERIA, **ICO_CRITERIA}

_ALWAYS = {  # ICO list: a DPIA on its own
    "denial_of_service": "ICO list, denial of service: access to a service is decided partly by automated "
                         "decision-making or special category data",
    "matching_datasets": "ICO list, data matching: personal data from several sources is combined or matched",
    "targeting_children": "ICO list, targeting children or other vulnerable people",
    "physical_harm": "ICO list, risk of physical harm: a breach could endanger someone's health or safety",
}
_WITH_ANOTHER = {  # ICO list: a DPIA when combined with any other EDPB criterion
    "innovative_technology": "innovative technology (including AI)",
    "biometric_data": "biometric identification",
    "genetic_data": "genetic data",
    "invisible_processing": "invisible processing",
    "tracking": "tracking",
}


@dataclass(frozen=True)
class ScreeningResult:
    """Whether a full DPIA is required, and the reasons (each citing its source)."""

    required: bool
    reasons: list[str]
    criteria_met: list[str] = field(default_factory=list)  # EDPB criteria answered "yes"


def dpia_screening(answers: dict[str, bool]) -> ScreeningResult:
    """Apply the ICO screening to ``answers`` (keys from :data:`QUESTIONS`; missing keys count as no)."""
    if not isinstance(answers, dict):
        raise BadInputError("DPIA screening: answers must be a dict of question keys to True/False.")
    unknown = sorted(set(answers) - set(QUESTIONS))
    if unknown:
        raise BadInputError(f"DPIA screening: unknown question {unknown[0]!r}; use one of {', '.join(QUESTIONS)}.")
    for key, value in answers.items():
        if not isinstance(value, bool):
            raise BadInputError(f"DPIA screening: the answer to {key!r} must be True or False (got {value!r}).")
    yes = {key for key, value in answers.items() if value}
    met = [key for key in EDPB_CRITERIA if key in yes]
    reasons = []

    if {"evaluation_scoring", "automated_decision"} <= yes:
        reasons.append("Article 35(3)(a): systematic evaluation of people with decisions that significantly "
                       "affect them")
    if {"sensitive_data", "large_scale"} <= yes:
        reasons.append("Article 35(3)(b): large-scale processing of special category data (e.g. health data)")
    if "public_monitoring" in yes:
        reasons.append("Article 35(3)(c): large-scale systematic monitoring of a publicly accessible area")
    if {"evaluation_scoring", "large_scale"} <= yes:
        reasons.append("ICO list, large-scale profiling")
    reasons += [text for key, text in _ALWAYS.items() if key in yes]
    for key, name in _WITH_ANOTHER.items():
        others = [c for c in met if c != key]
        if key in yes and others:
            reasons.append(f"ICO list, {name} combined with another EDPB criterion ({others[0].replace('_', ' ')})")
    if len(met) >= 2:
        names = ", ".join(m.replace("_", " ") for m in met)
        reasons.append(f"EDPB guidelines (WP248): {len(met)} of 9 criteria met ({names}); "
                       "two or more usually means a DPIA")

    required = bool(reasons)
    if not required:
        if met:
            reasons.append(f"Only one EDPB criterion met ({met[0].replace('_', ' ')}): a DPIA is not required, "
                           "but the ICO recommends one as good practice")
        else:
            reasons.append("No screening criterion met: a DPIA is not required; keep this screening as the record "
                           "of the decision and screen again if the processing changes")
    unanswered = len(QUESTIONS) - len(answers)
    if unanswered:
        reasons.append(f"{unanswered} question(s) not answered were treated as no")
    return ScreeningResult(required, reasons, met)


def summary(answers: dict[str, bool]) -> str:
    """One line for a form: "Full DPIA required — because …"."""
    result = dpia_screening(answers)
    verdict = "Full DPIA required" if result.required else "Full DPIA not required"
    return f"{verdict}: " + "; ".join(result.reasons) + "."
