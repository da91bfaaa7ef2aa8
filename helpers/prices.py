"""The dated SageMaker price table: list prices a coach can update, never live ones.

``helpers/data/sagemaker_prices.csv`` holds one row per price, with its region, the date it was
copied (``as_of``) and its source. Everything that shows a number computed from it also shows that
date. Both the cost-so-far of running endpoints (:mod:`helpers.costs`) and the budget-cut curveball
(:mod:`helpers.curveball.cost`) read prices from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from .core.config import DATA_DIR, DEFAULT_REGION
from .core.errors import BadInputError

PRICES_CSV = DATA_DIR / "sagemaker_prices.csv"
COLUMNS = ("option", "instance_type_or_memory", "unit", "price_usd", "region", "as_of", "source")


@dataclass(frozen=True)
class PriceTable:
    """The prices for one region, with the date and source they were copied from."""

    rows: pd.DataFrame
    region: str
    as_of: str
    source: str

    @cached_property
    def _lookup(self) -> dict:
        return {(o, k): float(p) for o, k, p in
                zip(self.rows["option"], self.rows["instance_type_or_memory"], self.rows["price_usd"])}

    def _price(self, option: str, key: str, what: str) -> float:
        if (option, key) not in self._lookup:
            known = sorted(k for o, k in self._lookup if o == option)
            raise BadInputError(
                f"No {what} price for {key!r} in {self.region} (as of {self.as_of}). "
                f"Use one of: {', '.join(known) or 'none'}, or add a row to {PRICES_CSV.name}."
            )
        return self._lookup[(option, key)]

    def realtime_hourly(self, instance_type: str) -> float:
        return self._price("realtime", instance_type, "real-time")

    def hourly(self, instance_type: str) -> float | None:
        """The real-time price per instance-hour, or ``None`` if the table has no row for it."""
        return self._lookup.get(("realtime", instance_type))

    def batch_hourly(self, instance_type: str) -> float:
        return self._price("batch", instance_type, "batch transform")

    def serverless_per_second(self, memory_mb: int) -> float:
        return self._price("serverless", str(int(memory_mb)), "serverless")

    def data_per_gb(self) -> float:
        return self._price("data-processed", "all", "data-processed")

    def storage_per_gb_month(self) -> float:
        """S3 Standard storage, per GB-month (where captured data is kept)."""
        return self._price("s3-storage", "standard", "S3 storage")

    def caption(self) -> str:
        """One line to show next to any figure computed from this table."""
        return (f"SageMaker list prices for {self.region} as of {self.as_of} ({self.source}). "
                "Not live prices: check the AWS pricing page before quoting them.")


def load_prices(path: str | os.PathLike | None = None, region: str = DEFAULT_REGION) -> PriceTable:
    """Read the price table (default: the shipped CSV) for one region."""
    csv = Path(path).expanduser() if path else PRICES_CSV
    if not csv.is_file():
        raise BadInputError(f"Price table not found: {csv}. Pass path=None for the shipped table.")
    table = pd.read_csv(csv, dtype={"instance_type_or_memory": str, "as_of": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise BadInputError(f"{csv.name} lacks columns {', '.join(missing)}; it needs {', '.join(COLUMNS)}.")
    rows = table[table["region"] == region]
    if rows.empty:
        raise BadInputError(f"No prices for region {region!r} in {csv.name}. "
                            f"Use one of: {', '.join(sorted(table['region'].unique()))}.")
    # If a coach added newer rows, the newest price per item wins.
    rows = rows.sort_values("as_of").groupby(["option", "instance_type_or_memory"], as_index=False).last()
    sources = " / ".join(dict.fromkeys(rows["source"]))
    return PriceTable(rows.reset_index(drop=True), region, str(rows["as_of"].min()), sources)
