"""The dated SageMaker price table that both the endpoint cost-so-far and the budget card read."""

import subprocess
import sys

import pandas as pd
import pytest

from helpers import costs
from helpers import prices as prices_module
from helpers.core.config import REPO_ROOT
from helpers.core.errors import BadInputError
from helpers.prices import load_prices


@pytest.fixture(scope="module")
def prices():
    return load_prices(region="us-east-1")


def test_price_table_is_dated_sourced_and_has_both_regions():
    raw = pd.read_csv(prices_module.PRICES_CSV)
    for column in ("option", "instance_type_or_memory", "unit", "price_usd", "region", "as_of", "source"):
        assert column in raw.columns
    assert {"eu-west-2", "us-east-1"} <= set(raw["region"])
    assert raw["source"].str.contains("check before use").all()
    pd.to_datetime(raw["as_of"], format="%Y-%m-%d")  # every row is dated
    for region in ("eu-west-2", "us-east-1"):
        table = load_prices(region=region)
        assert table.region == region and table.as_of and "pricing page" in table.source
        assert table.realtime_hourly("ml.m5.large") > table.realtime_hourly("ml.t2.medium") > 0
        assert table.batch_hourly("ml.m5.large") > 0 and table.data_per_gb() > 0
        assert table.hourly("ml.m5.large") == table.realtime_hourly("ml.m5.large")
        assert table.hourly("ml.unknown") is None
        per_second = [table.serverless_per_second(m) for m in (2048, 3072, 4096, 6144)]
        assert per_second == sorted(per_second) and per_second[0] > 0
        assert "Not live" in table.caption() and table.as_of in table.caption()


def test_default_region_is_london():
    assert load_prices().region == "eu-west-2"


def test_bad_region_or_file_or_instance_is_one_line(tmp_path, prices):
    with pytest.raises(BadInputError, match="us-east-1"):
        load_prices(region="mars-north-1")
    with pytest.raises(BadInputError, match="not found"):
        load_prices(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("option,price_usd\nrealtime,1\n")
    with pytest.raises(BadInputError, match="lacks columns"):
        load_prices(bad)
    with pytest.raises(BadInputError, match="ml.m5.large"):
        prices.realtime_hourly("ml.p5.48xlarge")


def test_newest_row_wins_when_a_coach_adds_prices(tmp_path):
    raw = pd.read_csv(prices_module.PRICES_CSV, dtype=str)
    newer = raw[(raw["region"] == "us-east-1") & (raw["instance_type_or_memory"] == "ml.m5.large")
                & (raw["option"] == "realtime")].copy()
    newer["price_usd"], newer["as_of"] = "0.2", "2099-01-01"
    path = tmp_path / "prices.csv"
    pd.concat([raw, newer]).to_csv(path, index=False)
    assert load_prices(path, region="us-east-1").realtime_hourly("ml.m5.large") == 0.2


def test_core_cost_so_far_and_the_budget_card_read_the_same_table():
    from helpers.curveball import cost

    assert cost.load_prices is load_prices and cost.PriceTable is prices_module.PriceTable
    assert costs.hourly_price("ml.m5.large", "us-east-1") == load_prices(region="us-east-1").hourly("ml.m5.large")
    assert costs.hourly_price("ml.unknown", "us-east-1") is None
    assert costs.hourly_price("ml.m5.large", "mars-north-1") is None


def test_core_cost_so_far_does_not_import_the_curveball():
    code = ("import sys, helpers.costs as c; assert c.hourly_price('ml.m5.large', 'eu-west-2') > 0; "
            "print(sorted(m for m in sys.modules if m.startswith('helpers.curveball')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
