"""Rough cost of what is running: list price per hour x age. An estimate, never a bill."""

from __future__ import annotations

import functools
from datetime import timedelta

from .core import aws
from .core.errors import DermAssistError


@functools.cache
def _price_table(region: str):
    from .prices import load_prices

    return load_prices(region=region)


def hourly_price(instance_type: str | None, region: str | None = None) -> float | None:
    """List price per instance-hour from the dated table (helpers/data/sagemaker_prices.csv), None if unknown."""
    if not instance_type:
        return None
    try:
        return _price_table(region or aws.region()).hourly(instance_type)
    except DermAssistError:  # no prices for this region
        return None


def estimate_cost(info) -> float | None:
    """USD so far for a real-time endpoint (instances x hours x list price); None for serverless or unknown."""
    if info.serverless or info.age is None:
        return None
    price = hourly_price(info.instance_type)
    if price is None:
        return None
    return price * max(info.instance_count, 1) * info.age.total_seconds() / 3600


def format_cost(value: float | None) -> str:
    return "per request" if value is None else f"~${value:,.2f}"


def format_age(age: timedelta | None) -> str:
    if age is None:
        return "?"
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24}h"



def capture_storage(bytes_per_request: float, requests_per_day: float, retention_days: int, region: str | None = None) -> dict:
    """What keeping captured data costs once the lifecycle rule holds ``retention_days`` of it (steady state).

    Returns the GB stored, the S3 price per GB-month, the USD a month and the date of the price.
    """
    prices = _price_table(region or aws.region())
    stored_gb = float(bytes_per_request) * float(requests_per_day) * int(retention_days) / 1e9
    price = prices.storage_per_gb_month()
    return {"stored_gb": stored_gb, "usd_per_gb_month": price, "monthly_usd": stored_gb * price, "as_of": prices.as_of}
