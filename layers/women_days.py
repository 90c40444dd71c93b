"""Women's visitation days: the stations that held them, sized by the number of women received.

One colour (the days are one kind of activity) and square-root sizes with
reference circles in the legend. Complaints filed afterwards are shown only
where they were recorded: "not known" is not zero. Station names come from
users and are escaped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import folium

from i18n import N_, Translator
from layers.base import (
    LayerSpec,
    SymbolLegend,
    as_date,
    count_text,
    esc,
    proportional_circles,
    require_columns,
    size_entries,
    sqrt_radius,
)

COLOR = "#88419d"
R_MAX = 20.0
_REQUIRED = ["name", "lon", "lat", "women"]
_FIELDS = ["name", "days", "women", "complaints", "last_day"]
_ALIASES = [N_("Station"), N_("Visitation days"), N_("Women received"), N_("Complaints filed afterwards"),
            N_("Last visitation day")]


def build(stations: pd.DataFrame, *, t: Translator, r_max: float = R_MAX) -> folium.FeatureGroup:
    """Stations of ``stations`` (``geo.indicators.women_days_by_station``'s frame) sized by women received."""
    group = folium.FeatureGroup(name=t("Women's visitation days"))
    if stations is None or len(stations) == 0:
        return group
    require_columns(stations, _REQUIRED, "women's days by station")
    frame = stations[stations["lon"].notna() & stations["lat"].notna()]
    if frame.empty:
        return group
    frame = frame.reindex(columns=[*_REQUIRED, "days", "complaints_after", "last_day"])
    women = pd.to_numeric(frame["women"], errors="coerce").fillna(0).to_numpy(float)
    order = np.argsort(-women, kind="stable")  # big circles first, small ones drawn on top
    frame, women = frame.iloc[order], women[order]
    vmax = float(women.max())
    not_known = t("not known")
    props = {
        "r": sqrt_radius(women, vmax, r_max=r_max).tolist(),
        "name": frame["name"].map(esc).tolist(),
        "days": [esc(count_text(v, t)) for v in frame["days"]],
        "women": [esc(count_text(v, t)) for v in frame["women"]],
        "complaints": [esc(count_text(v, t, not_known)) for v in frame["complaints_after"]],
        "last_day": [esc(t.d(d)) if (d := as_date(v)) is not None else "–" for v in frame["last_day"]],
    }
    proportional_circles(frame["lon"], frame["lat"], props, name=t("Women's visitation days"), fields=_FIELDS,
                         aliases=[t(a) for a in _ALIASES], edge="#3f007d", weight=1, fill=COLOR,
                         fill_opacity=0.75).add_to(group)

    sizes = size_entries(vmax, r_max, lambda v: t("{n} women", n=t.n(v)))
    total = t("Stations: {stations} · days: {days} · women: {women}", stations=t.n(len(frame)),
              days=t.n(int(pd.to_numeric(frame["days"], errors="coerce").fillna(0).sum())), women=t.n(int(women.sum())))
    group.add_child(SymbolLegend(t("Women's visitation days"), [(COLOR, t("Station holding women's days"))],
                                 sizes=sizes, sizes_title=t("Women received"), color=COLOR, notes=[total]))
    return group


SPEC = LayerSpec(key="women_days", title=N_("Women's visitation days"), build=build)
