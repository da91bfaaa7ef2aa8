"""The five curveball cards, as data, and a reproducible way to deal them.

A card is a changed constraint: its scenario, hints, exercise steps, the risk-register entries and
MoSCoW changes it suggests, and questions for the reflection. This module owns the card ids and
their one spelling (``budget-cut``): the runner, the curveball notes and the exercises read them here. ``deal("random", seed=7)`` always
gives the same card; ``deal(seed=7, group=i)`` gives each group ``i`` a different card while there
are cards left, so a coach can reproduce a whole session's deal from one seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..core.errors import BadInputError

RISK_CATEGORIES = ("Data", "Budget", "User", "Ethical/Compliance")
SCALE = range(1, 6)  # likelihood and impact, 1 (rare / negligible) to 5 (almost certain / catastrophic)
PRIORITIES = ("Must", "Should", "Could", "Won't")


@dataclass(frozen=True)
class Card:
    """One curveball.

    ``risks`` are dicts for the risk register (description, category, likelihood 1-5, impact 1-5,
    mitigation); ``moscow_changes`` are dicts ``{"text", "from", "to", "rationale"}`` with ``to`` one
    of Must/Should/Could/Won't. Both can be passed to the curveball notes as they are.
    """

    id: str
    title: str
    headline: str
    scenario: str
    hints: tuple[str, ...]
    exercise: tuple[str, ...]
    risks: tuple[dict, ...]
    moscow_changes: tuple[dict, ...]
    reflection: tuple[str, ...]
    tools: tuple[str, ...]

    def to_markdown(self) -> str:
        """The card as Markdown, for display in a notebook or printing."""
        lines = [f"## Curveball: {self.title}", "", f"> **{self.headline}**", "", self.scenario, "", "### Hints"]
        lines += [f"- {hint}" for hint in self.hints]
        lines += ["", "### Exercise"] + [f"{i}. {step}" for i, step in enumerate(self.exercise, 1)]
        lines += ["", "### Suggested risk-register entries", "",
                  "| Risk | Category | Likelihood (1-5) | Impact (1-5) | Mitigation |",
                  "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r['description']} | {r['category']} | {r['likelihood']} | {r['impact']} | {r['mitigation']} |"
                  for r in self.risks]
        lines += ["", "### Suggested MoSCoW changes", ""]
        lines += [f"- {m['text']}: {m['from']} → {m['to']} ({m['rationale']})" for m in self.moscow_changes]
        lines += ["", "### Reflection"] + [f"- {q}" for q in self.reflection]
        return "\n".join(lines)


def _risk(description, category, likelihood, impact, mitigation) -> dict:
    return {"description": description, "category": category, "likelihood": likelihood,
            "impact": impact, "mitigation": mitigation}


def _moscow(text, before, after, rationale) -> dict:
    return {"text": text, "from": before, "to": after, "rationale": rationale}


_CARDS = (
    Card(
        id="budget-cut",
        title="Budget cut",
        headline="Your cloud compute budget has been halved.",
        scenario=(
            "Finance has reviewed the pilot. From next month the Derm-Assist cloud budget is half of what the "
            "always-on ml.m5.large endpoint costs today. GP practices still expect a result while they see "
            "patients (roughly 08:00-18:30, Monday to Friday), and the clinical safety officer will not accept "
            "a tool that silently stops answering."
        ),
        hints=(
            "A real-time endpoint bills every hour it exists, busy or idle. At a few hundred images a day it "
            "is idle almost all the time.",
            "Serverless inference bills per millisecond of inference (priced by memory size) plus data "
            "processed, and scales to zero, but the first request after an idle spell waits for a cold start.",
            "Batch transform is cheapest per image but answers hours later: test it against the user story "
            "'upload an image, get a result'.",
            "Switching a real-time endpoint off outside clinic hours cuts billed hours by about 70%, but "
            "something has to switch it on and off every day, and a forgotten endpoint keeps billing.",
            "Prices come from a dated table (helpers/data/sagemaker_prices.csv): list prices, not live. "
            "Check the date and the region before you quote a number.",
            "Serverless endpoints accept payloads up to 4 MB (real-time: 6 MB) and time out after 60 seconds; "
            "the pack's payloads (resized for the model, a few hundred kB at most) are far below both.",
        ),
        exercise=(
            "Describe your expected traffic: Traffic(requests_per_day=..., hours_per_day=..., days_per_week=...). "
            "How many practices, and how many images each per day?",
            "Run compare_options(traffic, load_prices()). Which options fit within half of today's monthly "
            "cost, and which still meet the user story?",
            "Draw plot_cost_vs_traffic(prices, traffic) and read the break-even point: at how many requests a "
            "day would real-time become cheaper than serverless?",
            "Redeploy the current model as a serverless endpoint (3072 MB of memory for the skin ViT, max "
            "concurrency 2).",
            "Measure latency: time the first request after deployment or after a long idle spell (a cold "
            "start), then ten warm requests. Record the median and the worst.",
            "Delete the endpoint you no longer need and check the endpoint list shows what you expect.",
            "Write your recommendation in the curveball notes and add the risks to the risk register.",
        ),
        risks=(
            _risk("Serverless cold starts delay the first result of a session by tens of seconds; GPs retry "
                  "or give up", "User", 4, 3,
                  "Warm-up request when the clinic opens; a 'starting up' message; a measured latency target"),
            _risk("Monthly spend exceeds the halved budget as traffic grows past the break-even point",
                  "Budget", 3, 4,
                  "Budget alert at 80%; compare monthly traffic with the break-even; show cost per request"),
            _risk("An endpoint left running (missed clinic-hours shutdown, forgotten test endpoint) keeps "
                  "billing", "Budget", 3, 3,
                  "Tag every endpoint; scheduled cleanup by tag; a daily check of running endpoints"),
            _risk("The clinical safety case is not updated after the deployment change, so new failure modes "
                  "(cold starts, timeouts, off hours) are not assessed", "Ethical/Compliance", 3, 4,
                  "Update the hazard log and re-run acceptance tests after every deployment change"),
        ),
        moscow_changes=(
            _moscow("Results available 24/7", "Should", "Won't",
                    "clinic-hours or serverless operation is what the budget allows"),
            _moscow("Monthly spend and cost per request visible to the product owner", "(new)", "Must",
                    "the budget is now a hard constraint"),
            _moscow("Result within 5 seconds", "Must", "Should",
                    "a cold start may make the first result of a session slower"),
        ),
        reflection=(
            "Which option did you choose, and what did you give up for the saving?",
            "How would your answer change if the pilot grew to 200 practices?",
            "Who notices, and how quickly, if the service is down when a GP needs it?",
            "Are list prices the whole cost? What else bills: storage, logs, data transfer, people's time?",
        ),
        tools=("helpers.curveball.cost.Traffic", "helpers.curveball.cost.load_prices",
               "helpers.curveball.cost.compare_options", "helpers.curveball.cost.break_even",
               "helpers.curveball.cost.plot_cost_vs_traffic"),
    ),
    Card(
        id="data-bias",
        title="Data bias identified",
        headline="Your dataset under-represents darker skin tones.",
        scenario=(
            "An external reviewer points out that the skin-cancer model was trained on HAM10000: dermatoscopic "
            "images collected mostly from patients with light skin (Fitzpatrick I-III). The pilot practices "
            "serve a diverse population. Before the pilot continues, the clinical lead wants evidence of how "
            "Derm-Assist behaves across skin tones, and a plan if it behaves differently."
        ),
        hints=(
            "The skin proxies are synthetic and carry their Fitzpatrick type in the file name; "
            "helpers.images.fitzpatrick_type(path) reads it.",
            "The same lesion shapes appear on every tone, so differences between tones come from the model, "
            "not from the lesion mix.",
            "Referral rate = share of images not triaged 'Benign'. Too high for one group means unnecessary "
            "referrals and anxiety; too low can mean missed cancers.",
            "Look at confidence too: a model that is consistently less sure on darker skin is telling you it "
            "has seen few such images.",
            "With a handful of images per group, gaps are noisy: read the confidence interval before drawing "
            "conclusions. Synthetic proxies demonstrate the method, not real-world performance.",
            "Your threshold from notebook 04 changes every group's referral rate, but not necessarily by the "
            "same amount.",
        ),
        exercise=(
            "Classify every skin proxy with the skin model and triage each at your threshold.",
            "Make a table with columns fitzpatrick, top_score and triage, and run fairness_by_group(df).",
            "Read referral_gap(table) and confidence_gap(table), and draw plot_fairness(table).",
            "Move your threshold by 0.1 either way and run it again: does the gap grow or shrink?",
            "Write the new user story, e.g. 'As a GP serving a diverse population, I need evidence that "
            "Derm-Assist performs comparably across skin tones, so that patients with darker skin are not "
            "disadvantaged.'",
            "Say what data you would need to close the gap and how you would obtain it lawfully, then write "
            "your findings in the curveball notes and add the DPIA and risk-register entries.",
        ),
        risks=(
            _risk("The model under-performs on Fitzpatrick V-VI because they are under-represented in its "
                  "training data, leading to missed or delayed referrals", "Data", 4, 5,
                  "Audit by skin type before every release; source diverse, consented images; publish "
                  "per-group performance; mandatory clinician review for groups outside the validated range"),
            _risk("Unequal referral rates breach equality duties (Equality Act 2010, NHS health-inequalities "
                  "duties)", "Ethical/Compliance", 3, 4,
                  "Equality impact assessment; a fairness acceptance criterion with a maximum gap; clinical "
                  "safety officer sign-off"),
            _risk("GPs over-trust a confident answer on a skin type the model rarely saw", "User", 3, 4,
                  "Warn when the image is outside the validated population; GP training; keep 'decision "
                  "support, not diagnosis' visible"),
            _risk("Recording skin tone to measure fairness is itself special-category data processing",
                  "Ethical/Compliance", 3, 3,
                  "DPIA; an Article 9 condition; keep audit data separate from identity; short retention"),
        ),
        moscow_changes=(
            _moscow("Per-skin-type performance report before release", "(new)", "Must",
                    "the bias is now known and must be measured"),
            _moscow("Warning when confidence is low or the skin type is outside the validated range", "Could",
                    "Must", "protects the groups the model serves worst"),
            _moscow("Support for more lesion types", "Should", "Won't",
                    "effort goes to the data gap first"),
        ),
        reflection=(
            "Is an equal referral rate the right target, or equal sensitivity (missed cancers) per group? "
            "What would you need to measure that?",
            "What does an audit on synthetic proxies prove, and what can it not prove?",
            "Who should be in the room when the acceptable gap is decided?",
        ),
        tools=("helpers.curveball.fairness.fairness_by_group", "helpers.curveball.fairness.referral_gap",
               "helpers.curveball.fairness.confidence_gap", "helpers.curveball.fairness.plot_fairness"),
    ),
    Card(
        id="regulatory-scrutiny",
        title="Regulatory scrutiny",
        headline="A right to explanation: a black box is no longer acceptable.",
        scenario=(
            "The practice's Caldicott Guardian and the clinical safety officer ask: when Derm-Assist flags a "
            "lesion, what in the image drove that answer? People have a right to meaningful information about "
            "the logic of automated processing (UK GDPR Articles 13-15 and 22), and the EU AI Act requires "
            "high-risk systems to be transparent enough for their users to interpret the output. You cannot "
            "open the model: you can only call the endpoint."
        ),
        hints=(
            "Model-agnostic: occlusion needs nothing but the endpoint. Cover part of the image with a patch "
            "of its median skin colour, call the endpoint again, and see how far the top class's score drops.",
            "Every patch position is one invocation, plus one for the original image. "
            "estimate_invocations(...) tells you the bill before you run it.",
            "A bigger stride or patch costs fewer calls but gives a coarser map.",
            "A reassuring map highlights the lesion; one that highlights a ruler, a hair or the background "
            "is a warning about the model.",
            "Read WHAT_IT_EXPLAINS: the map shows where the score is sensitive, not why, and it is not a "
            "clinical reason.",
            "A long loop of calls can be throttled; keep max_invocations modest.",
        ),
        exercise=(
            "Pick one proxy triaged 'Potentially Concerning' and one triaged 'Benign'.",
            "Estimate the cost with estimate_invocations(image.size, patch, stride), then run "
            "occlusion_map(image, score_fn) with a score_fn that calls your endpoint.",
            "Draw plot_occlusion(result, image): does the hot region sit on the lesion?",
            "Repeat with a smaller patch; compare the invocation count and the map.",
            "Write, in plain English for a patient, what the map does and does not tell them.",
            "Write your findings in the curveball notes, add the risks to the risk register and describe the "
            "explanation in the DPIA's transparency section.",
        ),
        risks=(
            _risk("Explanation maps are over-read as clinical reasons ('the model saw melanoma here')", "User",
                  3, 4,
                  "Plain-language caveat beside every map; GP training; maps reviewed by the clinical safety "
                  "officer"),
            _risk("No explanation is available when a patient asks about an individual result (UK GDPR "
                  "Articles 15 and 22)", "Ethical/Compliance", 3, 4,
                  "Store image reference, model version, score and map with each result; a subject-access "
                  "process; a clinician reviews every flagged result"),
            _risk("Occlusion multiplies endpoint invocations and cost", "Budget", 3, 2,
                  "Compute maps on demand for flagged results only; cap invocations; coarse stride"),
            _risk("Maps reveal the model relies on artefacts (rulers, ink marks, hair) rather than the lesion",
                  "Data", 3, 4,
                  "Review maps on a sample before release; clean or augment the training data"),
        ),
        moscow_changes=(
            _moscow("An explanation for each flagged result", "(new)", "Must", "transparency is now required"),
            _moscow("Model version and explanation stored with every result", "Should", "Must",
                    "needed to answer an individual's request later"),
            _moscow("Result within 2 seconds", "Should", "Could", "explanations cost invocations and time"),
        ),
        reflection=(
            "Would this map satisfy a patient, a GP and a regulator? What would each still ask?",
            "What would a misleading explanation look like, and how would you notice?",
            "Is a clinician reviewing every flagged result enough to meet Article 22, or do you need more?",
        ),
        tools=("helpers.curveball.explain.estimate_invocations", "helpers.curveball.explain.occlusion_map",
               "helpers.curveball.explain.plot_occlusion", "helpers.curveball.explain.WHAT_IT_EXPLAINS"),
    ),
    Card(
        id="accessibility",
        title="Accessibility requirement",
        headline="NHS digital tools must meet accessibility standards.",
        scenario=(
            "Procurement asks for an accessibility statement. Public-sector digital services must meet "
            "WCAG 2.2 level AA (Public Sector Bodies Accessibility Regulations 2018; NHS service standard). "
            "Some practice staff use screen readers or magnification, and about 1 in 12 men and 1 in 200 "
            "women have a colour-vision deficiency. Your MVP shows a coloured result and charts without a "
            "text alternative."
        ),
        hints=(
            "Never carry meaning by colour alone: the outcome must be in words, and every chart needs alt text.",
            "plain_text_result(...) gives a result a screen reader reads in order: outcome, confidence in "
            "words and percent, top classes, then the disclaimer.",
            "describe_predictions(predictions, title) writes alt text for a prediction chart.",
            "set_palette('okabe-ito') switches every chart in the pack to a colour-blind-safe palette.",
            "check_contrast() tests text/background pairs against WCAG AA: 4.5:1 for normal text, 3:1 for "
            "large text and chart marks.",
            "'71%' reads better than '0.7134', and 'melanocytic nevi' better than 'melanocytic_Nevi'.",
        ),
        exercise=(
            "Run check_contrast(). List the pairs that fail AA for normal text and choose a fix (a darker "
            "colour, fill-only use, or best_text_colour for labels on coloured bars).",
            "Switch with set_palette('okabe-ito') and redraw a chart from notebook 04; compare.",
            "Print plain_text_result(...) for one of your MVP results and read it aloud (or with a screen "
            "reader). Is anything ambiguous?",
            "Write alt text for every chart in notebook 04 with describe_predictions(...) and check it "
            "against the chart.",
            "Draft two acceptance criteria for the accessibility statement.",
            "Add your decisions to the curveball notes and the risk register.",
        ),
        risks=(
            _risk("Screen-reader users cannot get the result (chart-only or colour-only output)", "User", 4,
                  4, "Plain-text result first; alt text for every chart; test with NVDA and VoiceOver"),
            _risk("Users with a colour-vision deficiency confuse 'Benign' and 'Potentially Concerning'", "User",
                  3, 4, "Okabe-Ito palette; words next to every colour; contrast check in tests"),
            _risk("The service fails the accessibility regulations and procurement blocks the roll-out",
                  "Ethical/Compliance", 3, 4,
                  "WCAG 2.2 AA audit; accessibility statement; a dated fix list"),
            _risk("Accessibility work delays the pilot or adds cost", "Budget", 2, 3,
                  "Build it in now, which is cheaper than retrofitting; reuse the pack's helpers"),
        ),
        moscow_changes=(
            _moscow("Result readable as plain text by a screen reader", "(new)", "Must", "legal requirement"),
            _moscow("Colour-blind-safe palette and AA contrast", "Could", "Must", "legal requirement"),
            _moscow("Colour as the only way to show the outcome", "(implicit)", "Won't",
                    "every result is in words as well"),
        ),
        reflection=(
            "Who did you picture as the user of Derm-Assist before this card? Who did you leave out?",
            "Which of your fixes helps everyone, not only disabled users?",
            "How would you test accessibility with real users?",
        ),
        tools=("helpers.accessibility.check_contrast", "helpers.accessibility.set_palette",
               "helpers.accessibility.plain_text_result", "helpers.accessibility.describe_predictions"),
    ),
    Card(
        id="gdpr-marketing",
        title="GDPR marketing request",
        headline="The VP Marketing wants to profile users by location, including skin tone.",
        scenario=(
            "The VP Marketing sends a user story: 'As VP Marketing, I want to profile Derm-Assist users "
            "geographically, including their skin tone, so that we can target campaigns for a future sun-care "
            "partner.' The data seems to be there: each result is stored with the practice's postcode, the "
            "patient's age and, since the data-bias review, a Fitzpatrick type."
        ),
        hints=(
            "Skin tone can reveal racial or ethnic origin, and the data concerns health: both are special "
            "category data (UK GDPR Article 9). Consent to care is not consent to marketing.",
            "Purpose limitation (Article 5(1)(b)): data collected for clinical decision support cannot simply "
            "be reused for marketing.",
            "DPIA screening: a new purpose, special category data and profiling mean a full DPIA is required "
            "(Article 35).",
            "Electronic direct marketing is also governed by PECR, and people have an absolute right to "
            "object to direct marketing (Article 21(3)).",
            "Data minimisation: does marketing need individuals at all? Counts by region with small cells "
            "suppressed may answer the real question.",
            "k-anonymity: every combination of quasi-identifiers (e.g. region x age band) should describe at "
            "least k people. A group of one is a person.",
        ),
        exercise=(
            "Run the DPIA screening on the story and record the answer with its reasons.",
            "Pick a lawful basis (Article 6) and an Article 9 condition, or conclude that none applies. List "
            "the data-subject rights that apply (information, access, objection, erasure...).",
            "Load synthetic_users() and compute k_anonymity(users, ['postcode_district', 'age_band', "
            "'skin_tone']); look at violating_groups(...).",
            "Generalise with generalise(users) (region instead of postcode district, 20-year age bands, no "
            "skin tone) and compute k for region x age band again.",
            "Build aggregate(generalised, ['region', 'age_band'], min_count=5): what can marketing still learn?",
            "Rewrite the story with acceptance criteria that respect minimisation and consent, and "
            "re-estimate its story points.",
            "Record your decision in the curveball notes and the risk register.",
        ),
        risks=(
            _risk("Clinical data, including skin tone, is reused for marketing without a lawful basis",
                  "Ethical/Compliance", 4, 4,
                  "Decline the story as written; DPIA; Data Protection Officer sign-off; separate, consented "
                  "marketing data"),
            _risk("People are re-identified from small groups in location x age x skin-tone reports", "Data",
                  3, 4, "Generalise; k-anonymity of at least 5; small-cell suppression"),
            _risk("Patients and GPs lose trust if marketing use of clinical data becomes known", "User",
                  3, 4, "Transparency notice; no marketing use of clinical data; independent review"),
            _risk("Regulatory fines and enforcement action", "Budget", 2, 4,
                  "Compliance review before any new purpose; a record of processing activities"),
        ),
        moscow_changes=(
            _moscow("Geographic profiling including skin tone", "(requested)", "Won't",
                    "no lawful basis; special category data"),
            _moscow("Aggregate usage by region, small cells suppressed, for service planning", "(new)", "Could",
                    "meets a legitimate need with anonymised counts"),
            _moscow("Separate marketing consent with an easy opt-out", "(new)", "Should",
                    "only if any marketing goes ahead"),
        ),
        reflection=(
            "How do you say no to a senior stakeholder and still offer something useful?",
            "Is aggregated, suppressed data truly anonymous? What could still leak?",
            "How did your estimate change once the compliance work was counted?",
        ),
        tools=("helpers.curveball.privacy.synthetic_users", "helpers.curveball.privacy.k_anonymity",
               "helpers.curveball.privacy.violating_groups", "helpers.curveball.privacy.generalise",
               "helpers.curveball.privacy.aggregate"),
    ),
)
_BY_ID = {card.id: card for card in _CARDS}


def card_ids() -> tuple[str, ...]:
    """The card ids, in the order of the issue: budget-cut, data-bias, regulatory-scrutiny, ..."""
    return tuple(_BY_ID)


def list_cards() -> list[Card]:
    """All five cards, in a fixed order."""
    return list(_CARDS)


def _key(card_id) -> str:
    return "-".join(str(card_id).strip().lower().replace("_", " ").split())


def get_card(card_id: str) -> Card:
    """The card with this id (case and ``_``/space/``-`` do not matter)."""
    key = _key(card_id)
    if key not in _BY_ID:
        raise BadInputError(f"Unknown curveball {card_id!r}. Use 'random' or one of: {', '.join(card_ids())}.")
    return _BY_ID[key]


def canonical_id(card_id: str) -> str:
    """A card id in its one spelling (``budget_cut`` or ``Budget cut`` -> ``budget-cut``).

    Text that names no card comes back stripped but otherwise as typed: a team may record a
    curveball of its own.
    """
    key = _key(card_id)
    return key if key in _BY_ID else str(card_id or "").strip()


def deal(card: str = "random", seed: int | None = None, group: int | None = None) -> Card:
    """Deal a card: a named one, or ``"random"``.

    With a ``seed`` the deal is reproducible: the cards are shuffled with that seed and group ``g``
    gets card ``g`` of the shuffle (no group = group 0), so consecutive groups get different cards
    until all five are dealt. Without a seed the deal is not reproducible.
    """
    if str(card).strip().lower() != "random":
        return get_card(card)
    if group is not None and (isinstance(group, bool) or not isinstance(group, int) or group < 0):
        raise BadInputError(f"group must be a whole number 0, 1, 2, ...; got {group!r}.")
    if seed is None:
        return random.SystemRandom().choice(_CARDS)
    order = list(_CARDS)
    random.Random(seed).shuffle(order)
    return order[(group or 0) % len(order)]


def deal_groups(n_groups: int, seed: int) -> list[Card]:
    """One card per group (groups 0 .. n_groups-1), reproducible from ``seed``."""
    if not isinstance(n_groups, int) or n_groups < 1:
        raise BadInputError(f"n_groups must be a whole number of at least 1; got {n_groups!r}.")
    return [deal("random", seed=seed, group=g) for g in range(n_groups)]
