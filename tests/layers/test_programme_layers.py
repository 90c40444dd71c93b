"""Programme layers (councils, schools, women's days, trainings, stations) as rendered map HTML:
names, colours by class, legends, sizes ordered by value, escaped user text, empty input, local assets."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from i18n import Translator
from layers import REGISTRY, councils, schools, stations, trainings, women_days
from layers.base import as_date, point_collection, reference_values, sqrt_radius
from layers.mapframe import finish, make_map

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(2)</script>"
XSS = IMG + SCRIPT
EN = Translator("en")
FR = Translator("fr")
URL = re.compile(r"https?://[^\s\"'<>)\\]+")


def _unescape_js(html: str) -> str:
    return re.sub(r"\\u([0-9a-f]{4})", lambda c: chr(int(c.group(1), 16)), html)


def _render(group, t: Translator = EN) -> str:
    m = make_map(t)
    group.add_to(m)
    return _unescape_js(finish(m).get_root().render())


def _features(html: str) -> list[dict]:
    """The GeoJSON features embedded in the page (folium writes them as JSON literals)."""
    out = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r'"features": (?=\[)', html):
        features, _ = decoder.raw_decode(html[match.end():])
        out.extend(features)
    return out


def _styles(html: str) -> dict[str, dict]:
    """Style of each feature id, read back from folium's generated ``..._styler`` switch."""
    body = re.search(r"_styler\(feature\) \{\s*switch\(feature\.id\) \{(.*?)\n\s*\}\n\s*\}", html, re.S).group(1)
    styles: dict[str, dict] = {}
    for cases, style in re.findall(r"((?:case \"[^\"]+\":\s*)+)return (\{.*?\});", body, re.S):
        for key in re.findall(r'case "([^"]+)"', cases):
            styles[key] = json.loads(style)
    styles["default"] = json.loads(re.search(r"default:\s*return (\{.*?\});", body, re.S).group(1))
    return styles


def _style_of(styles: dict[str, dict], feature: dict) -> dict:
    return styles.get(feature["id"], styles["default"])


def _legend(html: str) -> str:
    return "".join(re.findall(r"div\.innerHTML = (\".*?\");", html))


def _assert_escaped(html: str) -> None:
    assert IMG not in html and SCRIPT not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html


BARE_URLS = set(URL.findall(_unescape_js(finish(make_map(EN)).get_root().render())))


# --- fixtures: small hand-made frames with the indicator frames' columns --------------------------------

@pytest.fixture()
def units() -> gpd.GeoDataFrame:
    boxes = [shapely.box(-13.7 + 0.1 * i, 9.5, -13.6 + 0.1 * i + 1e-7 / 3, 9.6) for i in range(4)]
    return gpd.GeoDataFrame({"unit_id": ["GN-A", "GN-B", "GN-C", "GN-D"], "name": ["Alpha", XSS, "Gamma", "Delta"]},
                            geometry=boxes, crs="EPSG:4326")


@pytest.fixture()
def status() -> pd.DataFrame:
    return pd.DataFrame({
        "subprefecture_id": ["GN-B", "GN-C", "GN-D"], "status": ["set_up", "active", "plan_adopted"],
        "councils": [1, 2, 1], "council_names": [XSS, "CLSPD Gamma; CLSPD Gamma-Nord", "CLSPD Delta"],
        "members_total": [10, 20, 0], "members_women": [4, 5, 0], "members_youth": [3, 10, 0],
        "women_share": [0.4, 0.25, np.nan], "youth_share": [0.3, 0.5, np.nan],
        "last_meeting": [pd.NaT, pd.Timestamp("2026-03-12"), dt.date(2025, 11, 2)], "meetings": [0, 4, 1],
    })


@pytest.fixture()
def reach() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4, 5], "name": [XSS, "Collège de Kipé", "Lycée de Dixinn", "École primaire de Coyah", "Far"],
        "level": ["primary", "junior", "high", XSS, None],
        "lon": [-13.60, -13.61, -13.62, -13.63, np.nan], "lat": [9.50, 9.51, 9.52, 9.53, np.nan],
        "subprefecture_id": ["GN-A"] * 5, "prefecture_id": ["GN-C"] * 5,
        "visits": [1, 4, 2, 0, 3], "students_reached": [25, 400, 100, 0, 50],
        "last_visit": [dt.date(2026, 3, 1), pd.Timestamp("2025-12-01"), pd.Timestamp("2024-05-10"), pd.NaT,
                       dt.date(2026, 1, 1)],
        "days_since_last_visit": [30, 200, 500, np.nan, 40],
        "topics": [XSS, "drogues; sécurité routière", "violences", None, "x"],
    })


@pytest.fixture()
def women() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [7, 8, 9], "name": [XSS, "Commissariat central de Kankan", "Poste de police de Madina"],
        "kind": ["commissariat", "commissariat", "poste"], "lon": [-13.6, -9.3, -13.66], "lat": [9.5, 10.38, 9.54],
        "subprefecture_id": ["GN-A", "GN-B", "GN-C"], "prefecture_id": ["GN-C", "GN-KA", "GN-C"],
        "days": [3, 5, 1], "women": [40, 160, 10], "complaints_after": [2, np.nan, 0],
        "last_day": [pd.Timestamp("2026-02-03"), dt.date(2026, 4, 21), pd.NaT],
    })


@pytest.fixture()
def communities() -> pd.DataFrame:
    return pd.DataFrame({
        "community_name": [XSS, "Kankan", "Labé"], "subprefecture_id": ["GN-C-MATOTO", "GN-KA-X", "GN-LA-X"],
        "prefecture_id": ["GN-C", "GN-KA", "GN-LA"], "lon": [-13.6, -9.3, -12.28], "lat": [9.55, 10.38, 11.32],
        "trainings": [6, 4, 1], "officers_trained": [320, 80, 20], "instructors": [9, 5, 2],
        "modules": ["doctrine; vbg; " + XSS, "doctrine; ordre_public", "police_scolaire; mediation"],
        "first_start": [dt.date(2015, 3, 2), pd.Timestamp("2016-01-10"), dt.date(2019, 6, 3)],
        "last_end": [dt.date(2019, 11, 29), pd.Timestamp("2018-05-04"), dt.date(2019, 6, 3)],
    })


@pytest.fixture()
def station_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3, 4], "name": [XSS, "Poste de police de Bambeto", "Brigade de gendarmerie de Coyah", "Autre"],
        "kind": ["commissariat", "poste", "brigade", XSS], "contact": ["a@demo.invalid", XSS, None, "622 00 00 00"],
        "lon": [-13.71, -13.62, -13.43, -13.5], "lat": [9.51, 9.60, 9.71, 9.8], "subprefecture_id": ["GN-A"] * 4,
    })


BUILDERS = {
    "councils": lambda f, t: councils.build(f["units"], f["status"], t=t),
    "schools": lambda f, t: schools.build(f["reach"], t=t),
    "women_days": lambda f, t: women_days.build(f["women"], t=t),
    "trainings": lambda f, t: trainings.build(f["communities"], t=t),
    "stations": lambda f, t: stations.build(f["station_frame"], t=t),
}


@pytest.fixture()
def frames(units, status, reach, women, communities, station_frame) -> dict:
    return {"units": units, "status": status, "reach": reach, "women": women, "communities": communities,
            "station_frame": station_frame}


# --- shared pieces --------------------------------------------------------------------------------------

def test_sqrt_radius_matches_areas_and_keeps_a_minimum():
    values = np.array([0, 1, 25, 100, np.nan, -5, 400])
    naive = [max(3.0, 16 * (max(v, 0) / 400) ** 0.5) if v == v else 3.0 for v in values]
    assert np.allclose(sqrt_radius(values, 400, r_max=16), np.round(np.array(naive) * 2) / 2)
    assert sqrt_radius([100, 400], 400, r_max=16).tolist() == [8.0, 16.0]  # 4x the value, 2x the radius
    assert sqrt_radius([0, 0], 0, r_max=16).tolist() == [3.0, 3.0]


def test_reference_values_are_round_and_descending():
    assert reference_values(400) == [400, 100, 20]
    assert reference_values(1240) == [1000, 300, 70]
    assert reference_values(3) == [3]
    assert reference_values(0) == [] and reference_values(float("nan")) == []


def test_as_date_and_point_collection():
    assert as_date(pd.Timestamp("2026-03-12 14:00")) == dt.date(2026, 3, 12)
    assert as_date(dt.datetime(2026, 3, 12, 9)) == dt.date(2026, 3, 12)
    assert as_date(dt.date(2026, 3, 12)) == dt.date(2026, 3, 12)
    assert as_date(np.datetime64("2026-03-12")) == dt.date(2026, 3, 12)
    assert all(as_date(v) is None for v in (None, pd.NaT, np.nan, np.datetime64("NaT")))
    fc = point_collection([-13.1234567, 0.0], [9.9876543, 1.0], {"a": ["x", "y"]})
    assert [f["id"] for f in fc["features"]] == ["0", "1"]
    assert fc["features"][0]["geometry"]["coordinates"] == [-13.12346, 9.98765]
    assert fc["features"][1]["properties"] == {"a": "y"}


# --- every layer ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(BUILDERS))
def test_layer_escapes_every_text_field_and_needs_no_remote_asset(key, frames):
    html = _render(BUILDERS[key](frames, EN))
    _assert_escaped(html)
    assert set(URL.findall(html)) <= BARE_URLS


@pytest.mark.parametrize("key", sorted(BUILDERS))
def test_layer_is_registered_with_a_title(key):
    spec = REGISTRY[key]
    assert spec.key == key and spec.title and callable(spec.build)


@pytest.mark.parametrize("key", sorted(BUILDERS))
@pytest.mark.parametrize("empty", [pd.DataFrame(), None])
def test_empty_input_gives_an_empty_group(key, frames, empty):
    empty_frames = dict.fromkeys(frames, empty)
    if key == "councils":
        empty_frames["units"] = frames["units"].iloc[:0]
    group = BUILDERS[key](empty_frames, EN)
    assert len(group._children) == 0
    _render(group)  # an empty group still renders


@pytest.mark.parametrize("key", sorted(BUILDERS))
def test_layer_renders_in_french_with_french_numbers_and_dates(key, frames):
    html = _render(BUILDERS[key](frames, FR), FR)
    assert len(_features(html)) > 0
    _assert_escaped(html)
    french = {"councils": "12 mars 2026", "schools": "1 mars 2026", "women_days": "21 avr. 2026",
              "trainings": "2 mars 2015", "stations": None}[key]
    if french:
        assert french in html


# --- councils -------------------------------------------------------------------------------------------

def test_council_units_are_coloured_by_status_with_gaps_dashed(units, status):
    html = _render(councils.build(units, status, t=EN, active_within_days=365))
    features = _features(html)
    assert len(features) == 4
    by_unit = {f["properties"]["name"]: f for f in features}
    styles = _styles(html)
    expected = {"Alpha": "none", "&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;&lt;script&gt;alert(2)"
                "&lt;/script&gt;": "set_up", "Gamma": "active", "Delta": "plan_adopted"}
    for name, state in expected.items():
        feature = by_unit[name]
        assert feature["properties"]["status"] == state
        style = _style_of(styles, feature)
        assert style["fillColor"] == councils.STATUS_COLORS[state]
        assert ("dashArray" in style) == (state == "none")
    assert by_unit["Alpha"]["properties"]["status_label"] == "No council"
    assert by_unit["Gamma"]["properties"]["women"] == "5 (25 %)"
    assert by_unit["Gamma"]["properties"]["youth"] == "10 (50 %)"
    assert by_unit["Gamma"]["properties"]["last_meeting"] == "Mar 12, 2026"
    assert by_unit["Gamma"]["properties"]["council_names"] == "CLSPD Gamma; CLSPD Gamma-Nord"
    assert by_unit["Delta"]["properties"]["women"] == "0"  # no members: no share
    assert by_unit["Delta"]["properties"]["last_meeting"] == "Nov 2, 2025"
    assert by_unit["Alpha"]["properties"]["last_meeting"] == "–"
    # legend: every state, best first, with the number of units
    legend = _legend(html)
    positions = [legend.index(f"{label} (1)") for label in
                 ("Local security plan adopted", "Active council", "Council set up", "No council")]
    assert positions == sorted(positions)
    assert "Active: met within the last 365 days." in legend
    # coordinates rounded to ~1 m
    ring = features[0]["geometry"]["coordinates"][0]
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in ring)


def test_council_layer_without_any_council_shows_every_unit_as_a_gap(units):
    features = _features(_render(councils.build(units, pd.DataFrame(), t=EN)))
    assert [f["properties"]["status"] for f in features] == ["none"] * 4


def test_council_status_is_checked(units, status):
    with pytest.raises(ValueError, match="unknown council status dormant"):
        councils.build(units, status.assign(status=["set_up", "dormant", "active"]), t=EN)
    with pytest.raises(ValueError, match="one row per sub-prefecture.*GN-B"):
        councils.build(units, pd.concat([status, status.iloc[:1]]), t=EN)
    with pytest.raises(ValueError, match="subprefecture_id"):
        councils.build(units, status.drop(columns="subprefecture_id"), t=EN)


# --- schools --------------------------------------------------------------------------------------------

def test_schools_are_sized_by_students_and_coloured_by_recency(reach):
    html = _render(schools.build(reach, t=EN))
    features = _features(html)
    assert len(features) == 4  # the school without coordinates cannot be placed
    styles = _styles(html)
    students = {"&lt;img": 25, "Collège de Kipé": 400, "Lycée de Dixinn": 100, "École primaire de Coyah": 0}
    classes = {"&lt;img": "recent", "Collège de Kipé": "months", "Lycée de Dixinn": "old",
               "École primaire de Coyah": "never"}
    radii = {}
    for feature in features:
        name = next(k for k in students if feature["properties"]["name"].startswith(k))
        style = _style_of(styles, feature)
        assert style["fillColor"] == schools.RECENCY_COLORS[classes[name]]
        radii[name] = style["radius"]
    assert radii == {"Collège de Kipé": 16.0, "Lycée de Dixinn": 8.0, "&lt;img": 4.0, "École primaire de Coyah": 3.0}
    # drawn biggest first so small circles stay on top
    assert [f["properties"]["students"] for f in features] == ["400", "100", "25", "0"]
    props = {f["properties"]["name"]: f["properties"] for f in features}
    assert props["Collège de Kipé"]["level"] == "Junior secondary school"
    assert props["Collège de Kipé"]["last_visit"] == "Dec 1, 2025"
    assert props["École primaire de Coyah"]["last_visit"] == "never"
    assert props["Collège de Kipé"]["topics"] == "drogues; sécurité routière"
    legend = _legend(html)
    for label in ("Less than 3 months ago", "3 to 12 months ago", "More than 12 months ago", "Never visited",
                  "400 students", "100 students", "20 students"):
        assert label in legend
    assert re.search(r'class=\\"dot\\" style=\\"width:32px;height:32px', legend)  # 400 -> r_max


def test_recency_classes_break_at_3_and_12_months():
    got = schools.recency(np.array([0, 90, 91, 364, 365, 2000, np.nan]))
    assert got.tolist() == ["recent", "recent", "months", "months", "old", "old", "never"]


# --- women's days ---------------------------------------------------------------------------------------

def test_women_days_sized_by_participants_with_unknown_complaints(women):
    html = _render(women_days.build(women, t=EN))
    features = _features(html)
    styles = _styles(html)
    assert [f["properties"]["women"] for f in features] == ["160", "40", "10"]
    radii = [_style_of(styles, f)["radius"] for f in features]
    assert radii == sorted(radii, reverse=True) and radii[0] == women_days.R_MAX
    assert radii[1] == pytest.approx(women_days.R_MAX / 2)  # a quarter of the women, half the radius
    props = {f["properties"]["women"]: f["properties"] for f in features}
    assert props["160"]["complaints"] == "not known" and props["40"]["complaints"] == "2"
    assert props["10"]["complaints"] == "0"
    assert props["160"]["last_day"] == "Apr 21, 2026" and props["10"]["last_day"] == "–"
    assert props["160"]["days"] == "5"
    legend = _legend(html)
    assert "100 women" in legend and "Stations: 3 · days: 9 · women: 210" in legend
    assert women_days.COLOR in legend


# --- trainings ------------------------------------------------------------------------------------------

def test_trainings_translate_modules_and_show_the_period(communities):
    html = _render(trainings.build(communities, t=EN))
    features = _features(html)
    assert [f["properties"]["officers"] for f in features] == ["320", "80", "20"]
    radii = [_style_of(_styles(html), f)["radius"] for f in features]
    assert radii == [24.0, 12.0, 6.0]
    props = {f["properties"]["officers"]: f["properties"] for f in features}
    assert props["320"]["modules"].startswith("Community policing doctrine, Response to gender-based violence, "
                                              "&lt;img")
    assert props["80"]["modules"] == "Community policing doctrine, Maintaining public order"
    assert props["20"]["modules"] == "Police at school, Mediation"
    assert props["320"]["period"] == "Mar 2, 2015 to Nov 29, 2019"
    assert props["20"]["period"] == "Jun 3, 2019"  # one day
    assert props["80"]["instructors"] == "5" and props["80"]["trainings"] == "4"
    legend = _legend(html)
    assert "300 officers" in legend and "Communities: 3 · officers trained: 420" in legend


def test_module_text_keeps_unknown_codes_as_recorded():
    assert trainings.module_text("vbg;  nouveau ", FR) != "–"
    assert trainings.module_text("nouveau", EN) == "nouveau"
    assert trainings.module_text(None, EN) == "–" and trainings.module_text(np.nan, EN) == "–"


# --- stations -------------------------------------------------------------------------------------------

def test_stations_are_coloured_by_kind_with_a_neutral_unknown_kind(station_frame):
    html = _render(stations.build(station_frame, t=EN))
    features = _features(html)
    styles = _styles(html)
    colours = [_style_of(styles, f)["fillColor"] for f in features]
    assert colours == [stations.KIND_COLORS["commissariat"], stations.KIND_COLORS["poste"],
                       stations.KIND_COLORS["brigade"], stations.OTHER_COLOR]
    assert _style_of(styles, features[0])["radius"] > _style_of(styles, features[1])["radius"]
    labels = [f["properties"]["kind_label"] for f in features]
    assert labels[:3] == ["Police station (commissariat)", "Police post", "Gendarmerie brigade"]
    assert labels[3].startswith("&lt;img")
    assert features[2]["properties"]["contact"] == "–"
    legend = _legend(html)
    assert "Gendarmerie brigade" in legend and "Other kind" in legend and stations.OTHER_COLOR in legend


def test_many_stations_are_clustered_with_escaped_tooltips(station_frame):
    big = pd.concat([station_frame] * 3, ignore_index=True)
    html = _render(stations.build(big, t=EN, cluster_above=10))
    assert "L.markerClusterGroup" in html and "bindTooltip" in html
    assert _features(html) == []
    _assert_escaped(html)
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in html
    assert html.count("Poste de police de Bambeto") == 3
    plain = _render(stations.build(big, t=EN))  # below the default threshold: one GeoJSON, no clustering
    assert len(_features(plain)) == 12 and "L.markerClusterGroup" not in plain
