"""Synthetic users, k-anonymity, generalisation and small-cell suppression."""

import pandas as pd
import pytest

from helpers.core.errors import BadInputError
from helpers.curveball.privacy import age_band, aggregate, band_by_edges, generalise, k_anonymity, synthetic_users, violating_groups

KNOWN = pd.DataFrame({
    "region": ["London"] * 3 + ["North East"] * 2 + ["South West"],
    "age_band": ["20-39", "20-39", "40-59", "20-39", "20-39", "60+"],
})


def test_k_anonymity_of_a_known_table():
    assert k_anonymity(KNOWN, ["region", "age_band"]) == 1
    assert k_anonymity(KNOWN, ["region"]) == 1
    assert k_anonymity(KNOWN[KNOWN["region"] != "South West"], ["region"]) == 2
    assert k_anonymity(KNOWN, []) == 6
    assert k_anonymity(KNOWN.iloc[0:0], ["region"]) == 0
    assert k_anonymity(KNOWN.iloc[[0, 1, 3, 4]], ["region", "age_band"]) == 2


def test_violating_groups_smallest_first():
    groups = violating_groups(KNOWN, ["region", "age_band"], k=2)
    assert groups.to_dict("records") == [
        {"region": "London", "age_band": "40-59", "count": 1},
        {"region": "South West", "age_band": "60+", "count": 1},
    ]
    assert violating_groups(KNOWN, ["region", "age_band"], k=1).empty
    with pytest.raises(BadInputError, match="postcode"):
        violating_groups(KNOWN, ["postcode"], k=2)


def test_synthetic_users_are_reproducible_and_clearly_synthetic():
    users = synthetic_users(200, seed=7)
    assert len(users) == 200 and users["user_id"].is_unique
    assert users["user_id"].str.startswith("SYN-").all()
    assert set(users["skin_tone"]) <= {"I", "II", "III", "IV", "V", "VI"}
    assert users["age"].between(18, 90).all()
    assert (users["age_band"] == [age_band(a) for a in users["age"]]).all()
    assert users["consented_marketing"].dtype == bool
    pd.testing.assert_frame_equal(users, synthetic_users(200, seed=7))
    assert not users.equals(synthetic_users(200, seed=8))
    with pytest.raises(BadInputError):
        synthetic_users(0)


def test_age_bands():
    assert age_band(47) == "45-49"
    assert age_band(47, width=20) == "40-59"
    assert age_band(88) == "85+"
    assert band_by_edges(18, (18, 40, 60)) == "18-39"
    assert band_by_edges(60, (18, 40, 60)) == "60+"
    assert band_by_edges(17, (18, 40, 60)) == "under 18"


def test_generalising_raises_k():
    users = synthetic_users()
    fine = ["postcode_district", "age_band", "skin_tone"]
    assert k_anonymity(users, fine) == 1
    coarse = generalise(users)
    assert not {"user_id", "skin_tone", "postcode_district", "age"} & set(coarse.columns)
    assert set(coarse["age_band"]) <= {"18-39", "40-59", "60+"}
    assert k_anonymity(coarse, ["region", "age_band"]) > k_anonymity(users, ["region", "age_band"])
    assert len(violating_groups(coarse, ["region", "age_band"], 5)) < len(violating_groups(users, fine, 5))
    assert "postcode_district" in generalise(users, location="postcode_district").columns
    assert len(users.columns) == 8  # the input is not changed


def test_aggregate_suppresses_small_cells():
    table = aggregate(KNOWN, ["region"], min_count=3)
    by_region = table.set_index("region")
    assert by_region.loc["London", "users"] == 3 and not by_region.loc["London", "suppressed"]
    assert pd.isna(by_region.loc["North East", "users"]) and by_region.loc["North East", "suppressed"]
    published = table["users"].dropna()
    assert (published >= 3).all()


def test_aggregate_of_generalised_users_publishes_no_small_cell():
    table = aggregate(generalise(synthetic_users()), ["region", "age_band"], min_count=5)
    assert table["suppressed"].any() and (table["users"].dropna() >= 5).all()
    assert int(table["users"].sum()) + 0 <= 200
