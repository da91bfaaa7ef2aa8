"""Budget cut: what each way of serving the model costs a month, from a dated price table.

Prices come from the dated table in :mod:`helpers.prices` (``helpers/data/sagemaker_prices.csv``,
one row per price, with region, date and source) that a coach can update. They are list prices
copied by hand on the ``as_of`` date, never live: everything that shows a number also shows that date.

The model is deliberately simple and every assumption is a parameter:

- ``realtime`` / ``realtime-small``: instances bill every hour of the month, busy or idle;
- ``clinic-hours``: a real-time endpoint created each morning and deleted each evening, billed for
  the service hours plus the minutes it takes to start;
- ``serverless``: billed per second of inference at the chosen memory size, plus data processed;
  scales to zero, so a request after an idle spell waits for a cold start (estimated, not billed);
- ``batch``: batch transform jobs (e.g. one a night), billed per instance-hour including start-up;
  cheapest per image but not interactive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import models
from ..core.config import DEFAULT_INSTANCE_TYPE, SERVERLESS_MEMORY_SIZES
from ..core.errors import BadInputError
from ..prices import PriceTable, load_prices  # noqa: F401  (load_prices: the card's exercise calls it from here)

HOURS_PER_MONTH = 365 * 24 / 12  # 730
DAYS_PER_MONTH = 365 / 12
OPTIONS = ("realtime", "realtime-small", "clinic-hours", "serverless", "batch")
SMALL_INSTANCE_TYPE = "ml.t2.medium"
SERVERLESS_PAYLOAD_MB = 4

_DEFAULTS = {
    "realtime": {"instance_type": DEFAULT_INSTANCE_TYPE, "instances": 1, "target_utilisation": 0.6},
    "realtime-small": {"instance_type": SMALL_INSTANCE_TYPE, "instances": 1, "target_utilisation": 0.6},
    "clinic-hours": {"instance_type": DEFAULT_INSTANCE_TYPE, "instances": 1, "target_utilisation": 0.6,
                     "startup_minutes": 8},
    # idle_minutes (how long a serverless endpoint stays warm) and cold_start_seconds are assumptions:
    # AWS does not publish them. Measure your own cold start in the exercise.
    "serverless": {"memory_mb": models.SKIN.serverless_memory_mb, "max_concurrency": 5, "idle_minutes": 10, "cold_start_seconds": 20,
                   "cold_start_billed": False},
    "batch": {"instance_type": DEFAULT_INSTANCE_TYPE, "instances": 1, "jobs_per_day": 1, "startup_minutes": 6},
}


@dataclass(frozen=True)
class Traffic:
    """Expected use: requests on each service day, the hours a day and days a week the service must be up,
    inference time per request, payload size, and how much busier the peak is than the average."""

    requests_per_day: float
    hours_per_day: float = 24
    days_per_week: float = 7
    seconds_per_request: float = 0.5
    payload_mb: float = 0.2
    peak_factor: float = 2.0

    def __post_init__(self):
        checks = {
            "requests_per_day": self.requests_per_day >= 0,
            "hours_per_day": 0 < self.hours_per_day <= 24,
            "days_per_week": 0 < self.days_per_week <= 7,
            "seconds_per_request": self.seconds_per_request > 0,
            "payload_mb": self.payload_mb >= 0,
            "peak_factor": self.peak_factor >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise BadInputError(f"Traffic: {name}={getattr(self, name)!r} is out of range "
                                    "(hours 0-24, days 0-7, the rest positive, peak_factor >= 1).")

    def with_requests(self, requests_per_day: float) -> Traffic:
        return replace(self, requests_per_day=float(requests_per_day))

    @property
    def service_days_per_month(self) -> float:
        return self.days_per_week * 365 / 7 / 12

    @property
    def requests_per_month(self) -> float:
        return self.requests_per_day * self.service_days_per_month

    @property
    def mean_requests_per_second(self) -> float:
        return self.requests_per_day / (self.hours_per_day * 3600)


@dataclass(frozen=True)
class CostEstimate:
    """What one option costs a month for one traffic pattern, and what it means for users."""

    option: str
    description: str
    monthly_usd: float
    compute_usd: float
    data_usd: float
    billed_hours: float | None
    instances: int | None
    max_requests_per_day: float | None
    cold_starts_per_day: float
    interactive: bool
    notes: tuple[str, ...] = field(default_factory=tuple)


def _settings(option: str, opts: dict) -> dict:
    if option not in _DEFAULTS:
        raise BadInputError(f"Unknown option {option!r}. Use one of: {', '.join(OPTIONS)}.")
    unknown = set(opts) - set(_DEFAULTS[option])
    if unknown:
        raise BadInputError(f"{option} does not take {', '.join(sorted(unknown))}; "
                            f"it takes {', '.join(_DEFAULTS[option])}.")
    return {**_DEFAULTS[option], **opts}


def _instances(traffic: Traffic, s: dict) -> tuple[int, float]:
    """Instance count ("auto" sizes for the peak) and the requests a day that many can serve."""
    per_instance = traffic.hours_per_day * 3600 * s["target_utilisation"] / (
        traffic.seconds_per_request * traffic.peak_factor)
    count = s["instances"]
    if count == "auto":
        count = max(1, math.ceil(traffic.requests_per_day / per_instance))
    if not isinstance(count, int) or count < 1:
        raise BadInputError(f"instances must be a whole number >= 1 or 'auto'; got {count!r}.")
    return count, count * per_instance


def _data_usd(traffic: Traffic, prices: PriceTable) -> float:
    return traffic.requests_per_month * traffic.payload_mb / 1024 * prices.data_per_gb()


def _realtime(option: str, traffic: Traffic, prices: PriceTable, s: dict) -> CostEstimate:
    count, capacity = _instances(traffic, s)
    rate = prices.realtime_hourly(s["instance_type"])
    notes = ["Bills every hour the endpoint exists, whether or not requests arrive."]
    if option == "clinic-hours":
        daily = min(24.0, traffic.hours_per_day + s["startup_minutes"] / 60)
        hours = min(HOURS_PER_MONTH, daily * traffic.service_days_per_month) * count
        what = f"{traffic.hours_per_day:g} h/day, {traffic.days_per_week:g} days/week"
        notes = [f"Created before and deleted after service hours ({s['startup_minutes']} min start-up billed "
                 "each day); needs a reliable schedule, and is unavailable outside those hours."]
        if hours >= HOURS_PER_MONTH * count:
            notes.append("The service must be up all the time, so there is nothing to switch off.")
    else:
        hours = HOURS_PER_MONTH * count
        what = "24/7"
    if s["instance_type"].startswith("ml.t"):
        notes.append("Burstable CPU: sustained load can exhaust CPU credits and slow inference.")
    if traffic.requests_per_day > capacity:
        notes.append(f"{count} instance(s) serve about {capacity:,.0f} requests/day at this latency: "
                     "add instances (instances='auto').")
    compute = hours * rate
    data = _data_usd(traffic, prices)
    return CostEstimate(option, f"Real-time {s['instance_type']} x{count}, {what}", compute + data, compute,
                        data, hours, count, capacity, 0.0, True, tuple(notes))


def cold_starts_per_day(traffic: Traffic, idle_minutes: float) -> float:
    """Expected cold starts a day if requests arrive at random during service hours and the endpoint
    scales to zero after ``idle_minutes`` without a request (plus the first request of each day)."""
    n = traffic.requests_per_day
    if n <= 0:
        return 0.0
    p_cold = math.exp(-traffic.mean_requests_per_second * idle_minutes * 60)
    first_of_day = (1 - p_cold) if traffic.hours_per_day < 24 else 0.0
    return min(n, n * p_cold + first_of_day)


def _serverless(traffic: Traffic, prices: PriceTable, s: dict) -> CostEstimate:
    memory = int(s["memory_mb"])
    if memory not in SERVERLESS_MEMORY_SIZES:
        raise BadInputError(f"Serverless memory must be one of {SERVERLESS_MEMORY_SIZES} MB; got {memory}.")
    rate = prices.serverless_per_second(memory)
    colds = cold_starts_per_day(traffic, s["idle_minutes"])
    seconds = traffic.requests_per_month * traffic.seconds_per_request
    if s["cold_start_billed"]:
        seconds += colds * traffic.service_days_per_month * s["cold_start_seconds"]
    compute = seconds * rate
    data = _data_usd(traffic, prices)
    notes = [f"Scales to zero. About {colds:,.1f} cold starts a day (~{s['cold_start_seconds']} s each, "
             f"assumed; measure yours) after {s['idle_minutes']} idle minutes (assumed)."]
    peak_concurrency = traffic.mean_requests_per_second * traffic.peak_factor * traffic.seconds_per_request
    if peak_concurrency > s["max_concurrency"]:
        notes.append(f"Peak needs ~{peak_concurrency:.1f} concurrent requests, above max_concurrency="
                     f"{s['max_concurrency']}: requests will be throttled.")
    if traffic.payload_mb > SERVERLESS_PAYLOAD_MB:
        notes.append(f"Payloads over {SERVERLESS_PAYLOAD_MB} MB are refused by serverless endpoints.")
    capacity = s["max_concurrency"] * traffic.hours_per_day * 3600 / (
        traffic.seconds_per_request * traffic.peak_factor)
    return CostEstimate("serverless", f"Serverless {memory} MB, max concurrency {s['max_concurrency']}",
                        compute + data, compute, data, None, None, capacity, colds, True, tuple(notes))


def _batch(traffic: Traffic, prices: PriceTable, s: dict) -> CostEstimate:
    count, jobs = s["instances"], s["jobs_per_day"]
    if not isinstance(count, int) or count < 1 or jobs <= 0:
        raise BadInputError("batch needs instances >= 1 (a whole number) and jobs_per_day > 0.")
    per_job = s["startup_minutes"] / 60 + traffic.requests_per_day / jobs * traffic.seconds_per_request / 3600 / count
    hours = per_job * count * jobs * traffic.service_days_per_month
    compute = hours * prices.batch_hourly(s["instance_type"])
    notes = (f"Not interactive: results arrive after the next job ({jobs:g} a day), so it does not meet "
             "'upload an image, get a result'. Images wait in S3 until then.",)
    return CostEstimate("batch", f"Batch transform {s['instance_type']} x{count}, {jobs:g} job(s)/day", compute,
                        compute, 0.0, hours, count, None, 0.0, False, notes)


def monthly_cost(option: str, traffic: Traffic, prices: PriceTable, **opts) -> CostEstimate:
    """Monthly cost of ``option`` (one of :data:`OPTIONS`) for ``traffic``.

    ``opts`` override the option's assumptions, e.g. ``instance_type="ml.c5.large"``,
    ``instances="auto"``, ``memory_mb=4096``, ``idle_minutes=5``, ``jobs_per_day=2``.
    """
    s = _settings(option, opts)
    if option == "serverless":
        return _serverless(traffic, prices, s)
    if option == "batch":
        return _batch(traffic, prices, s)
    return _realtime(option, traffic, prices, s)


def compare_options(traffic: Traffic, prices: PriceTable, options=OPTIONS, budget_usd: float | None = None,
                    settings: dict | None = None) -> pd.DataFrame:
    """One row per option: monthly cost, what is billed, cold starts, whether it is interactive, notes.

    ``settings`` maps an option to its overrides, e.g. ``{"serverless": {"memory_mb": 4096}}``.
    With ``budget_usd``, a ``within_budget`` column says which options fit.
    """
    settings = settings or {}
    estimates = [monthly_cost(o, traffic, prices, **settings.get(o, {})) for o in options]
    table = pd.DataFrame([{
        "option": e.option, "description": e.description, "monthly_usd": round(e.monthly_usd, 2),
        "billed_hours": None if e.billed_hours is None else round(e.billed_hours, 1),
        "max_requests_per_day": None if e.max_requests_per_day is None else round(e.max_requests_per_day),
        "cold_starts_per_day": round(e.cold_starts_per_day, 1), "interactive": e.interactive,
        "notes": " ".join(e.notes),
    } for e in estimates])
    if budget_usd is not None:
        table.insert(3, "within_budget", table["monthly_usd"] <= budget_usd)
    return table


def break_even(option_a: str, option_b: str, prices: PriceTable, traffic: Traffic | None = None,
               low: float = 1, high: float = 1e7, settings: dict | None = None) -> float | None:
    """The requests per day at which ``option_a`` and ``option_b`` cost the same (the first crossing
    between ``low`` and ``high``), or ``None`` if one is cheaper throughout.

    ``traffic`` gives every other parameter (its ``requests_per_day`` is ignored).
    """
    template = traffic or Traffic(requests_per_day=low)
    settings = settings or {}

    def diff(n: float) -> float:
        t = template.with_requests(n)
        return (monthly_cost(option_a, t, prices, **settings.get(option_a, {})).monthly_usd
                - monthly_cost(option_b, t, prices, **settings.get(option_b, {})).monthly_usd)

    grid = np.geomspace(low, high, 300)
    values = [diff(n) for n in grid]
    for (lo, d_lo), (hi, d_hi) in zip(zip(grid, values), zip(grid[1:], values[1:])):
        if d_lo == 0 and d_hi != 0:
            return float(lo)
        if d_lo * d_hi < 0:
            for _ in range(80):
                mid = math.sqrt(lo * hi)
                if diff(mid) * d_lo > 0:
                    lo = mid
                else:
                    hi = mid
            return float(math.sqrt(lo * hi))
    return None


def plot_cost_vs_traffic(prices: PriceTable, traffic: Traffic | None = None, options=OPTIONS, ax=None,
                         low: float = 10, high: float = 1e6, settings: dict | None = None,
                         break_even_pairs=(("serverless", "realtime"), ("serverless", "clinic-hours"))):
    """Monthly cost of each option against requests per day (log-log), break-even points annotated,
    and the learner's own traffic marked. The title states the price date: list prices, not live."""
    import matplotlib.pyplot as plt

    from ..accessibility import get_palette

    palette = get_palette()
    template = traffic or Traffic(requests_per_day=low)
    settings = settings or {}
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 5))
    fig = ax.figure
    grid = np.geomspace(low, high, 120)
    styles = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)))
    for i, option in enumerate(options):
        costs = [monthly_cost(option, template.with_requests(n), prices, **settings.get(option, {})).monthly_usd
                 for n in grid]
        ax.plot(grid, costs, linestyle=styles[i % len(styles)], color=palette.series[i % len(palette.series)],
                linewidth=2, label=option)
    for a, b in break_even_pairs:
        if a not in options or b not in options:
            continue
        n = break_even(a, b, prices, template, low, high, settings)
        if n is None:
            continue
        usd = monthly_cost(a, template.with_requests(n), prices, **settings.get(a, {})).monthly_usd
        ax.plot([n], [usd], "o", color=palette.text, zorder=5)
        ax.annotate(f"{a} = {b}\n{n:,.0f} requests/day, ${usd:,.0f}/month", (n, usd),
                    xytext=(-10, 18), textcoords="offset points", ha="right", fontsize=8, color=palette.text,
                    arrowprops={"arrowstyle": "-", "color": palette.text})
    if "realtime" in options:
        capacity = monthly_cost("realtime", template, prices, **settings.get("realtime", {})).max_requests_per_day
        if capacity < high:
            ax.axvspan(capacity, high, color=palette.text, alpha=0.07, linewidth=0)
            ax.annotate(f"beyond ~{capacity:,.0f}/day one real-time\ninstance is saturated (add more)",
                        (capacity, 1), xycoords=("data", "axes fraction"), xytext=(4, -20),
                        textcoords="offset points", fontsize=7, color=palette.text)
    if traffic is not None and traffic.requests_per_day > 0:
        ax.axvline(traffic.requests_per_day, color=palette.text, linewidth=1, linestyle=":")
        ax.annotate(f"your traffic: {traffic.requests_per_day:,.0f}/day", (traffic.requests_per_day, 1),
                    xycoords=("data", "axes fraction"), xytext=(4, -12), textcoords="offset points",
                    fontsize=8, color=palette.text)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"Requests per service day ({template.hours_per_day:g} h/day, {template.days_per_week:g} days/week)")
    ax.set_ylabel("Monthly cost (USD)")
    ax.set_title(f"Monthly SageMaker cost vs traffic, {prices.region}\n"
                 f"List prices as of {prices.as_of}, not live: check before use", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig
