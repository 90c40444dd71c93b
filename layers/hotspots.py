"""Gi* hot and cold spots: significant H3 cells coloured by confidence, with a legend.

Only significant cells are sent to the browser (a study area can hold hundreds
of thousands of cells; the empty ones are implied by the study area outline),
and at most ``max_cells`` of them, strongest first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import folium

from i18n import N_, Translator
from i18n.vocabulary import GI_BIN_COLORS, GI_BIN_LABELS
from layers.base import LayerSpec, Legend, esc, hexagon_collection

MAX_CELLS = 5000


def _label(row, t: Translator) -> str:
    parts = [t(GI_BIN_LABELS[int(row.gi_bin)]), t("{count} incidents", count=t.n(int(row.count))),
             t("z = {z}", z=t.n(float(row.gi_z), 2)), t("p = {p}", p=_p_text(float(row.gi_p), t))]
    return esc(" · ".join(parts))


def _p_text(p: float, t: Translator) -> str:
    return "< " + t.n(0.001, 3) if p < 0.001 else t.n(p, 3)


def build(table: pd.DataFrame, *, t: Translator, max_cells: int = MAX_CELLS) -> folium.FeatureGroup:
    """``table`` has ``cell`` (hex id), ``count``, ``gi_z``, ``gi_p``, ``gi_bin`` per study cell."""
    group = folium.FeatureGroup(name=t("Hot and cold spots (Gi*)"))
    significant = table[table["gi_bin"] != 0]
    significant = significant.reindex(significant["gi_z"].abs().sort_values(ascending=False).index).head(max_cells)
    if len(significant):
        props = [{"bin": int(r.gi_bin), "label": _label(r, t)} for r in significant.itertuples(index=False)]
        keys = [int(c, 16) for c in significant["cell"]]
        folium.GeoJson(
            hexagon_collection(keys, props),
            # The outline in the fill colour keeps ~1 km cells visible as dots at country zoom.
            style_function=lambda f: {"fillColor": GI_BIN_COLORS[f["properties"]["bin"]],
                                      "color": GI_BIN_COLORS[f["properties"]["bin"]], "weight": 2,
                                      "opacity": 0.9, "fillOpacity": 0.75},
            highlight_function=lambda f: {"weight": 2, "color": "#000"},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            name=t("Hot and cold spots (Gi*)"),
        ).add_to(group)
    present = set(np.unique(table["gi_bin"].to_numpy())) if len(table) else set()
    entries = [(GI_BIN_COLORS[b], t(GI_BIN_LABELS[b])) for b in (3, 2, 1, -1, -2, -3) if b in present]
    if entries:
        group.add_child(Legend(t("Gi* confidence"), entries))
    return group


SPEC = LayerSpec(key="hotspots", title=N_("Hot and cold spots (Gi*)"), build=build)
