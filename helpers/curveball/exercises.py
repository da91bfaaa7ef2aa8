"""The hands-on part of each curveball card, against the live endpoint: one function per card.

An exercise is a generator registered for its card id with :func:`exercise`. It yields what the
learner should see, in order (a :class:`Figure` with alt text, a :class:`Table`, a :class:`Text`), and
returns a :class:`Finding`: one sentence for the curveball notes and the numbers it measured.
:meth:`Exercise.run` shows each output as soon as it is ready (a long redeploy never hides a finished
table) and hands back the whole :class:`ExerciseResult`, which :func:`record` saves in the worksheets.
Notebook 05 only deals a card, runs ``exercise_for(card).run(settings, ctx)`` and records the result.

Adding a card: its data in :mod:`helpers.curveball.cards`, one generator here decorated with
``@exercise("<card id>", intro=...)``, and its test.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import assessment, classify, endpoint, notebook, state, triage
from ..core.config import DEFAULT_SERVERLESS_CONCURRENCY, SKIN_PROXIES_DIR
from ..core.errors import BadInputError
from ..images import list_images, load_image
from .cards import Card, card_ids, get_card

# --- what an exercise shows and finds -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The notebook parameters an exercise may use (notebook 05's ``parameters`` cell)."""

    threshold: float  # the MVP's threshold from notebook 04
    requests_per_day: float  # budget card: expected traffic
    clinic_hours: float  # budget card: hours a day the service must be up
    clinic_days: float  # budget card: days a week
    seed: int  # anything random (synthetic users) is reproducible from it


@dataclass(frozen=True)
class Figure:
    """A chart: saved to the work folder with its alt text, shown, and the alt text printed."""

    name: str
    figure: Any  # a matplotlib Figure
    alt: str


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame


@dataclass(frozen=True)
class Text:
    text: str


Output = Figure | Table | Text


@dataclass(frozen=True)
class Finding:
    """What an exercise returns: ``summary`` is the sentence for the curveball notes ("how we adapted"),
    ``measured`` the numbers behind it."""

    summary: str
    measured: dict = field(default_factory=dict)


def show_output(ctx: notebook.Context, output: Output) -> None:
    """Show one output; a figure is saved (PNG + alt text) in the work folder first."""
    from IPython.display import display

    if isinstance(output, Figure):
        notebook.show_figure(ctx, output.figure, output.name, output.alt)
    elif isinstance(output, Table):
        display(output.frame)
    else:
        print(output.text)


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise, run: its finding (``summary``, ``measured``) and everything it showed, in order."""

    summary: str
    outputs: tuple[Output, ...] = ()
    measured: dict = field(default_factory=dict)

    def show(self, ctx: notebook.Context) -> None:
        """Show every output again, in order."""
        for output in self.outputs:
            show_output(ctx, output)

    def tables(self) -> list[pd.DataFrame]:
        return [o.frame for o in self.outputs if isinstance(o, Table)]

    def texts(self) -> list[str]:
        return [o.text for o in self.outputs if isinstance(o, Text)]

    def figures(self) -> list[Figure]:
        return [o for o in self.outputs if isinstance(o, Figure)]


Steps = Generator[Output, None, Finding]
ExerciseFunction = Callable[[Settings], Steps]


def _collect(steps: Steps, ctx: notebook.Context | None) -> ExerciseResult:
    outputs: list[Output] = []
    while True:
        try:
            output = next(steps)
        except StopIteration as done:
            finding = done.value
            break
        outputs.append(output)
        if ctx is not None:
            show_output(ctx, output)
    if not isinstance(finding, Finding):
        raise TypeError(f"An exercise must return a Finding, not {type(finding).__name__}.")
    return ExerciseResult(finding.summary, tuple(outputs), dict(finding.measured))


@dataclass(frozen=True)
class Exercise:
    """One card's exercise: the Markdown that introduces it and the generator that runs it."""

    card_id: str
    intro: str
    function: ExerciseFunction

    def run(self, settings: Settings, ctx: notebook.Context | None = None) -> ExerciseResult:
        """Run the exercise (calls go to the endpoint the state file remembers), showing each output in
        ``ctx``'s notebook as it is ready (nothing is shown without a ``ctx``), and return the result."""
        return _collect(self.function(settings), ctx)

    def _repr_markdown_(self) -> str:
        return self.intro


_EXERCISES: dict[str, Exercise] = {}


def exercise(card_id: str, intro: str) -> Callable[[ExerciseFunction], ExerciseFunction]:
    """Register the decorated function as the exercise of card ``card_id`` (exactly as the card spells it)."""
    if card_id not in card_ids():
        raise LookupError(f"No curveball card {card_id!r}: add it to helpers/curveball/cards.py first.")

    def register(function: ExerciseFunction) -> ExerciseFunction:
        if not inspect.isgeneratorfunction(function):
            raise TypeError(f"The exercise for {card_id!r} must yield what to show and return a Finding.")
        if card_id in _EXERCISES:
            raise LookupError(f"Card {card_id!r} already has an exercise ({_EXERCISES[card_id].function.__name__}).")
        _EXERCISES[card_id] = Exercise(card_id, intro.strip(), function)
        return function

    return register


def registered() -> tuple[str, ...]:
    """The card ids that have an exercise, in the order they were registered."""
    return tuple(_EXERCISES)


def exercise_for(card: Card | str) -> Exercise:
    """The exercise of ``card`` (a card or its id)."""
    card_id = card.id if isinstance(card, Card) else get_card(card).id
    if card_id not in _EXERCISES:
        raise BadInputError(f"Card {card_id!r} has no hands-on exercise yet. Ask your coach for another card.")
    return _EXERCISES[card_id]


# --- recording what the card changed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """The card's entry in the curveball notes, and what it changed in the risk register."""

    notes: dict
    since: int  # register version before the card was recorded
    version: int  # ... and after
    register_changes: pd.DataFrame

    def headline(self) -> str:
        where = f"What this card changed in the risk register (version {self.since} -> {self.version})"
        return f"{where}:" if len(self.register_changes) else f"{where}: no changes."

    def show(self) -> None:
        """The headline, then the changed rows (nothing more when the register did not change)."""
        print(self.headline())
        if len(self.register_changes):
            from IPython.display import display

            display(self.register_changes)


def record(card: Card, result: ExerciseResult, work_dir=None) -> Recorded:
    """Save the card in the curveball notes (what changed: its headline; how we adapted: the exercise's
    summary); its suggested risks go into the risk register and its MoSCoW changes onto the board.
    Re-running never overwrites what the learner typed (see :meth:`CurveballNotes.record`)."""
    from ..worksheets import CurveballNotes, RiskRegister

    register = RiskRegister(work_dir)
    since = register.version
    notes = CurveballNotes(work_dir).record(
        card.id, what_changed=card.headline, how_adapted=result.summary, who_led="",
        new_risks=card.risks, moscow_changes=card.moscow_changes)
    register.reload()
    return Recorded(notes, since, register.version, register.diff(since=since))


# --- building blocks the exercises share --------------------------------------------------------------


def example_image(kind: str = "irregular"):
    """A shipped skin proxy to demonstrate on (the first whose name contains ``kind``)."""
    images = list_images(SKIN_PROXIES_DIR)
    return next((p for p in images if kind in p.name), images[0])


def endpoint_scores(image) -> list[dict]:
    """The score function an explanation needs: image in, every class's score out, through the endpoint (thread-safe)."""
    result = classify.classify(image, top_k=len(triage.LABELS))
    return [{"label": p.label, "score": p.score} for p in result.predictions]


# --- budget cut ----------------------------------------------------------------------------------------


def cost_comparison(requests_per_day: float, hours_per_day: float, days_per_week: float) -> Steps:
    """Cost of every option for this traffic, and the cost-vs-traffic plot with break-even points."""
    from . import cost

    prices = cost.load_prices()
    traffic = cost.Traffic(requests_per_day, hours_per_day=hours_per_day, days_per_week=days_per_week)
    table = cost.compare_options(traffic, prices)
    fig = cost.plot_cost_vs_traffic(prices, traffic)
    by_option = dict(zip(table["option"], table["monthly_usd"]))
    alt = (f"Line chart of monthly cost against requests per day for {', '.join(by_option)}; at {requests_per_day:,.0f} "
           "requests a day: " + ", ".join(f"{o} ${v:,.2f}" for o, v in by_option.items()) + f". {prices.caption()}")
    cheapest = min(by_option, key=by_option.get)
    summary = (f"At {requests_per_day:,.0f} requests/day, real-time ml.m5.large costs ~${by_option.get('realtime', float('nan')):,.2f}/month; "
               f"{cheapest} is cheapest at ~${by_option[cheapest]:,.2f}/month (list prices for {prices.region} as of {prices.as_of}).")
    yield Figure("05_budget_cost_vs_traffic", fig, alt)
    yield Table(table)
    yield Text(summary)
    return Finding(summary, {"monthly_usd": by_option, "cheapest": cheapest})


def redeploy_serverless(memory_mb: int | None = None, max_concurrency: int = DEFAULT_SERVERLESS_CONCURRENCY, progress: bool = True) -> endpoint.EndpointInfo:
    """Replace the live endpoint with a serverless one serving the same model (memory: what the model needs,
    from the registry, unless given); the state file follows."""
    current = endpoint.describe(state.current_endpoint())
    if current.serverless:
        return current
    model_id = current.model_id or state.load_state().get("model_id")
    serverless = endpoint.ServerlessSpec(memory_mb, max_concurrency) if memory_mb else endpoint.ServerlessSpec.for_model(model_id, max_concurrency)
    endpoint.delete_endpoint(current.name)
    info = endpoint.deploy(model_id, name=f"{current.name[:58]}-sls", serverless=serverless, progress=progress)
    state.remember_endpoint(info.name, model_id, serverless=True)
    return info


def measure_latency(image, calls: int = 5) -> pd.DataFrame:
    """Latency of ``calls`` consecutive invocations, as the client times them; ``idle_s`` (first row) is how
    long the endpoint had been idle before the first one (since it last changed or this kernel called it)."""
    endpoint_name = state.current_endpoint()
    idle = classify.idle_seconds(endpoint_name)
    rows = []
    for i in range(calls):
        result = classify.classify(image, endpoint_name, top_k=1)
        rows.append({"call": i + 1, "latency_ms": round(result.latency_ms, 1), "idle_s": round(idle, 1) if i == 0 and idle is not None else None})
    return pd.DataFrame(rows)


def describe_latency(endpoint_name: str, latency: pd.DataFrame) -> str:
    """One sentence: the first call against the median of the rest, and whether that looks like a cold start."""
    idle = latency.idle_s.iloc[0] if "idle_s" in latency else None
    verdict = classify.judge_cold_start(latency.latency_ms, None if pd.isna(idle) else float(idle))
    return verdict.sentence(endpoint_name)


@exercise("budget-cut", intro="""
## Card: budget cut — *your cloud compute budget has been halved*
A real-time endpoint bills every hour it is up. What would each option cost **for your traffic**? Prices
come from a dated table (`helpers/data/sagemaker_prices.csv`) — list prices, not live; check them before
quoting. Then redeploy as serverless and measure what you trade: the cold start.
""")
def budget_cut(settings: Settings) -> Steps:
    costs = yield from cost_comparison(settings.requests_per_day, settings.clinic_hours, settings.clinic_days)
    serverless = redeploy_serverless()
    latency = measure_latency(example_image(), calls=5)
    yield Table(latency)
    yield Text(describe_latency(serverless.name, latency))
    return Finding(costs.summary, {**costs.measured, "serverless_endpoint": serverless.name,
                                   "latency_ms": latency.latency_ms.tolist()})


# --- data bias -----------------------------------------------------------------------------------------


@exercise("data-bias", intro="""
## Card: data bias — *your dataset under-represents darker skin tones*
Audit the MVP on the skin proxies grouped by Fitzpatrick type: confidence, outcome and **referral rate**
per group at your threshold, and the gap between groups. With four images per group the intervals are
wide — say so in your notes, and ask what data you would need.
""")
def fairness_audit(settings: Settings) -> Steps:
    """Confidence and triage outcome per Fitzpatrick type on the skin proxies, at the learner's threshold."""
    from . import fairness

    threshold = settings.threshold
    batch = classify.classify_many([SKIN_PROXIES_DIR], progress=False)
    if batch.failures:
        print(batch.report_failures())  # an audit of fewer images must say which ones are missing
    table = batch.table()
    table = table.assign(triage=[triage.outcome_for(lab, s, threshold) for lab, s in zip(table.top_label, table.top_score)])
    groups = fairness.fairness_by_group(table)
    fig = fairness.plot_fairness(groups)
    rates = dict(zip(groups.index.astype(str), groups["referral_rate"]))
    alt = ("Bar chart of referral rate by Fitzpatrick type at threshold "
           f"{threshold:.0%}: " + ", ".join(f"type {g} {r:.0%}" for g, r in rates.items()) + ".")
    gap = fairness.referral_gap(groups)
    summary = (f"Referral rate ranges over {gap:.0%} between Fitzpatrick groups at threshold {threshold:.0%} "
               f"(confidence gap {fairness.confidence_gap(groups):.0%}); n per group is small, so the intervals are wide.")
    yield Figure("05_fairness_by_fitzpatrick", fig, alt)
    yield Table(groups.round(2))
    yield Text(summary)
    return Finding(summary, {"referral_gap": gap, "referral_rate": rates})


# --- regulatory scrutiny -------------------------------------------------------------------------------


@exercise("regulatory-scrutiny", intro="""
## Card: regulatory scrutiny — *a black box is no longer acceptable*
Explain one prediction using nothing but the endpoint: slide a patch over the image, re-invoke, and map
how much the top class's score drops. The patch takes the median skin colour: a mid-grey patch is darker
than light skin and would itself look like a lesion (a classic occlusion pitfall). Note the cost
(invocations) and what the map does **not** explain.
""")
def explain_with_occlusion(settings: Settings) -> Steps:
    from . import explain

    image_path = example_image("irregular")
    image = load_image(image_path)
    # A few patch positions at once, never more than the endpoint takes (a serverless one throttles the rest).
    in_flight = min(explain.DEFAULT_CONCURRENCY, classify.default_concurrency(state.current_endpoint()))
    result = explain.occlusion_map(image, endpoint_scores, concurrency=in_flight)  # the patch takes the image's median colour
    fig = explain.plot_occlusion(result, image)
    box = result.most_sensitive_box()
    alt = (f"Heat map over {image_path.name}: the drop in the score of {result.target_label} when a skin-coloured patch covers each "
           f"region; largest drop {result.drops.max():.0%} around pixels {box}. {result.invocations} invocations.")
    summary = (f"Occlusion map for {image_path.name}: {result.invocations} endpoint invocations; covering the area {box} lowers "
               f"{result.target_label} by up to {result.drops.max():.0%} (baseline {result.baseline_score:.0%}).")
    yield Figure("05_occlusion_map", fig, alt)
    yield Text(summary)
    yield Text(explain.WHAT_IT_EXPLAINS)
    return Finding(summary, {"invocations": result.invocations, "max_drop": float(result.drops.max()),
                             "fill": result.fill})


# --- accessibility -------------------------------------------------------------------------------------


def accessible_result(image_path, threshold: float) -> str:
    """The MVP's answer as plain text for a screen reader (nothing is logged: this is a rendering check)."""
    return assessment.assess(image_path, threshold=threshold, log=False).plain_text()


@exercise("accessibility", intro="""
## Card: accessibility — *NHS digital tools must meet accessibility standards*
Make Derm-Assist's output usable with a screen reader and without colour vision: plain-text results,
alt text for every chart (the pack prints one under each), a colour-blind-safe palette for all plots, and a
WCAG AA contrast check of the colours the pack uses.
""")
def accessibility_check(settings: Settings) -> Steps:
    from .. import accessibility

    accessibility.set_palette("okabe-ito")
    yield Text(accessible_result(example_image(), settings.threshold))
    contrast = accessibility.check_contrast()
    yield Table(contrast)
    failing = int((~contrast.aa_normal).sum())
    summary = (f"Colour-blind-safe palette on; {failing} of {len(contrast)} colour pairs "
               "fail WCAG AA for normal text, so they are kept to large text and graphics.")
    yield Text(summary)
    return Finding(summary, {"palette": accessibility.get_palette().name, "failing_pairs": failing,
                             "pairs": len(contrast)})


# --- GDPR marketing request ----------------------------------------------------------------------------

MARKETING_REQUEST_ANSWERS = {
    "evaluation_scoring": True,  # profiling users by region and skin tone
    "sensitive_data": True,  # skin tone can reveal racial or ethnic origin; the app holds health data
    "large_scale": True,
    "matching_datasets": True,  # app usage joined with location
    "vulnerable_subjects": True,  # patients
    "innovative_technology": True,
    "automated_decision": False,
    "systematic_monitoring": False,
    "prevents_rights": False,
}


def minimisation(users: pd.DataFrame, k: int = 5) -> Steps:
    """k-anonymity of the raw marketing extract vs a generalised, aggregated one."""
    from . import privacy

    raw_qis = ["postcode_district", "age_band", "skin_tone"]
    coarse = privacy.generalise(users)
    coarse_qis = [c for c in ("region", "age_band") if c in coarse.columns]
    raw_k, coarse_k = privacy.k_anonymity(users, raw_qis), privacy.k_anonymity(coarse, coarse_qis)
    table = privacy.aggregate(coarse, coarse_qis, min_count=k)
    summary = (f"Raw extract (postcode district × 5-year age band × skin tone) is only {raw_k}-anonymous; "
               f"region × wide age band without skin tone is {coarse_k}-anonymous, and cells under {k} are suppressed.")
    yield Text(summary)
    yield Table(table.head(12))
    return Finding(summary, {"raw_k": raw_k, "generalised_k": coarse_k})


@exercise("gdpr-marketing", intro="""
## Card: GDPR marketing request — the in-depth brief
> *As VP Marketing, I want to profile our users by region, age and skin tone, so that we can target
> campaigns.*

Run the DPIA screening on this request, then try the data-minimisation exercise on a **synthetic** user
table: how identifiable is the extract marketing asked for, and what would a defensible one look like?
Decide the lawful basis (Article 6 — consent?), the Article 9 condition for skin tone (which can reveal
ethnic origin), the data-subject rights you must honour (objection to direct marketing is absolute), your
acceptance criteria, and a story-point re-estimate.
""")
def gdpr_marketing(settings: Settings) -> Steps:
    from ..worksheets import dpia_screening
    from . import privacy

    screening = dpia_screening(MARKETING_REQUEST_ANSWERS)
    yield Text(f"Full DPIA required: {screening.required}\n" + "\n".join(f"- {reason}" for reason in screening.reasons))
    found = yield from minimisation(privacy.synthetic_users(n=200, seed=settings.seed))
    return Finding(found.summary, {**found.measured, "dpia_required": screening.required})
