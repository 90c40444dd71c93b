"""Incidents layer as rendered HTML: escaping, aggregation, legends, local assets, payload size."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import folium

from geo import cells
from geo.taxonomy import default_taxonomy
from i18n import Translator
from layers import incidents
from layers.assets import localize
from layers.mapframe import make_map

PAYLOAD = '<img src=x onerror=alert(1)></script><script>alert(2)</script>'


def _points(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "id": range(n), "occurred_at": pd.date_range("2026-03-01", periods=n, tz="UTC"),
        "category": ["vol"] * n, "sensitive": [False] * n, "severity": [1] * n,
        "description": [PAYLOAD] * n, "place_name": ["Marché <b>Madina</b>"] * n,
        "lon": np.linspace(-13.66, -13.65, n), "lat": [9.55] * n, "precision": ["point"] * (n - 1) + ["subprefecture"],
        "is_demo": [True] * n,
    })


def _cells(n: int, res: int = 8) -> pd.DataFrame:
    lon = np.linspace(-13.75, -13.55, n)
    lat = np.linspace(9.50, 9.70, n)
    keys = cells.to_db(cells.points_to_cells(lon, lat, res))
    frame = pd.DataFrame({"key": keys, "count": np.arange(1, n + 1), "sensitive": 0, "suppressed": False})
    return frame.drop_duplicates("key").reset_index(drop=True)


def _render(data: incidents.IncidentLayerData, lang: str = "fr") -> str:
    t = Translator(lang)
    m = make_map(t)
    incidents.build(data, t=t, taxonomy=default_taxonomy()).add_to(m)
    html = localize(m).get_root().render()
    return re.sub(r"\\u([0-9a-f]{4})", lambda c: chr(int(c.group(1), 16)), html)


def test_point_popups_escape_user_text_and_say_demo_and_precision():
    html = _render(incidents.IncidentLayerData(mode="points", res=8, points=_points()))
    assert "<img src=x" not in html and "</script><script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "Marché &lt;b&gt;Madina&lt;/b&gt;" in html
    assert "Vol simple" in html and "Données de démonstration" in html
    assert "emplacement approximatif" in html
    assert "Atteintes aux biens" in html  # legend


@pytest.mark.parametrize("mode", incidents.MODES)
def test_every_mode_renders_cells_with_local_assets_only(mode):
    html = _render(incidents.IncidentLayerData(mode=mode, res=8, cells=_cells(50)))
    assert not re.search(r"https?://", html)
    if mode == "hexagons":
        assert html.count('"type": "Polygon"') + html.count('"type":"Polygon"') >= 40
        assert "Incidents par cellule" in html
    if mode == "heat":
        assert "heatLayer" in html


def test_sensitive_counts_are_drawn_apart_with_suppression_note():
    sens = _cells(5).assign(count=[5, 6, 7, 8, 9], sensitive=[5, 6, 7, 8, 9], suppressed=[True] + [False] * 4)
    html = _render(incidents.IncidentLayerData(mode="points", res=8, sensitive_cells=sens), lang="en")
    assert "#6a3d9a" in html and "small sensitive counts hidden" in html


@pytest.mark.parametrize("mode", ["hexagons", "points"])
def test_cell_tooltips_say_which_commune_they_are_in(mode):
    """Cells are drawn above the units and take the pointer: their tooltip names the unit (Madina market is in
    Matam); the bubbles drawn when points are too many do too."""
    key = cells.to_db(cells.points_to_cells([-13.657], [9.546], 8))
    frame = pd.DataFrame({"key": key, "count": [12], "sensitive": 0, "suppressed": False})
    html = _render(incidents.IncidentLayerData(mode=mode, res=8, cells=frame))
    assert "Matam, Conakry · 12 incidents" in html


def test_payload_stays_small_with_many_cells():
    html = _render(incidents.IncidentLayerData(mode="hexagons", res=9, cells=_cells(3000, res=9)))
    assert len(html) < 1_500_000


def test_incident_assets_make_the_base_map_load_the_plugins():
    m = localize(incidents.prepare_map(folium.Map(tiles=None)))
    html = m.get_root().render()
    assert "/app/static/vendor/markercluster/leaflet.markercluster.js" in html
    assert "/app/static/vendor/heat/leaflet-heat.js" in html


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        incidents.build(incidents.IncidentLayerData(mode="pie", res=8), t=Translator("fr"), taxonomy=default_taxonomy())


def test_map_without_tiles_keeps_its_zoom_limits():
    """folium drops min/max zoom when tiles=None; the marker-cluster plugin fails without maxZoom."""
    html = make_map(Translator("fr")).get_root().render()
    assert re.search(r'"maxZoom": 17', html) and re.search(r'"minZoom": 5', html)
