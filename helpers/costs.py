"""Rough cost of what is running: list price per hour x age. An estimate, never a bill."""

from __future__ import annotations

from datetime import timedelta

# On-demand list prices (USD per instance-hour, eu-west-2), used only when the dated price table
# (helpers/data/sagemaker_prices.csv) has no row for the instance type.
_FALLBACK_HOURLY = {"ml.m5.large": 0.134, "ml.m5.xlarge": 0.269, "ml.c5.large": 0.119, "ml.t2.medium": 0.065}


def hourly_price(instance_type: str | None) -> float | None:
    if not instance_type:
        return None
    try:
        from .curveball.cost import load_prices

        table = load_prices()
        price = table.hourly(instance_type)
        if price is not None:
            return float(price)
    except Exception:
        pass
    return _FALLBACK_HOURLY.get(instance_type)


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
