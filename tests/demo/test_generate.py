from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from demo.generate import (
    DEFAULT_TODAY,
    PLANTED_BLACKSPOTS,
    PLANTED_HOTSPOTS,
    PROGRAMME_FIGURES,
    TABLES,
    TRAINING_COMMUNITIES,
    WOMEN_DAY_PLACES,
    generate,
    summary,
)
from demo.places import metres_to_degrees
from geo.boundaries import load_units, locate
from geo.cells import points_to_cells, to_db
from geo.taxonomy import default_taxonomy

COLUMNS = {
    "station": ["id", "name", "kind", "region_id", "prefecture_id", "subprefecture_id", "lon",
                "lat", "contact"],
    "incident": ["id", "source_id", "occurred_at", "category", "sensitive", "severity",
                 "description", "place_name", "lon", "lat", "precision", "region_id",
                 "prefecture_id", "subprefecture_id", "h3_r6", "h3_r7", "h3_r8", "h3_r9"],
    "road_crash": ["id", "occurred_at", "severity", "killed", "injured", "vehicles", "road_name",
                   "description", "lon", "lat", "region_id", "prefecture_id", "subprefecture_id",
                   "h3_r7", "h3_r8", "h3_r9"],
    "council": ["id", "name", "unit_level", "unit_id", "region_id", "prefecture_id",
                "subprefecture_id", "established_on", "chair_role", "chair_name",
                "members_total", "members_women", "members_youth", "plan_adopted_on"],
    "council_meeting": ["id", "council_id", "held_on", "attendance", "attendance_women",
                        "topics", "decisions"],
    "school": ["id", "name", "level", "region_id", "prefecture_id", "subprefecture_id", "lon",
               "lat", "enrolment"],
    "outreach_officer": ["id", "name", "station_id"],
    "school_visit": ["id", "school_id", "officer_id", "visited_on", "students_reached", "topics"],
    "women_visit_day": ["id", "station_id", "held_on", "women_count", "topics",
                        "complaints_after"],
    "instructor": ["id", "name"],
    "training": ["id", "community_name", "region_id", "prefecture_id", "subprefecture_id",
                 "start_on", "end_on", "module", "officers_trained"],
    "training_instructor": ["training_id", "instructor_id"],
}
FKS = [
    ("council_meeting", "council_id", "council"),
    ("outreach_officer", "station_id", "station"),
    ("school_visit", "school_id", "school"),
    ("school_visit", "officer_id", "outreach_officer"),
    ("women_visit_day", "station_id", "station"),
    ("training_instructor", "training_id", "training"),
    ("training_instructor", "instructor_id", "instructor"),
]
POINT_TABLES = ("station", "incident", "road_crash", "school")
DATE_COLUMNS = [("council", "established_on"), ("council_meeting", "held_on"),
                ("school_visit", "visited_on"), ("women_visit_day", "held_on"),
                ("training", "start_on"), ("training", "end_on")]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate()


def _near(df: pd.DataFrame, spot: dict, k: float = 2.0) -> pd.Series:
    dx, dy = metres_to_degrees(1.0, spot["lat"])
    d = np.hypot((df["lon"] - spot["lon"]) / dx, (df["lat"] - spot["lat"]) / dy)
    return d <= k * spot["sigma_m"]


def test_tables_and_columns(frames):
    assert tuple(frames) == TABLES
    for name, cols in COLUMNS.items():
        assert list(frames[name].columns) == cols, name
        if "id" in cols:
            assert frames[name]["id"].tolist() == list(range(1, len(frames[name]) + 1)), name


def test_deterministic_for_a_seed(frames):
    again = generate()
    for name in TABLES:
        pd.testing.assert_frame_equal(frames[name], again[name], obj=name)
    other = generate(7, n_incidents=300, n_crashes=60)
    head = frames["incident"][["lon", "lat"]].head(300)
    assert not other["incident"][["lon", "lat"]].equals(head)
    assert not other["school"]["lon"].equals(frames["school"]["lon"])


def test_programme_figures_exact(frames):
    assert summary(frames) == PROGRAMME_FIGURES
    assert len(frames["instructor"]) == PROGRAMME_FIGURES["instructors"]
    assert len(frames["outreach_officer"]) == PROGRAMME_FIGURES["school_officers"]
    assert set(frames["school_visit"]["officer_id"]) == set(frames["outreach_officer"]["id"])
    assert set(frames["training"]["subprefecture_id"]) == set(TRAINING_COMMUNITIES.values())
    assert not frames["training_instructor"].duplicated().any()
    assert summary({}) == dict.fromkeys(PROGRAMME_FIGURES, 0)


def test_women_days_at_the_six_places(frames):
    days = frames["women_visit_day"].merge(
        frames["station"][["id", "prefecture_id", "subprefecture_id"]],
        left_on="station_id", right_on="id")
    assert len(days) == PROGRAMME_FIGURES["visitation_days"]
    assert set(days["prefecture_id"]) == set(WOMEN_DAY_PLACES.values())
    towns = set(load_units("subprefecture").query("unit_id.str.endswith('-CENTRE')")["unit_id"])
    assert days["subprefecture_id"].map(lambda s: s in towns or s.startswith("GN-C-")).all()


def test_foreign_keys(frames):
    for child, col, parent in FKS:
        assert frames[child][col].isin(frames[parent]["id"]).all(), f"{child}.{col}"


def test_points_inside_their_units(frames):
    for name in POINT_TABLES:
        df = frames[name]
        loc = locate(df["lon"].to_numpy(), df["lat"].to_numpy())
        assert loc["subprefecture_id"].notna().all(), name
        for col in ("subprefecture_id", "prefecture_id", "region_id"):
            assert (loc[col].to_numpy() == df[col].to_numpy()).all(), f"{name}.{col}"
    council = frames["council"]
    assert (council["unit_id"] == council["subprefecture_id"]).all()
    assert (council["unit_level"] == "subprefecture").all()


def test_h3_columns_match_coordinates(frames):
    for name, resolutions in (("incident", (6, 7, 8, 9)), ("road_crash", (7, 8, 9))):
        df = frames[name].sample(300, random_state=0)
        for res in resolutions:
            expected = to_db(points_to_cells(df["lon"], df["lat"], res, fast=False))
            np.testing.assert_array_equal(df[f"h3_r{res}"].to_numpy(), expected)


def test_counts_non_negative_and_consistent(frames):
    council, meeting = frames["council"], frames["council_meeting"]
    assert (council["members_women"] <= council["members_total"]).all()
    assert (council["members_youth"] <= council["members_total"]).all()
    assert (meeting["attendance_women"] <= meeting["attendance"]).all()
    checks = [("council", ["members_total", "members_women", "members_youth"]),
              ("council_meeting", ["attendance", "attendance_women"]),
              ("school", ["enrolment"]), ("school_visit", ["students_reached"]),
              ("women_visit_day", ["women_count"]), ("training", ["officers_trained"]),
              ("road_crash", ["killed", "injured", "vehicles"])]
    for name, cols in checks:
        assert (frames[name][cols] >= 0).all().all(), name
    complaints = frames["women_visit_day"]["complaints_after"].dropna()
    assert all(isinstance(v, int) and v >= 0 for v in complaints)
    training = frames["training"]
    assert (training["end_on"] >= training["start_on"]).all()
    plans = council.dropna(subset=["plan_adopted_on"])
    assert 0 < len(plans) < len(council)
    assert (plans["plan_adopted_on"] >= plans["established_on"]).all()
    for name, col in DATE_COLUMNS:
        values = frames[name][col]
        assert all(type(v) is dt.date for v in values), f"{name}.{col}"
        assert values.max() <= DEFAULT_TODAY, f"{name}.{col}"
    last = meeting.groupby("council_id")["held_on"].max()
    assert (last < DEFAULT_TODAY - dt.timedelta(days=180)).any()  # some councils went quiet


def test_incidents_categories_and_times(frames):
    inc = frames["incident"]
    tax = default_taxonomy()
    assert inc["category"].isin(tax.codes).all()
    assert (inc["sensitive"] == inc["category"].map(tax.is_sensitive)).all()
    assert 0.08 <= inc["sensitive"].mean() <= 0.12
    assert inc["severity"].between(1, 3).all()
    area = inc["precision"] == "subprefecture"
    assert 0.07 <= area.mean() <= 0.13 and inc["precision"].isin(["point", "subprefecture"]).all()
    names = load_units("subprefecture").set_index("unit_id")["name"]
    assert (inc.loc[area, "place_name"] == inc.loc[area, "subprefecture_id"].map(names)).all()
    assert inc["source_id"].is_unique and inc["source_id"].str.startswith("DEMO-").all()
    assert str(inc["occurred_at"].dt.tz) == "UTC"
    end = pd.Timestamp(DEFAULT_TODAY, tz="UTC")
    assert inc["occurred_at"].min() >= end - pd.DateOffset(months=24)
    assert inc["occurred_at"].max() < end
    urban = inc["subprefecture_id"].str.endswith("-CENTRE") | (inc["prefecture_id"] == "GN-C")
    assert urban.mean() > 0.6


def test_planted_hotspots_and_trends(frames):
    inc = frames["incident"]
    assert len(PLANTED_HOTSPOTS) >= 4
    assert {"emerging", "diminishing"} <= {h["trend"] for h in PLANTED_HOTSPOTS}
    end = pd.Timestamp(DEFAULT_TODAY, tz="UTC")
    for spot in PLANTED_HOTSPOTS:
        near = inc[_near(inc, spot)]
        assert len(near) >= 0.8 * spot["n"], spot["name"]
        recent = near["occurred_at"] >= end - pd.DateOffset(months=3)
        if spot["trend"] == "emerging":
            assert recent.mean() > 0.6
            months = [((near["occurred_at"] >= end - pd.DateOffset(months=m))
                       & (near["occurred_at"] < end - pd.DateOffset(months=m - 1))).sum()
                      for m in (3, 2, 1)]
            assert months[0] < months[1] < months[2]
        if spot["trend"] == "diminishing":
            first = near["occurred_at"] < end - pd.DateOffset(months=12)
            assert first.sum() > 2 * (~first).sum()
    crashes = frames["road_crash"]
    for spot in PLANTED_BLACKSPOTS:
        assert _near(crashes, spot).sum() >= 0.8 * spot["n"], spot["name"]


def test_crash_severity_consistent(frames):
    rc = frames["road_crash"]
    fatal = rc["severity"] == "fatal"
    assert rc["severity"].isin(["fatal", "serious", "slight"]).all()
    assert (rc.loc[fatal, "killed"] >= 1).all() and (rc.loc[~fatal, "killed"] == 0).all()
    assert (rc.loc[~fatal, "injured"] >= 1).all()
    assert rc["vehicles"].between(1, 4).all()
    shares = rc["severity"].value_counts(normalize=True)
    assert 0.05 < shares["fatal"] < 0.15 and 0.5 < shares["slight"] < 0.7


def test_small_run_and_custom_today():
    today = dt.date(2025, 3, 15)
    small = generate(3, n_incidents=120, n_crashes=20, today=today)
    assert len(small["incident"]) == 120 and len(small["road_crash"]) == 20
    assert summary(small) == PROGRAMME_FIGURES
    end = pd.Timestamp(today, tz="UTC")
    assert small["incident"]["occurred_at"].max() < end
    assert small["women_visit_day"]["held_on"].max() < today
