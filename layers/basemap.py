"""Basemap drawn from our own data: Guinea's land, its Atlantic coast, sea and neighbour names."""

from __future__ import annotations

import folium
import geopandas as gpd

from i18n import N_, Translator
from layers.base import LAND_PANE, LayerSpec, label_marker

#: Where neighbour names sit (outside Guinea, near the shared border); checked by tests.
NEIGHBOURS = {
    N_("Guinea-Bissau"): (11.95, -15.0),
    N_("Senegal"): (12.95, -12.9),
    N_("Mali"): (12.3, -8.6),
    N_("Côte d'Ivoire"): (8.6, -7.55),
    N_("Liberia"): (6.9, -9.7),
    N_("Sierra Leone"): (8.9, -12.0),
}
SEA_LABEL = (9.3, -15.4)


def build(outline: gpd.GeoDataFrame, *, t: Translator, land_fill: float = 1.0) -> folium.FeatureGroup:
    """Land fill, coastline and orientation labels as one non-interactive group.

    The land sits in its own pane under every overlay; ``land_fill`` is its opacity
    (lower it when basemap tiles are shown, or they are hidden over Guinea).
    """
    group = folium.FeatureGroup(name=t("Basemap"), control=False)
    country = outline[outline["kind"] == "country"]
    coast = outline[outline["kind"] == "coast"]
    folium.GeoJson(
        country[["geometry"]].to_json(),
        style_function=lambda _f: {"fillColor": "#fbfaf4", "fillOpacity": land_fill, "stroke": False},
        interactive=False, name="land", pane=LAND_PANE,
    ).add_to(group)
    folium.GeoJson(
        coast[["geometry"]].to_json(),
        style_function=lambda _f: {"color": "#4f86b3", "weight": 3, "opacity": 0.9},
        interactive=False, name="coast",
    ).add_to(group)
    label_marker(*SEA_LABEL, t("Atlantic Ocean"), "lbl-sea").add_to(group)
    for name, (lat, lon) in NEIGHBOURS.items():
        label_marker(lat, lon, t(name), "lbl-country").add_to(group)
    return group


SPEC = LayerSpec(key="basemap", title=N_("Basemap"), build=build)
