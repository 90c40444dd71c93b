"""Emerging hot spots: cells coloured by their space-time pattern (new, intensifying, ...)."""

from __future__ import annotations

import pandas as pd

import folium

from i18n import N_, Translator
from i18n.vocabulary import EMERGING_COLORS, EMERGING_LABELS
from layers.base import LayerSpec, Legend, esc, hexagon_collection

MAX_CELLS = 5000


def build(table: pd.DataFrame, *, t: Translator, max_cells: int = MAX_CELLS) -> folium.FeatureGroup:
    """``table`` has ``cell`` (hex id), ``category``, ``count``, ``last``, ``trend_z``, ``trend_p`` per cell."""
    group = folium.FeatureGroup(name=t("Emerging hot spots"))
    patterned = table[table["category"].astype(str) != "no pattern"].head(max_cells)
    if len(patterned):
        props = []
        for r in patterned.itertuples(index=False):
            label = " · ".join([t(EMERGING_LABELS[str(r.category)]),
                                t("{count} incidents", count=t.n(int(r.count))),
                                t("last period: {n}", n=t.n(int(r.last))),
                                t("trend z = {z}", z=t.n(float(r.trend_z), 2))])
            props.append({"category": str(r.category), "label": esc(label)})
        folium.GeoJson(
            hexagon_collection([int(c, 16) for c in patterned["cell"]], props),
            style_function=lambda f: {"fillColor": EMERGING_COLORS[f["properties"]["category"]], "color": "#444",
                                      "weight": 0.5, "fillOpacity": 0.8},
            highlight_function=lambda f: {"weight": 2, "color": "#000"},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            name=t("Emerging hot spots"),
        ).add_to(group)
        present = set(patterned["category"].astype(str))
        entries = [(EMERGING_COLORS[c], t(EMERGING_LABELS[c])) for c in EMERGING_COLORS if c in present]
        group.add_child(Legend(t("Space-time pattern"), entries))
    return group


SPEC = LayerSpec(key="emerging", title=N_("Emerging hot spots"), build=build)
