"""Incidents layer: clustered points, heat map or H3 hexagon counts, always small in the browser.

The view hands over what the viewer may see, already cut to the map's extent
and aggregated by the database: individual points only when they are few,
counts per H3 cell otherwise. Sensitive incidents reach this module as points
only for viewers allowed to see them; for everyone else they arrive as cell
counts with small counts already suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

import folium
import folium.plugins
from branca.element import MacroElement
from folium.elements import JSCSSMixin

from geo import cells as h3cells
from geo.blackspots import places
from geo.taxonomy import Taxonomy
from i18n import N_, Translator
from layers.base import LayerSpec, Legend, esc

Mode = Literal["points", "heat", "hexagons"]
MODES: tuple[Mode, ...] = ("points", "heat", "hexagons")
MODE_LABELS = {"points": N_("Clustered points"), "heat": N_("Heat map"), "hexagons": N_("Hexagon counts")}
GROUP_COLORS = {"property": "#1f78b4", "violence": "#e31a1c", "gbv": "#6a3d9a", "public_order": "#ff7f00",
                "conflict": "#b15928", "other": "#666666"}
GROUP_LABELS = {"property": N_("Property"), "violence": N_("Violence"), "gbv": N_("Gender-based violence"),
                "public_order": N_("Public order"), "conflict": N_("Conflicts"), "other": N_("Other")}
#: Count classes of the hexagon view (upper bounds) and their colours, light to dark.
COUNT_BREAKS = (1, 5, 20, 50, 200)
COUNT_COLORS = ("#fee8c8", "#fdbb84", "#fc8d59", "#e34a33", "#b30000", "#7f0000")
_POPUP_TEXT_LIMIT = 300

# Built in the browser from compact rows: [lat, lon, popup html (escaped on the server), colour].
_POINT_CALLBACK = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 6, color: '#333', weight: 1, fillColor: row[3], fillOpacity: 0.85});
    marker.bindPopup(row[2], {maxWidth: 320});
    return marker;
}
"""


class IncidentAssets(JSCSSMixin, MacroElement):
    """Declares the plugins the incidents layer uses, on the base map.

    The layer itself travels as a separate feature group (so panning does not
    remount the map), and streamlit-folium only loads the scripts the base map
    declares; :func:`layers.assets.localize` turns these names into local files.
    """

    default_js = [*folium.plugins.MarkerCluster.default_js, *folium.plugins.HeatMap.default_js]
    default_css = list(folium.plugins.MarkerCluster.default_css)

    def __init__(self) -> None:
        super().__init__()
        self._name = "IncidentAssets"


def prepare_map(m: folium.Map) -> folium.Map:
    """Make ``m`` able to show incident layers added later as separate feature groups."""
    m.add_child(IncidentAssets())
    return m


@dataclass(frozen=True)
class IncidentLayerData:
    """What the incidents layer draws; see the module docstring for who fills what."""

    mode: Mode
    res: int
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)  # key, count, sensitive, suppressed
    sensitive_cells: pd.DataFrame = field(default_factory=pd.DataFrame)  # for viewers without point access


def _count_color(count: float) -> str:
    return COUNT_COLORS[int(np.searchsorted(COUNT_BREAKS, count, side="left"))]


def _popup(row: pd.Series, t: Translator, taxonomy: Taxonomy) -> str:
    description = row.get("description")
    if isinstance(description, str) and len(description) > _POPUP_TEXT_LIMIT:
        description = description[:_POPUP_TEXT_LIMIT] + "…"
    lines = [f"<strong>{esc(taxonomy.label(row['category'], t.lang))}</strong>",
             esc(t.d(row["occurred_at"].to_pydatetime(), "short") if pd.notna(row["occurred_at"]) else None)]
    if isinstance(row.get("place_name"), str):
        lines.append(esc(row["place_name"]))
    if isinstance(description, str):
        lines.append(f"<em>{esc(description)}</em>")
    if row.get("precision") not in (None, "point"):
        lines.append(esc(t("Placed by name: approximate location")))
    if bool(row.get("is_demo")):
        badge = esc(t("Demo data"))
        lines.append(f'<span class="demo-badge">{badge}</span>')
    return "<br>".join(lines)


def _points(data: IncidentLayerData, t: Translator, taxonomy: Taxonomy, group: folium.FeatureGroup) -> None:
    pts = data.points
    colors = pts["category"].map(lambda c: GROUP_COLORS.get(str(taxonomy.table["group"].get(c, "other")), "#666"))
    rows = [[round(float(r.lat), 5), round(float(r.lon), 5), _popup(pd.Series(r._asdict()), t, taxonomy), col]
            for r, col in zip(pts.itertuples(index=False), colors, strict=True)]
    folium.plugins.FastMarkerCluster(rows, callback=_POINT_CALLBACK, name=t("Incidents")).add_to(group)


def _cell_frame(frame: pd.DataFrame, *, with_place: bool = False) -> pd.DataFrame:
    """Cells with their centre and, ``with_place``, the unit it lies in ("Matam, Conakry"): cells drawn above the
    units take the pointer, so their tooltip says where they are."""
    keys = frame["key"].astype("int64").to_numpy().view(np.uint64)
    lon, lat = h3cells.centers(keys)
    out = frame.assign(cell=keys, lon=lon, lat=lat)
    return out.assign(place=places(lon, lat)["place"].to_numpy()) if with_place else out


def _label(place: str | None, text: str) -> str:
    return esc(f"{place} · {text}" if place else text)


def _bubbles(data: IncidentLayerData, t: Translator, group: folium.FeatureGroup) -> None:
    """Too many points for the extent: one circle per cell, sized by its count (one compact GeoJSON)."""
    frame = _cell_frame(data.cells, with_place=True)
    features = [{"type": "Feature",
                 "geometry": {"type": "Point", "coordinates": [round(r.lon, 5), round(r.lat, 5)]},
                 "properties": {"count": int(r.count),
                                "label": _label(r.place, t("{count} incidents", count=t.n(r.count)))}}
                for r in frame.itertuples(index=False)]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(radius=5, weight=1, color="#7f0000", fill=True, fill_opacity=0.8),
        style_function=lambda f: {"radius": 4 + 3 * float(np.sqrt(f["properties"]["count"])),
                                  "fillColor": _count_color(f["properties"]["count"])},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        name=t("Incidents"),
    ).add_to(group)


def _heat(data: IncidentLayerData, group: folium.FeatureGroup) -> None:
    frame = _cell_frame(data.cells)
    top = float(frame["count"].max()) if len(frame) else 1.0
    rows = [[round(r.lat, 5), round(r.lon, 5), float(r.count) / top] for r in frame.itertuples(index=False)]
    folium.plugins.HeatMap(rows, radius=22, blur=18, min_opacity=0.25, max_zoom=12).add_to(group)


def _hexagons(frame: pd.DataFrame, t: Translator, group: folium.FeatureGroup, *, sensitive: bool) -> None:
    features = []
    frame = _cell_frame(frame, with_place=True)
    for cell, count, sens, suppressed, place in frame[["cell", "count", "sensitive", "suppressed", "place"]].itertuples(
            index=False, name=None):
        ring = [[round(x, 5), round(y, 5)] for x, y in h3cells.boundary_lonlat(int(cell))]
        label = t("{count} incidents", count=t.n(count))
        if sens and not sensitive:
            label += " · " + t("of which sensitive: {n}", n=t.n(sens))
        if suppressed:
            label += " · " + t("small sensitive counts hidden")
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                         "properties": {"count": int(count), "label": _label(place, label)}})
    if not features:
        return
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=(lambda f: {"fillColor": "#6a3d9a", "color": "#3f007d", "weight": 1, "fillOpacity": 0.45,
                                   "dashArray": "4 3"}) if sensitive else
        (lambda f: {"fillColor": _count_color(f["properties"]["count"]), "color": "#7f2704", "weight": 0.6,
                    "fillOpacity": 0.7}),
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        name=t("Sensitive reports (counts)") if sensitive else t("Incidents"),
    ).add_to(group)


def build(data: IncidentLayerData, *, t: Translator, taxonomy: Taxonomy) -> folium.FeatureGroup:
    """The incidents of ``data`` drawn in ``data.mode``, with a legend."""
    if data.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {data.mode!r}")
    group = folium.FeatureGroup(name=t("Incidents"))
    if data.mode == "points":
        if len(data.points):
            _points(data, t, taxonomy, group)
            group.add_child(Legend(t("Incidents"), [(c, t(GROUP_LABELS[g])) for g, c in GROUP_COLORS.items()]))
        elif len(data.cells):
            _bubbles(data, t, group)
    elif data.mode == "heat" and len(data.cells):
        _heat(data, group)
    elif data.mode == "hexagons" and len(data.cells):
        _hexagons(data.cells, t, group, sensitive=False)
        bounds = [f"≤ {b}" for b in COUNT_BREAKS] + [f"> {COUNT_BREAKS[-1]}"]
        group.add_child(Legend(t("Incidents per cell"), list(zip(COUNT_COLORS, bounds, strict=True))))
    if len(data.sensitive_cells):
        _hexagons(data.sensitive_cells, t, group, sensitive=True)
    return group


SPEC = LayerSpec(key="incidents", title=N_("Incidents"), build=build)
