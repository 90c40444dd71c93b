"""The vendored hierarchy: counts, nesting, coverage quality, lookups by point and id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import shapely

from geo import boundaries as b

EQUAL_AREA = "ESRI:102022"


@pytest.mark.parametrize(("level", "count"), [("region", 8), ("prefecture", 34), ("subprefecture", 340)])
def test_level_counts_and_unique_ids(level, count):
    units = b.load_units(level)
    assert len(units) == count
    assert units["unit_id"].is_unique
    assert units.crs.to_epsg() == 4326
    assert units.is_valid.all()


def test_ids_are_iso_codes_for_regions_and_prefectures():
    regions = set(b.load_units("region")["unit_id"])
    assert regions == {"GN-B", "GN-C", "GN-D", "GN-F", "GN-K", "GN-L", "GN-M", "GN-N"}
    prefs = b.load_units("prefecture")
    assert prefs["unit_id"].str.fullmatch(r"GN-[A-Z]{1,2}").all()
    subs = b.load_units("subprefecture")
    assert (subs["unit_id"].str.split("-").str[:2].str.join("-") == subs["prefecture_id"]).all()


def test_names_keep_accents_and_have_ascii_forms():
    prefs = b.load_units("prefecture").set_index("unit_id")
    assert prefs.at["GN-NZ", "name"] == "Nzérékoré"
    assert prefs.at["GN-NZ", "name_ascii"] == "Nzerekore"
    subs = b.load_units("subprefecture").set_index("unit_id")
    assert subs.at["GN-GU-GUECKEDOU-CENTRE", "name"] == "Guéckédou Centre"
    assert not b.load_units()["name"].str.contains("Ctre").any()


def test_every_subprefecture_has_a_prefecture_and_region_that_agree():
    subs = b.load_units("subprefecture")
    prefs = b.load_units("prefecture").set_index("unit_id")
    assert subs["prefecture_id"].notna().all()
    assert (subs["region_id"].to_numpy() == prefs.loc[subs["prefecture_id"], "region_id"].to_numpy()).all()
    conakry = sorted(subs.loc[subs["prefecture_id"] == "GN-C", "name"])
    assert conakry == ["Dixinn", "Kaloum", "Matam", "Matoto", "Ratoma"]


@pytest.mark.parametrize(("child", "parent_level"), [("subprefecture", "prefecture"), ("prefecture", "region")])
def test_children_inside_parents_and_tile_them_exactly(child, parent_level):
    kids = b.load_units(child).to_crs(EQUAL_AREA)
    parents = b.load_units(parent_level).to_crs(EQUAL_AREA).set_index("unit_id")
    for pid, group in kids.groupby("parent_id"):
        parent = parents.loc[pid, "geometry"]
        union = shapely.union_all(group.geometry.values)
        outside = shapely.difference(union, parent).area
        gap = shapely.difference(parent, union).area
        assert outside / parent.area < 1e-6, f"{pid}: children outside parent"
        assert gap / parent.area < 1e-6, f"{pid}: gap between children"


@pytest.mark.parametrize("level", b.LEVELS)
@pytest.mark.parametrize("detail", b.DETAILS)
def test_display_variants_are_gap_and_overlap_free(level, detail):
    disp = b.load_display(level, detail)
    assert len(disp) == len(b.load_units(level))
    assert disp.is_valid.all()
    assert shapely.coverage_is_valid(disp.geometry.values)
    edges = shapely.coverage_invalid_edges(disp.geometry.values)
    assert shapely.is_empty(edges).all()
    full = b.load_units(level).to_crs(EQUAL_AREA).area.sum()
    assert abs(disp.to_crs(EQUAL_AREA).area.sum() - full) / full < 0.01


def test_display_is_lighter_at_lower_detail():
    counts = [shapely.get_num_coordinates(b.load_display("subprefecture", d).geometry.values).sum() for d in b.DETAILS]
    assert counts[0] < counts[1] < counts[2]


def test_locate_known_points_and_outside():
    lon = np.array([-13.712, -8.82, -9.18, -15.5, np.nan])
    lat = np.array([9.515, 7.75, 10.385, 9.0, 10.0])
    found = b.locate(lon, lat)
    assert found.loc[0, "subprefecture_id"] == "GN-C-KALOUM"
    assert found.loc[0, "region_id"] == "GN-C"
    assert found.loc[2, "prefecture_id"] == "GN-KA"
    assert found.loc[1, "region_id"] == "GN-N"
    assert pd.isna(found.loc[3, "subprefecture_id"]) and pd.isna(found.loc[4, "subprefecture_id"])


def test_locate_agrees_with_representative_points_vectorized():
    subs = b.load_units("subprefecture")
    found = b.locate(subs["label_lon"], subs["label_lat"])
    assert (found["subprefecture_id"].to_numpy() == subs["unit_id"].to_numpy()).all()


def test_locate_with_no_point_inside_guinea():
    found = b.locate([-17.44, 2.35], [14.69, 48.85])
    assert found["subprefecture_id"].isna().all() and len(found) == 2
    assert b.locate([], []).empty


def test_locate_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same length"):
        b.locate([1.0, 2.0], [1.0])


def test_hierarchy_navigation():
    assert b.parent("GN-C-KALOUM")["unit_id"] == "GN-C"
    assert b.parent("GN-KA")["unit_id"] == "GN-K"
    assert b.parent("GN-K", "region") is None
    assert sorted(b.children("GN-C")["name"]) == ["Dixinn", "Kaloum", "Matam", "Matoto", "Ratoma"]
    assert b.children("GN-C", "region")["unit_id"].tolist() == ["GN-C"]
    assert set(b.children("GN-N", "region")["unit_id"]) == {"GN-BE", "GN-GU", "GN-LO", "GN-MC", "GN-NZ", "GN-YO"}
    assert b.children("GN-C-KALOUM").empty
    assert b.ancestors("GN-KA-KANKAN-CENTRE") == {"region": "GN-K", "prefecture": "GN-KA",
                                                  "subprefecture": "GN-KA-KANKAN-CENTRE"}
    with pytest.raises(KeyError, match="GN-XX"):
        b.get_unit("GN-XX")
    with pytest.raises(ValueError, match="level"):
        b.load_units("district")


def test_population_is_vendored_with_flags():
    prefs = b.load_units("prefecture").set_index("unit_id")
    assert prefs.at["GN-C", "population_2014"] == 1_667_864
    assert prefs.at["GN-C", "census_result"] == "preliminary"
    assert prefs.at["GN-BK", "census_result"] == "final"
    assert prefs["population_2014"].sum() == 10_545_203
    regions = b.load_units("region").set_index("unit_id")
    assert regions.at["GN-K", "census_result"] == "preliminary"
    assert regions["population_2014"].sum() == 10_545_203
    assert b.load_units("subprefecture")["population_2014"].isna().all()


def test_coast_runs_along_the_atlantic():
    outline = b.load_outline().set_index("kind")
    coast = outline.at["coast", "geometry"]
    country = outline.at["country", "geometry"]
    minx, miny, maxx, maxy = coast.bounds
    assert maxx < -13.0 and minx > -15.2 and miny > 8.9 and maxy < 11.2
    assert coast.length > 3.0  # degrees: the indented coast is far longer than its 3° span
    assert shapely.distance(coast, country.boundary) < 1e-9
