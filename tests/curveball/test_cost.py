"""The cost model of SageMaker inference options (the price table itself: tests/test_prices.py)."""

import math

import matplotlib

matplotlib.use("Agg")

import pytest

from helpers.core.errors import BadInputError
from helpers.curveball import cost
from helpers.curveball.cost import Traffic, break_even, compare_options, load_prices, monthly_cost

CLINIC = Traffic(requests_per_day=500, hours_per_day=10, days_per_week=5)


@pytest.fixture(scope="module")
def prices():
    return load_prices(region="us-east-1")


def test_realtime_bills_every_hour_of_the_month(prices):
    estimate = monthly_cost("realtime", Traffic(500), prices)
    assert estimate.billed_hours == pytest.approx(730)
    assert estimate.compute_usd == pytest.approx(730 * 0.115)
    assert estimate.monthly_usd == pytest.approx(estimate.compute_usd + estimate.data_usd)
    idle = monthly_cost("realtime", Traffic(0), prices)
    assert idle.monthly_usd == pytest.approx(730 * 0.115)  # idle costs the same


def test_smaller_instance_is_cheaper(prices):
    small = monthly_cost("realtime-small", CLINIC, prices)
    assert small.monthly_usd < monthly_cost("realtime", CLINIC, prices).monthly_usd


def test_clinic_hours_is_cheaper_than_24h(prices):
    always = monthly_cost("realtime", CLINIC, prices)
    clinic = monthly_cost("clinic-hours", CLINIC, prices)
    assert clinic.monthly_usd < 0.4 * always.monthly_usd
    expected_hours = (10 + 8 / 60) * 5 * 365 / 7 / 12
    assert clinic.billed_hours == pytest.approx(expected_hours)
    # When the service must be up all the time there is nothing to switch off.
    assert monthly_cost("clinic-hours", Traffic(500), prices).monthly_usd == pytest.approx(
        monthly_cost("realtime", Traffic(500), prices).monthly_usd)


def test_serverless_is_pay_per_use(prices):
    estimate = monthly_cost("serverless", Traffic(500), prices, memory_mb=3072)
    requests = 500 * 365 / 12
    assert estimate.compute_usd == pytest.approx(requests * 0.5 * 0.00006)
    assert estimate.data_usd == pytest.approx(requests * 0.2 / 1024 * 0.016)
    assert monthly_cost("serverless", Traffic(1000), prices).monthly_usd == pytest.approx(2 * estimate.monthly_usd)
    assert monthly_cost("serverless", Traffic(500), prices, memory_mb=6144).compute_usd == pytest.approx(
        2 * estimate.compute_usd)
    with pytest.raises(BadInputError, match="memory"):
        monthly_cost("serverless", Traffic(500), prices, memory_mb=3000)


def test_serverless_cold_starts_follow_the_idle_gaps(prices):
    busy = cost.cold_starts_per_day(Traffic(20000), idle_minutes=10)
    quiet = cost.cold_starts_per_day(Traffic(20), idle_minutes=10)
    assert busy < 0.01 and quiet == pytest.approx(20 * math.exp(-20 / 86400 * 600))
    assert cost.cold_starts_per_day(CLINIC, idle_minutes=10) >= 1  # the first request of each clinic day
    estimate = monthly_cost("serverless", Traffic(20), prices)
    assert estimate.cold_starts_per_day == pytest.approx(quiet)
    assert any("cold start" in note for note in estimate.notes)
    billed = monthly_cost("serverless", Traffic(20), prices, cold_start_billed=True)
    assert billed.compute_usd > estimate.compute_usd


def test_serverless_warns_about_concurrency(prices):
    estimate = monthly_cost("serverless", Traffic(2_000_000), prices, max_concurrency=5)
    assert any("throttled" in note for note in estimate.notes)


def test_batch_is_cheap_but_not_interactive(prices):
    estimate = monthly_cost("batch", CLINIC, prices)
    per_day = 6 / 60 + 500 * 0.5 / 3600
    assert estimate.billed_hours == pytest.approx(per_day * 5 * 365 / 7 / 12)
    assert not estimate.interactive and "Not interactive" in estimate.notes[0]


def test_unknown_option_or_setting_is_refused(prices):
    with pytest.raises(BadInputError, match="serverless"):
        monthly_cost("spot", CLINIC, prices)
    with pytest.raises(BadInputError, match="memory_mb"):
        monthly_cost("serverless", CLINIC, prices, memroy_mb=2048)
    with pytest.raises(BadInputError):
        Traffic(500, hours_per_day=25)


def test_auto_instances_scale_with_traffic(prices):
    heavy = Traffic(200_000)
    fixed = monthly_cost("realtime", heavy, prices)
    assert fixed.instances == 1 and any("add instances" in n for n in fixed.notes)
    auto = monthly_cost("realtime", heavy, prices, instances="auto")
    assert auto.instances > 1 and auto.max_requests_per_day >= heavy.requests_per_day


def test_compare_options_table(prices):
    table = compare_options(CLINIC, prices, budget_usd=50)
    assert list(table["option"]) == list(cost.OPTIONS)
    assert {"monthly_usd", "within_budget", "interactive", "cold_starts_per_day", "notes"} <= set(table.columns)
    by_option = table.set_index("option")
    assert not by_option.loc["realtime", "within_budget"] and by_option.loc["serverless", "within_budget"]
    assert by_option.loc["serverless", "monthly_usd"] < by_option.loc["clinic-hours", "monthly_usd"]
    custom = compare_options(CLINIC, prices, options=("serverless",), settings={"serverless": {"memory_mb": 6144}})
    assert custom.iloc[0]["monthly_usd"] > table.set_index("option").loc["serverless", "monthly_usd"]


def test_break_even_is_where_the_costs_cross(prices):
    n = break_even("serverless", "realtime", prices)
    assert 10_000 < n < 1_000_000
    at = Traffic(1).with_requests(n)
    serverless = monthly_cost("serverless", at, prices).monthly_usd
    realtime = monthly_cost("realtime", at, prices).monthly_usd
    assert serverless == pytest.approx(realtime, rel=1e-6)
    below, above = Traffic(n * 0.9), Traffic(n * 1.1)
    assert monthly_cost("serverless", below, prices).monthly_usd < monthly_cost("realtime", below, prices).monthly_usd
    assert monthly_cost("serverless", above, prices).monthly_usd > monthly_cost("realtime", above, prices).monthly_usd
    # Closed form for one always-on instance: hourly bill / serverless compute cost per request.
    per_request = 0.5 * 0.00006
    assert n == pytest.approx(730 * 0.115 / per_request / (365 / 12), rel=1e-6)
    assert break_even("serverless", "realtime", prices, high=100) is None  # serverless cheaper throughout
    assert break_even("realtime", "clinic-hours", prices) is None  # identical at 24/7


def test_plot_cost_vs_traffic_states_the_price_date(prices):
    fig = cost.plot_cost_vs_traffic(prices, CLINIC)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert prices.as_of in ax.get_title() and "not live" in ax.get_title()
    assert len(ax.get_lines()) >= len(cost.OPTIONS)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "requests/day" in texts and "your traffic" in texts
    import matplotlib.pyplot as plt

    plt.close(fig)
