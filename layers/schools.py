"""School outreach ("police at school"): schools sized by students reached, coloured by the last visit's age.

Circle areas are proportional to the students reached (square-root radii, with
reference circles in the legend); colours go from dark (visited in the last
three months) to pale (over a year ago), and schools never visited are grey,
so a planner sees both the reach and the schools that were let go. Names and
topics come from users and are escaped.
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

#: Recency classes of the last visit: upper bounds in days (3 and 12 months), then "older", then "never".
RECENCY_BREAKS: tuple[int, int] = (91, 365)
RECENCY: tuple[str, ...] = ("recent", "months", "old", "never")
RECENCY_LABELS: dict[str, str] = {"recent": N_("Less than 3 months ago"), "months": N_("3 to 12 months ago"),
                                  "old": N_("More than 12 months ago"), "never": N_("Never visited")}
#: ColorBrewer YlGnBu, darkest for the most recent; grey for never.
RECENCY_COLORS: dict[str, str] = {"recent": "#253494", "months": "#41b6c4", "old": "#dff3b2", "never": "#9e9e9e"}
LEVEL_LABELS: dict[str, str] = {"primary": N_("Primary school"), "junior": N_("Junior secondary school"),
                                "high": N_("Senior secondary school")}
R_MAX = 16.0
_REQUIRED = ["name", "lon", "lat", "students_reached", "days_since_last_visit"]
_FIELDS = ["name", "level", "visits", "students", "last_visit", "topics"]
_ALIASES = [N_("School"), N_("Level"), N_("Visits"), N_("Students reached"), N_("Last visit"), N_("Topics")]


def recency(days_since: pd.Series | np.ndarray) -> np.ndarray:
    """Recency class of each school from the days since its last visit (NaN: never visited)."""
    days = np.asarray(days_since, dtype=float)
    classes = np.array(RECENCY[:3])[np.searchsorted(RECENCY_BREAKS, np.nan_to_num(days, nan=0.0), side="right")]
    return np.where(np.isnan(days), RECENCY[3], classes)


def _level(value: object, t: Translator) -> str:
    if value is None or pd.isna(value):
        return "–"
    return esc(t(LEVEL_LABELS[value])) if value in LEVEL_LABELS else esc(value)


def build(reach: pd.DataFrame, *, t: Translator, r_max: float = R_MAX) -> folium.FeatureGroup:
    """Schools of ``reach`` (``geo.indicators.school_reach``'s frame) as sized and coloured circles.

    Schools without coordinates cannot be placed and are left out.
    """
    group = folium.FeatureGroup(name=t("School outreach"))
    if reach is None or len(reach) == 0:
        return group
    require_columns(reach, _REQUIRED, "school reach")
    frame = reach[reach["lon"].notna() & reach["lat"].notna()]
    if frame.empty:
        return group
    frame = frame.reindex(columns=[*_REQUIRED, "level", "visits", "last_visit", "topics"])
    students = pd.to_numeric(frame["students_reached"], errors="coerce").fillna(0).to_numpy(float)
    order = np.argsort(-students, kind="stable")  # big circles first, small ones drawn on top
    frame, students = frame.iloc[order], students[order]
    vmax = float(students.max())
    classes = recency(pd.to_numeric(frame["days_since_last_visit"], errors="coerce"))
    radius = sqrt_radius(students, vmax, r_max=r_max)
    never = esc(t("never"))
    props = {
        "cls": classes.tolist(),
        "r": radius.tolist(),
        "name": frame["name"].map(esc).tolist(),
        "level": [_level(v, t) for v in frame["level"]],
        "visits": [esc(count_text(v, t)) for v in frame["visits"]],
        "students": [esc(count_text(v, t)) for v in frame["students_reached"]],
        "last_visit": [esc(t.d(d)) if (d := as_date(v)) is not None else never for v in frame["last_visit"]],
        "topics": frame["topics"].map(esc).tolist(),
    }
    proportional_circles(frame["lon"], frame["lat"], props, name=t("School outreach"), fields=_FIELDS,
                         aliases=[t(a) for a in _ALIASES], edge="#333333", weight=1, fill_opacity=0.85,
                         style=lambda f: {"fillColor": RECENCY_COLORS[f["properties"]["cls"]]}).add_to(group)

    present = set(classes.tolist())
    entries = [(RECENCY_COLORS[c], t(RECENCY_LABELS[c])) for c in RECENCY if c in present]
    sizes = size_entries(vmax, r_max, lambda v: t("{n} students", n=t.n(v)))
    group.add_child(SymbolLegend(t("School outreach: last visit"), entries, sizes=sizes,
                                 sizes_title=t("Students reached"), color="#cccccc"))
    return group


SPEC = LayerSpec(key="schools", title=N_("School outreach"), build=build)
