"""GDPR marketing request: data minimisation made concrete on a small, synthetic user table.

- :func:`synthetic_users` makes invented GP-app users (ids start ``SYN-``; nobody real is in it);
- :func:`k_anonymity` is the size of the smallest group sharing the same quasi-identifiers;
- :func:`generalise` coarsens the table (region for postcode district, wide age bands, no skin tone);
- :func:`aggregate` turns it into counts with small cells suppressed.

Suppressing small cells is not a guarantee: totals and repeated releases can still be differenced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..core.errors import BadInputError
from ..images import FITZPATRICK_TYPES

DEFAULT_K = 5
# Real postcode districts (outward codes) grouped by English region: public geography, not personal data.
DISTRICTS = {
    "London": ("E1", "N7", "SE15", "SW9", "NW10"),
    "North West": ("M14", "L8", "BL1", "PR1"),
    "Yorkshire and The Humber": ("LS6", "BD7", "S10", "HU5"),
    "West Midlands": ("B11", "CV1", "WV3"),
    "South West": ("BS5", "EX4", "PL1"),
    "North East": ("NE6", "SR2"),
}
_REGION_WEIGHTS = (0.30, 0.18, 0.17, 0.15, 0.12, 0.08)
_SKIN_WEIGHTS = (0.12, 0.33, 0.27, 0.13, 0.09, 0.06)


def age_band(age, width: int = 5, top: int | None = None) -> str:
    """``47`` -> ``"45-49"`` (width 5), ``"40-59"`` (width 20); ages at or above ``top`` -> ``"85+"``.
    ``top`` defaults to the last band start at or below 85."""
    if width < 1:
        raise BadInputError(f"Age band width must be at least 1 year; got {width}.")
    top = (85 // width) * width if top is None else top
    lower = int(age) // width * width
    if top and lower >= top:
        return f"{top}+"
    return f"{lower}-{lower + width - 1}"


def synthetic_users(n: int = 200, seed: int = 2024) -> pd.DataFrame:
    """``n`` invented users of a GP skin-check app: user_id, region, postcode_district, age, age_band
    (5-year), skin_tone (Fitzpatrick I-VI), consented_marketing, checks_last_90_days. Same seed, same table."""
    if not isinstance(n, int) or n < 1:
        raise BadInputError(f"n must be a whole number of users >= 1; got {n!r}.")
    rng = np.random.default_rng(seed)
    regions = rng.choice(list(DISTRICTS), size=n, p=_REGION_WEIGHTS)
    districts = [str(rng.choice(DISTRICTS[r])) for r in regions]
    ages = np.clip(np.rint(rng.normal(48, 17, size=n)), 18, 90).astype(int)
    return pd.DataFrame({
        "user_id": [f"SYN-{i:04d}" for i in range(1, n + 1)],
        "region": regions.astype(str),
        "postcode_district": districts,
        "age": ages,
        "age_band": [age_band(a) for a in ages],
        "skin_tone": rng.choice(FITZPATRICK_TYPES, size=n, p=_SKIN_WEIGHTS).astype(str),
        "consented_marketing": rng.random(n) < 0.3,
        "checks_last_90_days": rng.poisson(2.0, size=n) + 1,
    })


def _check(df: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadInputError(f"Unknown column(s) {', '.join(missing)}; the table has {', '.join(map(str, df.columns))}.")
    return columns


def _sizes(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return df.groupby(columns, dropna=False, observed=True).size().reset_index(name="count")


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The size of the smallest group of rows that share all ``quasi_identifiers`` (0 for an empty table).
    The table is k-anonymous for every k up to this number."""
    columns = _check(df, quasi_identifiers)
    if df.empty:
        return 0
    if not columns:
        return len(df)
    return int(_sizes(df, columns)["count"].min())


def violating_groups(df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = DEFAULT_K) -> pd.DataFrame:
    """The combinations of ``quasi_identifiers`` shared by fewer than ``k`` rows, smallest first."""
    columns = _check(df, quasi_identifiers)
    sizes = _sizes(df, columns)
    small = sizes[sizes["count"] < k]
    return small.sort_values(["count", *columns], kind="stable").reset_index(drop=True)


def band_by_edges(age, edges: Sequence[int]) -> str:
    """``47`` with edges ``(18, 40, 60)`` -> ``"40-59"``; at or above the last edge -> ``"60+"``."""
    edges = sorted(int(e) for e in edges)
    if not edges:
        raise BadInputError("Give at least one age edge, e.g. (18, 40, 60).")
    age = int(age)
    if age < edges[0]:
        return f"under {edges[0]}"
    for lower, upper in zip(edges, edges[1:]):
        if age < upper:
            return f"{lower}-{upper - 1}"
    return f"{edges[-1]}+"


def generalise(df: pd.DataFrame, age_edges: Sequence[int] = (18, 40, 60), location: str = "region",
               drop: Sequence[str] = ("user_id", "skin_tone")) -> pd.DataFrame:
    """A coarser copy: exact age becomes a band cut at ``age_edges`` (default 18-39, 40-59, 60+);
    ``location="region"`` drops the postcode district; ``drop`` removes direct identifiers and
    special-category columns (skin tone can reveal ethnic origin)."""
    if location not in ("region", "postcode_district"):
        raise BadInputError(f"location must be 'region' or 'postcode_district'; got {location!r}.")
    out = df.copy()
    if "age" in out.columns:
        out["age_band"] = [band_by_edges(a, age_edges) for a in out["age"]]
        out = out.drop(columns="age")
    if location == "region" and "postcode_district" in out.columns:
        out = out.drop(columns="postcode_district")
    return out.drop(columns=[c for c in drop if c in out.columns])


def aggregate(df: pd.DataFrame, by: Sequence[str], min_count: int = DEFAULT_K,
              count_col: str = "users") -> pd.DataFrame:
    """Counts per combination of ``by``; counts below ``min_count`` are suppressed (shown as missing,
    with ``suppressed`` True), so no published cell describes fewer than ``min_count`` people."""
    columns = _check(df, by)
    sizes = _sizes(df, columns).rename(columns={"count": count_col})
    sizes["suppressed"] = sizes[count_col] < min_count
    sizes[count_col] = sizes[count_col].astype("Int64").mask(sizes["suppressed"])
    return sizes
