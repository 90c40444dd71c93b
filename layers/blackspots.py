"""Road-safety black spots: hexagons or road segments ranked by severity-weighted crashes.

The strongest spots are drawn darkest and the first ten carry their rank, so
the map reads like the table next to it. Road and place names may come from
imported files: they are escaped like any user text.
"""

from __future__ import annotations

import numpy as np

import folium
import geopandas as gpd

from geo.blackspots import TREND_LABELS
from i18n import N_, Translator
from layers.base import LayerSpec, Legend, esc, label_marker

MAX_SPOTS = 300
#: Rank classes (upper bounds) and their colours, darkest for the worst spots.
RANK_BREAKS = (10, 50)
RANK_COLORS = ("#67000d", "#e6550d", "#fdae6b")
LABELLED = 10


def _color(rank: int) -> str:
    return RANK_COLORS[int(np.searchsorted(RANK_BREAKS, rank, side="left"))]


def _label(row, t: Translator) -> str:
    parts = [t("Black spot no. {rank}", rank=int(row.rank))]
    if isinstance(row.road, str) and row.road:
        parts.append(row.road)
    if isinstance(row.place, str) and row.place:
        parts.append(row.place)
    parts.append(t("{n} crashes: {fatal} fatal, {serious} serious, {slight} slight", n=t.n(int(row.crashes)),
                   fatal=t.n(int(row.fatal)), serious=t.n(int(row.serious)), slight=t.n(int(row.slight))))
    parts.append(t("{killed} killed, {injured} injured", killed=t.n(int(row.killed)),
                   injured=t.n(int(row.injured))))
    parts.append(t("score {score}", score=t.n(float(row.epdo), 1)))
    parts.append(t("trend: {trend}", trend=t(TREND_LABELS.get(str(row.trend), str(row.trend)))))
    return " · ".join(esc(p) for p in parts)


def build(table: gpd.GeoDataFrame, *, t: Translator, max_spots: int = MAX_SPOTS) -> folium.FeatureGroup:
    """``table`` is :func:`exchange.blackspots.run_blackspots`'s ranked table (EPSG:4326 geometry)."""
    group = folium.FeatureGroup(name=t("Road black spots"))
    spots = table.sort_values("rank").head(max_spots)
    if spots.empty:
        return group
    frame = gpd.GeoDataFrame({"rank": spots["rank"].astype(int).to_numpy(),
                              "label": [_label(r, t) for r in spots.itertuples(index=False)]},
                             geometry=spots.geometry.set_precision(1e-5).to_numpy(), crs=spots.crs)
    lines = bool(frame.geom_type.isin(["LineString", "MultiLineString"]).any())
    folium.GeoJson(
        frame.to_json(drop_id=True),
        style_function=(lambda f: {"color": _color(f["properties"]["rank"]), "weight": 7, "opacity": 0.9})
        if lines else
        (lambda f: {"fillColor": _color(f["properties"]["rank"]), "color": "#333", "weight": 0.6,
                    "fillOpacity": 0.85}),
        highlight_function=lambda f: {"weight": 9 if lines else 2, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        name=t("Road black spots"),
    ).add_to(group)
    for row in spots.head(LABELLED).itertuples(index=False):
        label_marker(float(row.lat), float(row.lon), str(int(row.rank)), "lbl-rank").add_to(group)
    entries = [(RANK_COLORS[0], t("Ranks 1 to {n}", n=RANK_BREAKS[0])),
               (RANK_COLORS[1], t("Ranks {a} to {b}", a=RANK_BREAKS[0] + 1, b=RANK_BREAKS[1])),
               (RANK_COLORS[2], t("Ranks above {n}", n=RANK_BREAKS[1]))]
    group.add_child(Legend(t("Black spots (severity-weighted)"), entries))
    return group


SPEC = LayerSpec(key="blackspots", title=N_("Road black spots"), build=build)
