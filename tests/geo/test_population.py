"""Census population per unit: largest-remainder apportionment, the area and equal rules, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from geo import boundaries as b
from geo.population import (
    CENSUS_RESULT_LABELS,
    POPULATION_RULE_LABELS,
    RULES,
    apportion,
    national_population,
    population,
)

# --- apportion ---------------------------------------------------------------------------------------


def _naive_hamilton(total: int, weights: list[float]) -> list[int]:
    """Reference: floors, then one more to each of the largest remainders, one row at a time."""
    quotas = [total * w / sum(weights) for w in weights]
    seats = [int(np.floor(q)) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - seats[i]), i))
    for i in order[: total - sum(seats)]:
        seats[i] += 1
    return seats


def test_apportion_known_hamilton_example():
    # 100,000 votes, 10 seats: quotas 4.7, 1.6, 1.58, 1.2, 0.61, 0.31 -> floors 7 seats, 3 go to .7, .61, .6
    votes = [47_000, 16_000, 15_800, 12_000, 6_100, 3_100]
    got = apportion(pd.Series({"x": 10}), ["x"] * 6, votes)
    assert got.tolist() == [5, 2, 1, 1, 1, 0]


def test_apportion_ties_go_to_the_earlier_row_and_groups_are_independent():
    got = apportion(pd.Series({"a": 10, "b": 2}), ["a", "b", "a", "a", "b"], [1, 1, 1, 1, 1])
    assert got.tolist() == [4, 1, 3, 3, 1]


def test_apportion_matches_a_naive_reference_and_sums_exactly():
    rng = np.random.default_rng(7)
    groups = rng.integers(0, 12, size=300).astype(str)
    weights = rng.gamma(0.7, 50.0, size=300)
    totals = pd.Series(rng.integers(0, 2_000_000, size=12), index=np.arange(12).astype(str))
    got = apportion(totals, groups, weights)
    for key, total in totals.items():
        rows = np.flatnonzero(groups == key)
        if len(rows):
            assert got[rows].sum() == total
            assert got[rows].tolist() == _naive_hamilton(int(total), weights[rows].tolist())


def test_apportion_unknown_total_gives_nan_and_bad_input_is_refused():
    got = apportion(pd.Series({"a": 5, "b": np.nan}), ["a", "b", "a"], [1.0, 1.0, 3.0])
    assert got[[0, 2]].tolist() == [1, 4] and np.isnan(got[1])
    with pytest.raises(ValueError, match="no total"):
        apportion(pd.Series({"a": 5}), ["a", "z"], [1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        apportion(pd.Series({"a": 5}), ["a"], [-1.0])
    with pytest.raises(ValueError, match="whole numbers"):
        apportion(pd.Series({"a": 5.5}), ["a"], [1.0])
    with pytest.raises(ValueError, match="zero weight"):
        apportion(pd.Series({"a": 5}), ["a", "a"], [0.0, 0.0])
    assert apportion(pd.Series({"a": 0}), ["a", "a"], [0.0, 0.0]).tolist() == [0, 0]


# --- population on the vendored units ----------------------------------------------------------------


def test_prefectures_and_regions_carry_the_census_and_its_flag():
    census = b.load_population().set_index("iso_code")
    prefs = population("prefecture").set_index("unit_id")
    assert len(prefs) == 34 and (prefs["population_rule"] == "census").all()
    assert prefs.at["GN-KA", "population"] == census.at["GN-KA", "population_2014"] == 472_112
    assert prefs.at["GN-KA", "census_result"] == "preliminary"
    regions = population("region").set_index("unit_id")
    assert regions["population"].sum() == census["population_2014"].sum()
    # Conakry is one prefecture and one region; Kankan region = sum of its prefectures
    units = b.load_units("prefecture")
    kankan = units.loc[units["region_id"] == "GN-K", "unit_id"]
    assert regions.at["GN-K", "population"] == census.loc[kankan, "population_2014"].sum()
    assert regions.at["GN-C", "population"] == census.at["GN-C", "population_2014"]
    assert set(regions["census_result"]) <= {"final", "preliminary", "mixed"}
    assert regions.at["GN-B", "census_result"] == "final"


@pytest.mark.parametrize("rule", RULES)
def test_subprefectures_sum_back_exactly_to_their_prefecture(rule):
    subs = population("subprefecture", rule)
    census = b.load_population().set_index("iso_code")
    assert len(subs) == 340 and (subs["population_rule"] == rule).all()
    assert (subs["population"] == np.floor(subs["population"])).all()
    sums = subs.groupby("prefecture_id")["population"].sum()
    pd.testing.assert_series_equal(sums, census["population_2014"].reindex(sums.index).astype(float),
                                   check_names=False)
    flags = census["census_result"].reindex(subs["prefecture_id"]).to_numpy()
    assert (subs["census_result"].to_numpy() == flags).all()


def test_area_rule_follows_area_and_equal_rule_is_flat():
    units = b.load_units("subprefecture").set_index("unit_id")
    area = population("subprefecture", "area").set_index("unit_id")
    quota = area.groupby("prefecture_id")["population"].transform("sum") * units["area_km2"] / \
        units.groupby("prefecture_id")["area_km2"].transform("sum")
    assert (area["population"] - quota.reindex(area.index)).abs().max() < 1.0
    equal = population("subprefecture", "equal")
    spread = equal.groupby("prefecture_id")["population"].agg(lambda s: s.max() - s.min())
    assert spread.max() <= 1
    # the stated bias: a small dense town gets far less by area than by equal shares
    kankan = "GN-KA-KANKAN-CENTRE"
    assert area.at[kankan, "population"] < equal.set_index("unit_id").at[kankan, "population"]


def test_hand_made_units_use_geometry_when_area_is_absent_and_flag_mixed_regions():
    # two sub-prefectures of one prefecture, the second three times as large (same latitude band)
    left = shapely.box(-10.0, 10.0, -9.9, 10.1)
    right = shapely.box(-9.9, 10.0, -9.6, 10.1)
    units = gpd.GeoDataFrame({
        "unit_id": ["R", "P", "Q", "P-A", "P-B", "Q-A"],
        "level": ["region", "prefecture", "prefecture", "subprefecture", "subprefecture", "subprefecture"],
        "name": ["R", "P", "Q", "A", "B", "QA"],
        "prefecture_id": [None, "P", "Q", "P", "P", "Q"],
        "region_id": ["R"] * 6,
    }, geometry=[shapely.union(left, right), shapely.union(left, right), left, left, right, left], crs=4326)
    census = pd.DataFrame({"iso_code": ["P", "Q"], "population_2014": [1001, 7],
                           "census_result": ["final", "preliminary"]})
    subs = population("subprefecture", units=units, census=census).set_index("unit_id")
    assert subs.loc[["P-A", "P-B"], "population"].tolist() == [250, 751]
    assert subs.at["Q-A", "population"] == 7
    region = population("region", units=units, census=census).iloc[0]
    assert region["population"] == 1008 and region["census_result"] == "mixed"
    # a prefecture missing from the census: its units have no figure (NaN), the region none either
    short = census.iloc[:1]
    assert np.isnan(population("subprefecture", units=units, census=short).set_index("unit_id").at["Q-A",
                                                                                                  "population"])
    assert np.isnan(population("region", units=units, census=short).iloc[0]["population"])


def test_national_total_and_errors():
    total = national_population()
    assert total["population"] == b.load_population()["population_2014"].sum()
    assert total["census_result"] == "mixed" and total["population_rule"] == "census"
    with pytest.raises(ValueError, match="level"):
        population("country")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rule"):
        population("subprefecture", "density")  # type: ignore[arg-type]
    assert set(POPULATION_RULE_LABELS) == {"census", *RULES}
    assert set(CENSUS_RESULT_LABELS) == {"final", "preliminary", "mixed"}
