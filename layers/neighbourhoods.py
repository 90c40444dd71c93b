"""Neighbourhoods (quartiers) users added: outlines with their names, under everything else.

Names come from users' files or typing, so they are escaped like any user text.
"""

from __future__ import annotations

import numpy as np

import folium
import geopandas as gpd
import shapely

from geo.boundaries import unit_names
from i18n import N_, Translator
from layers.base import LayerSpec, Legend, esc, label_marker

COLOR = "#00695c"
#: Labels are drawn only when few neighbourhoods are shown (they would overlap otherwise).
LABEL_LIMIT = 150


def build(neighbourhoods: gpd.GeoDataFrame, *, t: Translator, highlight: str | None = None,
          labels: bool = True) -> folium.FeatureGroup:
    """``neighbourhoods`` as :meth:`storage.Store.neighbourhoods` returns them (EPSG:4326)."""
    group = folium.FeatureGroup(name=t("Neighbourhoods"))
    if neighbourhoods is None or neighbourhoods.empty:
        return group
    names = unit_names()
    communes = [names.get(("subprefecture", s), s) for s in neighbourhoods["subprefecture_id"]]
    tips = [esc(t("{name} — neighbourhood of {commune}", name=n, commune=c))
            for n, c in zip(neighbourhoods["name"], communes, strict=True)]
    geoms = shapely.transform(neighbourhoods.geometry.to_numpy(), lambda xy: np.round(xy, 5))
    frame = gpd.GeoDataFrame({"unit_id": neighbourhoods["unit_id"].astype(str).to_numpy(), "label": tips},
                             geometry=geoms, crs="EPSG:4326")
    folium.GeoJson(
        frame.to_json(drop_id=True),
        style_function=lambda f: {"color": "#d7301f" if f["properties"]["unit_id"] == highlight else COLOR,
                                  "weight": 2, "fillColor": COLOR, "fillOpacity": 0.08},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.2},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        name=t("Neighbourhoods"),
    ).add_to(group)
    if labels and len(neighbourhoods) <= LABEL_LIMIT:
        for name, lon, lat in zip(neighbourhoods["name"], neighbourhoods["label_lon"], neighbourhoods["label_lat"],
                                  strict=True):
            if np.isfinite(lon) and np.isfinite(lat):
                label_marker(float(lat), float(lon), str(name), "lbl-subprefecture").add_to(group)
    group.add_child(Legend(t("Neighbourhoods"), [(COLOR, t("Neighbourhood added by users"))]))
    return group


SPEC = LayerSpec(key="neighbourhoods", title=N_("Neighbourhoods"), build=build)
