"""Pure parts of the local security plans: drawn shapes, annual/three-year views, progress, version diffs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import shapely

from geo.boundaries import load_units
from geo.plans import (
    action_progress,
    actions_in_year,
    budget_by_year,
    check_priority_shape,
    compare_items,
    plan_progress,
    plan_years,
)


@pytest.fixture(scope="module")
def matam() -> shapely.Geometry:
    units = load_units("subprefecture")
    return units.loc[units["unit_id"] == "GN-C-MATAM"].geometry.iloc[0]


def _square(x: float, y: float, d: float = 0.002, *, closed: bool = True) -> dict:
    ring = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d]]
    return {"type": "Polygon", "coordinates": [ring + ring[:1] if closed else ring]}


def test_a_drawn_area_inside_the_unit_is_accepted_as_is(matam):
    c = matam.representative_point()
    check = check_priority_shape({"type": "Feature", "geometry": _square(c.x, c.y, 0.0005), "properties": {}},
                                  matam)
    assert check.ok and check.kind == "area" and check.warnings == ()
    assert check.geometry.within(matam)


def test_an_open_ring_is_closed_and_said(matam):
    c = matam.representative_point()
    check = check_priority_shape(_square(c.x, c.y, closed=False), matam)
    assert check.ok and check.warnings == ("ring_closed",)
    assert check.geometry.exterior.is_closed and len(check.geometry.exterior.coords) == 5


def test_a_self_crossing_outline_is_repaired(matam):
    c = matam.representative_point()
    d = 0.002
    bowtie = {"type": "Polygon", "coordinates": [[[c.x - d, c.y - d], [c.x + d, c.y + d], [c.x + d, c.y - d],
                                                   [c.x - d, c.y + d], [c.x - d, c.y - d]]]}
    check = check_priority_shape(bowtie, matam)
    assert check.ok and "geometry_repaired" in check.warnings
    assert check.geometry.is_valid and check.geometry.area == pytest.approx((2 * d) ** 2 / 2, rel=1e-6)


def test_shapes_outside_the_unit_are_refused_but_touching_ones_pass(matam):
    far = check_priority_shape({"type": "Point", "coordinates": [-9.27, 10.37]}, matam)  # Kankan
    assert not far.ok and far.errors == ("outside_unit",)
    # 50 m beyond the boundary counts as touching (digitizing slack of 100 m).
    edge = shapely.get_coordinates(matam.exterior)[0]
    west_of_edge = [edge[0] - 0.0004, edge[1]]
    outside = shapely.Point(west_of_edge)
    if outside.within(matam):
        west_of_edge = [edge[0] + 0.0004, edge[1]]
    near = check_priority_shape({"type": "Point", "coordinates": west_of_edge}, matam)
    assert near.ok and near.kind == "point"


def test_a_road_stretch_mostly_outside_is_kept_with_a_warning(matam):
    c = matam.representative_point()
    line = {"type": "LineString", "coordinates": [[c.x, c.y], [c.x + 0.5, c.y]]}  # 55 km east, mostly outside
    check = check_priority_shape(line, matam)
    assert check.ok and check.kind == "line" and check.warnings == ("extends_outside_unit",)


@pytest.mark.parametrize(("geometry", "code"), [
    (None, "geometry_missing"),
    ({"type": "Polygon", "coordinates": [[[-13.65, 9.54], [-13.64, 9.54], [-13.65, 9.54]]]}, "too_few_points"),
    ({"type": "LineString", "coordinates": [[-13.65, 9.54]]}, "too_few_points"),
    ({"type": "Polygon", "coordinates": "nonsense"}, "geometry_invalid"),
    ("POLYGON ((", "geometry_invalid"),
    ({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [-13.65, 9.54]}]},
     "mixed_geometry"),
    ({"type": "Point", "coordinates": [200.0, 9.54]}, "coordinates_out_of_range"),
    ({"type": "LineString", "coordinates": [[-13.65, 9.54], [-13.65, 9.54]]}, "geometry_degenerate"),
    ({"type": "Polygon", "coordinates": [[[-13.65, 9.54], [-13.64, 9.54], [-13.63, 9.54], [-13.65, 9.54]]]},
     "geometry_degenerate"),  # an outline whose corners lie on one line
])
def test_unusable_shapes_are_refused_with_their_reason(matam, geometry, code):
    check = check_priority_shape(geometry, matam)
    assert not check.ok and check.errors == (code,)


def _actions() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4],
        "start_on": [dt.date(2027, 7, 1), dt.date(2027, 1, 1), dt.date(2028, 3, 1), dt.date(2027, 1, 1)],
        "end_on": [dt.date(2028, 6, 30), dt.date(2027, 3, 31), dt.date(2029, 12, 31), dt.date(2027, 6, 30)],
        "budget_gnf": [366.0, 90.0, np.nan, 10.0],
        "status": ["planned", "planned", "planned", "cancelled"],
        "baseline": [20.0, np.nan, 0.0, np.nan],
        "target": [10.0, np.nan, 100.0, np.nan],
    })


def test_years_of_a_period_and_the_annual_view():
    assert plan_years(dt.date(2027, 1, 1), dt.date(2029, 12, 31)) == [2027, 2028, 2029]
    actions = _actions()
    assert actions_in_year(actions, 2027)["id"].tolist() == [1, 2, 4]
    assert actions_in_year(actions, 2028)["id"].tolist() == [1, 3]
    assert actions_in_year(actions, 2030).empty


def test_budget_is_spread_over_the_years_by_days():
    spread = budget_by_year(_actions(), [2027, 2028, 2029])
    # 1 July 2027 - 30 June 2028: 184 days in 2027, 182 in 2028 (a leap year), 366 in all.
    assert spread.loc[0].tolist() == pytest.approx([184.0, 182.0, 0.0])
    assert spread.loc[1].tolist() == pytest.approx([90.0, 0.0, 0.0])
    assert spread.loc[2].isna().all()  # no budget stated stays unknown, not zero
    assert spread.to_numpy()[np.isfinite(spread.to_numpy())].sum() == pytest.approx(466.0)


def test_progress_reads_the_latest_follow_up_entries():
    followups = pd.DataFrame({
        "id": [1, 2, 3, 4, 5],
        "action_id": [1, 1, 1, 2, 3],
        "recorded_on": [dt.date(2027, 9, 1), dt.date(2028, 1, 1), dt.date(2028, 1, 1), dt.date(2027, 3, 1),
                        dt.date(2028, 6, 1)],
        "status": ["in_progress", "delayed", None, "done", None],
        "indicator_value": [18.0, np.nan, 15.0, np.nan, 150.0],
    })
    progress = action_progress(_actions(), followups, today=dt.date(2028, 7, 15))
    assert progress["status"].tolist() == ["delayed", "done", "planned", "cancelled"]
    assert progress["value"].tolist()[:1] == [15.0]  # same day: the later entry wins
    assert progress["progress"].tolist()[0] == pytest.approx(0.5)  # 20 -> 15 of 20 -> 10
    assert progress["progress"].tolist()[1] == 1.0  # done without an indicator
    assert progress["progress"].tolist()[2] == 1.0  # beyond the target is clipped
    assert np.isnan(progress["progress"].tolist()[3])
    assert progress["late"].tolist() == [True, False, False, False]  # ended 30 June 2028, not done
    summary = plan_progress(progress, _actions()["budget_gnf"])
    assert summary["actions"] == 4 and summary["done"] == 1 and summary["cancelled"] == 1
    assert summary["late"] == 1 and summary["share_done"] == pytest.approx(1 / 3)
    assert summary["mean_progress"] == pytest.approx((0.5 + 1.0 + 1.0) / 3)
    assert summary["budget_gnf"] == 466.0


def test_progress_without_follow_up_keeps_the_planned_status():
    empty = pd.DataFrame(columns=["id", "action_id", "recorded_on", "status", "indicator_value"])
    progress = action_progress(_actions(), empty, today=dt.date(2027, 1, 1))
    assert progress["status"].tolist() == ["planned", "planned", "planned", "cancelled"]
    assert not progress["late"].any() and progress["value"].isna().all()


def test_versions_are_compared_item_by_item():
    old = pd.DataFrame({"id": [10, 11, 12], "origin_id": [None] * 3, "rank": [1, 2, 3],
                        "title": ["Marché", "Gare routière", "Carrefour"], "category": ["vol", "vol", None],
                        "description": [None] * 3, "raised_by": ["women", "youth", None],
                        "kind": ["area", "area", "point"], "wkb": [b"a", b"b", b"c"]})
    new = pd.DataFrame({"id": [20, 21, 22], "origin_id": [10, 11, None], "rank": [1, 3, 2],
                        "title": ["Marché", "Gare routière", "École"], "category": ["vol", "vol", None],
                        "description": [None] * 3, "raised_by": ["women", "youth", "schools"],
                        "kind": ["area", "area", "point"], "wkb": [b"a", b"b2", b"d"]})
    diff = compare_items(old, new, "priority").set_index("title")
    assert diff.loc["Marché", "change"] == "same"
    assert diff.loc["Gare routière", "change"] == "changed" and diff.loc["Gare routière", "fields"] == "rank, wkb"
    assert diff.loc["École", "change"] == "added"
    assert diff.loc["Carrefour", "change"] == "removed"
