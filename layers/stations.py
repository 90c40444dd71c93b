"""Police stations and posts: small markers coloured by kind, clustered when there are many.

Kinds recorded by the programme (commissariat, police post, gendarmerie
brigade) have their own colour and size; any other kind gets a neutral grey and
is shown as recorded. Up to :data:`CLUSTER_ABOVE` stations travel as one
GeoJSON with hover tooltips; beyond that, as compact rows clustered in the
browser (like the incidents layer), the tooltip built and escaped here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import folium
import folium.plugins

from i18n import N_, Translator
from layers.base import LayerSpec, Legend, esc, point_collection, require_columns

KIND_LABELS: dict[str, str] = {"commissariat": N_("Police station (commissariat)"), "poste": N_("Police post"),
                               "brigade": N_("Gendarmerie brigade")}
KIND_COLORS: dict[str, str] = {"commissariat": "#08306b", "poste": "#4292c6", "brigade": "#238b45"}
KIND_RADII: dict[str, float] = {"commissariat": 6.5, "poste": 5.0, "brigade": 5.0}
OTHER_COLOR = "#8c8c8c"
OTHER_RADIUS = 4.5
CLUSTER_ABOVE = 1500
_FIELDS = ["name", "kind_label", "contact"]
_ALIASES = [N_("Station"), N_("Kind"), N_("Contact")]

# Built in the browser from compact rows: [lat, lon, tooltip html (escaped on the server), colour, radius].
_CALLBACK = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: row[4], color: '#222', weight: 1, fillColor: row[3], fillOpacity: 0.9});
    marker.bindTooltip(row[2]);
    return marker;
}
"""


def _kind_label(kind: object, t: Translator) -> str:
    if kind is None or (not isinstance(kind, str) and pd.isna(kind)):
        return "–"
    return esc(t(KIND_LABELS[kind])) if kind in KIND_LABELS else esc(kind)


def build(stations: pd.DataFrame, *, t: Translator, cluster_above: int = CLUSTER_ABOVE) -> folium.FeatureGroup:
    """Stations of ``stations`` (``id``, ``name``, ``kind``, ``contact``, ``lon``, ``lat``) as markers by kind.

    More than ``cluster_above`` stations are clustered; stations without coordinates are left out.
    """
    group = folium.FeatureGroup(name=t("Police stations"))
    if stations is None or len(stations) == 0:
        return group
    require_columns(stations, ["name", "kind", "lon", "lat"], "stations")
    frame = stations[stations["lon"].notna() & stations["lat"].notna()].reindex(
        columns=["name", "kind", "contact", "lon", "lat"])
    if frame.empty:
        return group
    kinds = frame["kind"].astype("string").fillna("")
    known = kinds.isin(list(KIND_COLORS)).to_numpy()
    colors = np.where(known, kinds.map(KIND_COLORS).fillna(OTHER_COLOR).to_numpy(object), OTHER_COLOR)
    radii = np.where(known, kinds.map(KIND_RADII).fillna(OTHER_RADIUS).to_numpy(float), OTHER_RADIUS)
    names = frame["name"].map(esc).tolist()
    labels = [_kind_label(k, t) for k in frame["kind"]]
    contacts = frame["contact"].map(esc).tolist()

    if len(frame) > cluster_above:
        rows = [[round(float(y), 5), round(float(x), 5), f"<strong>{n}</strong><br>{k}<br>{c}", col, float(r)]
                for x, y, n, k, c, col, r in zip(frame["lon"], frame["lat"], names, labels, contacts, colors, radii,
                                                 strict=True)]
        folium.plugins.FastMarkerCluster(rows, callback=_CALLBACK, name=t("Police stations")).add_to(group)
    else:
        props = {"color": colors.tolist(), "r": radii.tolist(), "name": names, "kind_label": labels,
                 "contact": contacts}
        folium.GeoJson(
            point_collection(frame["lon"], frame["lat"], props),
            name=t("Police stations"),
            marker=folium.CircleMarker(radius=5, weight=1, color="#222222", fill=True, fill_opacity=0.9),
            style_function=lambda f: {"radius": f["properties"]["r"], "fillColor": f["properties"]["color"]},
            highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
            tooltip=folium.GeoJsonTooltip(fields=_FIELDS, aliases=[esc(t(a)) for a in _ALIASES], sticky=True),
        ).add_to(group)

    present = set(kinds[known].tolist())
    entries = [(color, t(KIND_LABELS[kind])) for kind, color in KIND_COLORS.items() if kind in present]
    if not known.all():
        entries.append((OTHER_COLOR, t("Other kind")))
    group.add_child(Legend(t("Police stations"), entries, position="topright"))
    return group


SPEC = LayerSpec(key="stations", title=N_("Police stations"), build=build)
