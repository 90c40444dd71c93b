"""Priorities of a local security plan: areas, road stretches and points, numbered by rank, over the plan's unit.

Titles and descriptions are typed by council members, so every piece of text is
escaped before it reaches a tooltip.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import folium
import geopandas as gpd
import shapely

from i18n import N_, Translator
from layers.base import LayerSpec, Legend, esc, label_marker

COLOR = "#d95f02"
UNIT_COLOR = "#222222"
HOTSPOT_COLOR = "#b2182b"


def build(priorities: gpd.GeoDataFrame, *, t: Translator, unit: shapely.Geometry | None = None,
          hotspots: gpd.GeoDataFrame | None = None,
          category_label: Callable[[str | None], str] | None = None) -> folium.FeatureGroup:
    """``priorities`` as :meth:`storage.Store.plan_priorities` returns them; ``unit`` the plan's unit outline;
    ``hotspots`` the diagnosis's hot spot hexagons (``rank``, ``count``) for the council to pick from.

    ``category_label`` turns a category code into words (default: the code).
    """
    group = folium.FeatureGroup(name=t("Plan priorities"))
    legend = [(COLOR, t("Priority (number = rank)")), (UNIT_COLOR, t("Plan unit"))]
    if hotspots is not None and len(hotspots):
        tips = [esc(t("Hot spot no. {rank}: {n} incidents", rank=int(r), n=int(c)))
                for r, c in zip(hotspots["rank"], hotspots["count"], strict=True)]
        frame = gpd.GeoDataFrame({"tip": tips}, geometry=hotspots.geometry.to_numpy(), crs="EPSG:4326")
        folium.GeoJson(frame.to_json(drop_id=True),
                       style_function=lambda f: {"color": HOTSPOT_COLOR, "weight": 2, "dashArray": "3 3",
                                                 "fillColor": HOTSPOT_COLOR, "fillOpacity": 0.15},
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False), name=t("Hot spots")).add_to(group)
        legend.append((HOTSPOT_COLOR, t("Hot spot of the diagnosis")))
    if unit is not None and not unit.is_empty:
        folium.GeoJson(
            gpd.GeoSeries([shapely.transform(unit, lambda xy: np.round(xy, 5))], crs="EPSG:4326").to_json(),
            style_function=lambda f: {"color": UNIT_COLOR, "weight": 2.5, "dashArray": "6 4", "fill": False},
            interactive=False, name=t("Plan unit"),
        ).add_to(group)
    if priorities is not None and len(priorities):
        label = category_label or (lambda code: code or "–")
        tips = [esc(t("Priority no. {rank}: {title}", rank=int(r["rank"]), title=r["title"]))
                + (f"<br>{esc(label(r['category']))}" if r.get("category") else "")
                + (f"<br><i>{esc(r['description'])}</i>" if r.get("description") else "")
                for r in priorities.to_dict("records")]
        geoms = shapely.transform(priorities.geometry.to_numpy(), lambda xy: np.round(xy, 6))
        frame = gpd.GeoDataFrame({"tip": tips, "kind": priorities["kind"].astype(str).to_numpy()},
                                 geometry=geoms, crs="EPSG:4326")
        folium.GeoJson(
            frame.to_json(drop_id=True),
            style_function=lambda f: {"color": COLOR, "weight": 5 if f["properties"]["kind"] == "line" else 2,
                                      "fillColor": COLOR, "fillOpacity": 0.3},
            marker=folium.CircleMarker(radius=8, fill=True, fill_opacity=0.9, color="#ffffff", weight=2,
                                       fill_color=COLOR),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
            name=t("Plan priorities"),
        ).add_to(group)
        anchors = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
        for rank, point in zip(priorities["rank"], anchors, strict=True):
            label_marker(float(point.y), float(point.x), str(int(rank)), "lbl-rank").add_to(group)
    group.add_child(Legend(t("Plan priorities"), legend))
    return group


SPEC = LayerSpec(key="priorities", title=N_("Plan priorities"), build=build)
