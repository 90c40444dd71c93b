"""Hot spot, emerging and black spot layers as rendered HTML: only what is significant, coloured by
class, with a legend, and every name escaped."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from geo import cells
from i18n import Translator
from i18n.vocabulary import EMERGING_COLORS, GI_BIN_COLORS
from layers import REGISTRY, blackspots, emerging, hotspots
from layers.mapframe import finish, make_map

XSS = '<img src=x onerror=alert(1)></script><script>alert(2)</script>'


def _render(group) -> str:
    m = make_map(Translator("en"))
    group.add_to(m)
    html = finish(m).get_root().render()
    return re.sub(r"\\u([0-9a-f]{4})", lambda c: chr(int(c.group(1), 16)), html)


def _features(html: str) -> list[dict]:
    """The GeoJSON features embedded in the page (folium writes them as JSON literals)."""
    out = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r'"features": (?=\[)', html):
        features, _ = decoder.raw_decode(html[match.end():])
        out.extend(features)
    return out


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    disk = np.sort(cells.polygon_to_cells(shapely.box(-13.68, 9.53, -13.64, 9.57), 8))
    lon, lat = cells.centers(disk)
    n = len(disk)
    bins = np.zeros(n, int)
    bins[:5], bins[5:8], bins[8:10], bins[10:12] = 3, 2, 1, -2
    return pd.DataFrame({"cell": cells.to_str(disk), "count": np.arange(n), "gi_z": np.linspace(9, -3, n),
                         "gi_p": np.full(n, 0.01), "gi_bin": bins, "lon": lon, "lat": lat})


def test_hotspot_layer_sends_only_significant_cells(study):
    html = _render(hotspots.build(study, t=Translator("en")))
    features = _features(html)
    assert len(features) == 12 == int((study["gi_bin"] != 0).sum())
    assert {f["properties"]["bin"] for f in features} == {3, 2, 1, -2}
    assert "Hot spot, 99 % confidence" in html and "Cold spot, 95 % confidence" in html
    assert "Cold spot, 99 % confidence" not in html  # legend lists the classes present only
    assert GI_BIN_COLORS[3] in html
    capped = _features(_render(hotspots.build(study, t=Translator("en"), max_cells=4)))
    assert len(capped) == 4 and all(f["properties"]["bin"] == 3 for f in capped)  # strongest first


def test_emerging_layer_colours_patterns_and_skips_no_pattern(study):
    table = study.assign(category=pd.Categorical(["intensifying hot spot"] * 3 + ["no pattern"] * (len(study) - 4)
                                                 + ["diminishing hot spot"]),
                         last=1, trend_z=2.0, trend_p=0.01)
    html = _render(emerging.build(table, t=Translator("fr")))
    features = _features(html)
    assert len(features) == 4
    assert {f["properties"]["category"] for f in features} == {"intensifying hot spot", "diminishing hot spot"}
    assert EMERGING_COLORS["intensifying hot spot"] in html and "Point chaud en intensification" in html


def test_blackspot_layer_escapes_road_and_place_names():
    line = shapely.LineString([(-13.49, 9.70), (-13.48, 9.705)])
    table = gpd.GeoDataFrame({
        "rank": [1, 2], "road": [XSS, "RN1"], "place": ["Manéah, Coyah", XSS], "crashes": [10, 3],
        "fatal": [2, 0], "serious": [3, 1], "slight": [5, 2], "killed": [2, 0], "injured": [7, 2],
        "epdo": [40.0, 7.0], "trend": ["increasing", "no trend"], "lon": [-13.485, -13.485],
        "lat": [9.702, 9.702]}, geometry=[line, line], crs="EPSG:4326")
    html = _render(blackspots.build(table, t=Translator("en")))
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    features = _features(html)
    assert len(features) == 2 and features[0]["geometry"]["type"] == "LineString"
    assert "Black spot no. 1" in features[0]["properties"]["label"]
    assert "increasing" in features[0]["properties"]["label"]
    assert r'class=\"lbl-rank\">1<' in html


def test_new_layers_are_registered():
    assert {"hotspots", "emerging", "density", "blackspots"} <= set(REGISTRY)
