"""Administrative boundaries layer: the chosen level's units, hover for name and parents.

Parent borders are drawn over the chosen level (regions always, prefectures
under sub-prefectures) so a user always knows where they are. Names are
escaped before they enter the GeoJSON, because user-added neighbourhoods will
share this layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import folium
import geopandas as gpd
import shapely

from geo.boundaries import LEVELS, Level, unit_names
from i18n import N_, Translator
from layers.base import LayerSpec, esc, label_marker

LEVEL_LABELS = {"region": N_("Region"), "prefecture": N_("Prefecture"), "subprefecture": N_("Sub-prefecture")}
_BORDER = {"region": ("#3b3b3b", 2.6), "prefecture": ("#5e5e5e", 1.6), "subprefecture": ("#8c8c8c", 0.8)}
_FILL = "#c9b99a"
_HIGHLIGHT = "#d7301f"


def _rounded(geoms: np.ndarray, decimals: int = 5) -> np.ndarray:
    """Coordinates to ~1 m: a third less payload, and shared vertices stay shared."""
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _tooltip_frame(units: gpd.GeoDataFrame, t: Translator) -> gpd.GeoDataFrame:
    """Columns shown on hover: name, level, parents and 2014 population, all text, all escaped."""
    names = unit_names()

    def parents(row: pd.Series) -> str:
        parts = []
        if row["level"] == "subprefecture":
            parts.append(t("Prefecture: {name}", name=names.get(("prefecture", row["prefecture_id"]), "–")))
        if row["level"] != "region":
            parts.append(t("Region: {name}", name=names.get(("region", row["region_id"]), "–")))
        return " · ".join(parts) or "–"

    def population(row: pd.Series) -> str:
        pop = row.get("population_2014")
        if pop is None or pd.isna(pop):
            return t("not available")
        flag = t("preliminary") if row.get("census_result") == "preliminary" else t("final")
        return t("{population} (2014 census, {flag} results)", population=t.n(pop), flag=flag)

    out = gpd.GeoDataFrame(
        {
            "unit_id": units["unit_id"].astype(str),
            "level": units["level"].astype(str),
            "name": units["name"].map(esc),
            "level_label": units["level"].astype(str).map(lambda lvl: esc(t(LEVEL_LABELS[lvl]))),
            "parents": units.apply(parents, axis=1).map(esc),
            "population": units.apply(population, axis=1).map(esc),
        },
        geometry=_rounded(units.geometry.values),
        crs=units.crs,
    )
    return out


def build(units: gpd.GeoDataFrame, *, t: Translator, level: Level, parents: dict[str, gpd.GeoDataFrame] | None = None,
          highlight: str | None = None, labels: bool = True, interactive: bool = True) -> folium.FeatureGroup:
    """Units of ``level`` with hover tooltips, parent borders, labels and an optional highlighted unit.

    ``units`` is a display frame from :func:`geo.boundaries.load_display`;
    ``parents`` maps coarser levels to their display frames (for borders and labels).
    ``interactive=False`` draws an overlay (e.g. a searched unit's outline) that
    leaves hover and clicks to the units beneath it.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    parents = parents or {}
    group = folium.FeatureGroup(name=t("Administrative boundaries"))

    color, weight = _BORDER[level]
    data = _tooltip_frame(units, t)
    folium.GeoJson(
        data.to_json(),
        name=t(LEVEL_LABELS[level]),
        style_function=lambda f: {
            "fillColor": _HIGHLIGHT if f["properties"]["unit_id"] == highlight else _FILL,
            "fillOpacity": 0.25 if f["properties"]["unit_id"] == highlight else 0.06,
            "color": _HIGHLIGHT if f["properties"]["unit_id"] == highlight else color,
            "weight": 3 if f["properties"]["unit_id"] == highlight else weight,
        },
        highlight_function=(lambda _f: {"weight": 3, "fillOpacity": 0.3, "color": "#1f5f8b"}) if interactive else None,
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "level_label", "parents", "population"],
            aliases=[t("Name"), t("Level"), t("Within"), t("Population")],
            sticky=True,
        ) if interactive else None,
        interactive=interactive,
    ).add_to(group)

    for parent_level, frame in parents.items():
        if LEVELS.index(parent_level) >= LEVELS.index(level):
            continue
        pcolor, pweight = _BORDER[parent_level]
        folium.GeoJson(
            gpd.GeoDataFrame(geometry=_rounded(frame.geometry.boundary.values), crs=frame.crs).to_json(),
            style_function=lambda _f, c=pcolor, w=pweight: {"color": c, "weight": w, "fill": False},
            interactive=False,
        ).add_to(group)

    if labels:
        label_level = level if level != "subprefecture" else "prefecture"
        frame = units if label_level == level else parents.get(label_level)
        if frame is not None:
            for row in frame.itertuples(index=False):
                label_marker(row.label_lat, row.label_lon, row.name, f"lbl-{label_level}").add_to(group)
    return group


#: The licence's required credit, translatable (same text as ``geo.boundaries.ATTRIBUTION``).
ATTRIBUTION = N_("Administrative boundaries: geoBoundaries (gbOpen, GIN), from HDX / WFP, CC BY 3.0 IGO.")

SPEC = LayerSpec(key="boundaries", title=N_("Administrative boundaries"), build=build)
