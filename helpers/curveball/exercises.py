"""The hands-on part of each curveball card, against the live endpoint.

Each function does one card's exercise, shows its plots (with alt text) through the notebook context,
and returns a :class:`Finding`: the figures it measured and one sentence for the curveball notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import assessment, classify, endpoint, notebook, state, triage
from ..core.config import SKIN_PROXIES_DIR
from ..images import list_images, load_image


@dataclass
class Finding:
    summary: str
    figures: dict = field(default_factory=dict)
    table: pd.DataFrame | None = None


def example_image(kind: str = "irregular"):
    """A shipped skin proxy to demonstrate on (the first whose name contains ``kind``)."""
    images = list_images(SKIN_PROXIES_DIR)
    return next((p for p in images if kind in p.name), images[0])


# --- 1. budget cut ------------------------------------------------------------------------------------


def budget_cut(ctx, requests_per_day: float, hours_per_day: float, days_per_week: float, region: str = "eu-west-2") -> Finding:
    """Cost of every option for this traffic, and the cost-vs-traffic plot with break-even points."""
    from . import cost

    prices = cost.load_prices(region=region)
    traffic = cost.Traffic(requests_per_day, hours_per_day=hours_per_day, days_per_week=days_per_week)
    table = cost.compare_options(traffic, prices)
    fig = cost.plot_cost_vs_traffic(prices, traffic)
    by_option = dict(zip(table["option"], table["monthly_usd"]))
    alt = (f"Line chart of monthly cost against requests per day for {', '.join(by_option)}; at {requests_per_day:,.0f} "
           "requests a day: " + ", ".join(f"{o} ${v:,.2f}" for o, v in by_option.items()) + f". {prices.caption()}")
    notebook.show_figure(ctx, fig, "05_budget_cost_vs_traffic", alt)
    cheapest = min(by_option, key=by_option.get)
    summary = (f"At {requests_per_day:,.0f} requests/day, real-time ml.m5.large costs ~${by_option.get('realtime', float('nan')):,.2f}/month; "
               f"{cheapest} is cheapest at ~${by_option[cheapest]:,.2f}/month (list prices for {prices.region} as of {prices.as_of}).")
    return Finding(summary, {"monthly_usd": by_option, "cheapest": cheapest}, table)


def redeploy_serverless(memory_mb: int = 3072, max_concurrency: int = 2, progress: bool = True) -> endpoint.EndpointInfo:
    """Replace the live endpoint with a serverless one serving the same model; the state file follows."""
    current = endpoint.describe(state.current_endpoint())
    if current.serverless:
        return current
    model_id = current.model_id or state.load_state().get("model_id")
    endpoint.delete_endpoint(current.name)
    info = endpoint.deploy(model_id, name=f"{current.name[:58]}-sls", serverless=endpoint.ServerlessSpec(memory_mb, max_concurrency), progress=progress)
    state.remember_endpoint(info.name, model_id, serverless=True)
    return info


def measure_latency(image, calls: int = 5) -> pd.DataFrame:
    """Latency of ``calls`` consecutive invocations; the first after a deploy or idle period is a cold start."""
    rows = []
    for i in range(calls):
        result = classify.classify(image, top_k=1)
        rows.append({"call": i + 1, "latency_ms": round(result.latency_ms, 1), "cold_start": result.cold_start})
    return pd.DataFrame(rows)


def describe_latency(endpoint_name: str, latency: pd.DataFrame) -> str:
    """One sentence: the first call (cold or not) against the warm median."""
    first = latency.iloc[0]
    return (f"{endpoint_name}: first call {first.latency_ms:.0f} ms (cold start: {bool(first.cold_start)}), "
            f"then a median of {latency.latency_ms.iloc[1:].median():.0f} ms.")


# --- 2. data bias -------------------------------------------------------------------------------------


def fairness_audit(ctx, threshold: float, table: pd.DataFrame | None = None) -> Finding:
    """Confidence and triage outcome per Fitzpatrick type on the skin proxies, at the learner's threshold."""
    from . import fairness

    if table is None:
        batch = classify.classify_many([SKIN_PROXIES_DIR], progress=False)
        if batch.failures:
            print(batch.report_failures())  # an audit of fewer images must say which ones are missing
        table = batch.table()
    table = table.assign(triage=[triage.outcome_for(l, s, threshold) for l, s in zip(table.top_label, table.top_score)])
    groups = fairness.fairness_by_group(table)
    fig = fairness.plot_fairness(groups)
    rates = dict(zip(groups.index.astype(str), groups["referral_rate"])) if "referral_rate" in groups else {}
    alt = ("Bar chart of referral rate by Fitzpatrick type at threshold "
           f"{threshold:.0%}: " + ", ".join(f"type {g} {r:.0%}" for g, r in rates.items()) + ".")
    notebook.show_figure(ctx, fig, "05_fairness_by_fitzpatrick", alt)
    gap = fairness.referral_gap(groups)
    summary = (f"Referral rate ranges over {gap:.0%} between Fitzpatrick groups at threshold {threshold:.0%} "
               f"(confidence gap {fairness.confidence_gap(groups):.0%}); n per group is small, so the intervals are wide.")
    return Finding(summary, {"referral_gap": gap}, groups)


# --- 3. regulatory scrutiny ---------------------------------------------------------------------------


def endpoint_scores(image) -> list[dict]:
    """The score function an explanation needs: image in, every class's score out, through the endpoint."""
    result = classify.classify(image, top_k=len(triage.LABELS))
    return [{"label": p.label, "score": p.score} for p in result.predictions]


def explain_with_occlusion(ctx, image_path=None, patch: int | None = None, stride: int | None = None) -> Finding:
    from . import explain

    image_path = image_path or example_image("irregular")
    image = load_image(image_path)
    # A mid-grey patch is darker than light skin and would itself look like a lesion to the model;
    # covering with the image's median colour removes information without adding a new dark blob.
    fill = tuple(int(v) for v in np.median(np.asarray(image).reshape(-1, 3), axis=0))
    result = explain.occlusion_map(image, endpoint_scores, patch=patch, stride=stride, fill=fill)
    fig = explain.plot_occlusion(result, image)
    box = result.most_sensitive_box()
    alt = (f"Heat map over {image_path.name}: the drop in the score of {result.target_label} when a skin-coloured patch covers each "
           f"region; largest drop {result.drops.max():.0%} around pixels {box}. {result.invocations} invocations.")
    notebook.show_figure(ctx, fig, "05_occlusion_map", alt)
    summary = (f"Occlusion map for {image_path.name}: {result.invocations} endpoint invocations; covering the area {box} lowers "
               f"{result.target_label} by up to {result.drops.max():.0%} (baseline {result.baseline_score:.0%}).")
    return Finding(summary, {"invocations": result.invocations, "max_drop": float(result.drops.max())})


# --- 4. accessibility ---------------------------------------------------------------------------------


def accessible_result(image_path, threshold: float) -> str:
    """The MVP's answer as plain text for a screen reader (nothing is logged: this is a rendering check)."""
    return assessment.assess(image_path, threshold=threshold, log=False).plain_text()


# --- 5. GDPR marketing request ------------------------------------------------------------------------

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


def minimisation(users: pd.DataFrame, k: int = 5) -> Finding:
    """k-anonymity of the raw marketing extract vs a generalised, aggregated one."""
    from . import privacy

    raw_qis = ["postcode_district", "age_band", "skin_tone"]
    coarse = privacy.generalise(users)
    coarse_qis = [c for c in ("region", "age_band") if c in coarse.columns]
    raw_k, coarse_k = privacy.k_anonymity(users, raw_qis), privacy.k_anonymity(coarse, coarse_qis)
    table = privacy.aggregate(coarse, coarse_qis, min_count=k)
    summary = (f"Raw extract (postcode district × 5-year age band × skin tone) is only {raw_k}-anonymous; "
               f"region × wide age band without skin tone is {coarse_k}-anonymous, and cells under {k} are suppressed.")
    return Finding(summary, {"raw_k": raw_k, "generalised_k": coarse_k}, table)
