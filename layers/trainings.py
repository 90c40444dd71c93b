"""Trainings: the communities where officers were trained, sized by the number of officers trained.

A community sits at its sub-prefecture's representative point (that is all the
records say about where it is). The tooltip gives the instructors, the number
of sessions, the modules taught (codes translated, unknown codes shown as
recorded) and the period. Community names come from users and are escaped.
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

COLOR = "#d95f02"
R_MAX = 24.0
#: Training modules by their stored code.
MODULE_LABELS: dict[str, str] = {
    "doctrine": N_("Community policing doctrine"),
    "ordre_public": N_("Maintaining public order"),
    "vbg": N_("Response to gender-based violence"),
    "police_scolaire": N_("Police at school"),
    "mediation": N_("Mediation"),
}
_REQUIRED = ["community_name", "lon", "lat", "officers_trained"]
_FIELDS = ["community", "officers", "instructors", "trainings", "modules", "period"]
_ALIASES = [N_("Community"), N_("Officers trained"), N_("Instructors"), N_("Trainings"), N_("Modules"),
            N_("Period")]


def module_text(codes: object, t: Translator) -> str:
    """``"doctrine; vbg"`` as translated labels, comma-separated; unknown codes kept as recorded (escaped)."""
    if codes is None or (not isinstance(codes, str) and pd.isna(codes)):
        return "–"
    parts = [c.strip() for c in str(codes).split(";") if c.strip()]
    return esc(", ".join(t(MODULE_LABELS[c]) if c in MODULE_LABELS else c for c in parts)) or "–"


def period_text(start: object, end: object, t: Translator) -> str:
    """From first start to last end; one date when they are the same day."""
    first, last = as_date(start), as_date(end)
    if first is None and last is None:
        return "–"
    if first is None or last is None or first == last:
        return t.d(first or last)
    return t("{start} to {end}", start=t.d(first), end=t.d(last))


def build(communities: pd.DataFrame, *, t: Translator, r_max: float = R_MAX) -> folium.FeatureGroup:
    """Communities of ``communities`` (``geo.indicators.training_by_community``'s frame) sized by officers."""
    group = folium.FeatureGroup(name=t("Trainings"))
    if communities is None or len(communities) == 0:
        return group
    require_columns(communities, _REQUIRED, "trainings by community")
    frame = communities[communities["lon"].notna() & communities["lat"].notna()]
    if frame.empty:
        return group
    frame = frame.reindex(columns=[*_REQUIRED, "instructors", "trainings", "modules", "first_start", "last_end"])
    officers = pd.to_numeric(frame["officers_trained"], errors="coerce").fillna(0).to_numpy(float)
    order = np.argsort(-officers, kind="stable")  # big circles first, small ones drawn on top
    frame, officers = frame.iloc[order], officers[order]
    vmax = float(officers.max())
    props = {
        "r": sqrt_radius(officers, vmax, r_max=r_max).tolist(),
        "community": frame["community_name"].map(esc).tolist(),
        "officers": [esc(count_text(v, t)) for v in frame["officers_trained"]],
        "instructors": [esc(count_text(v, t)) for v in frame["instructors"]],
        "trainings": [esc(count_text(v, t)) for v in frame["trainings"]],
        "modules": [module_text(v, t) for v in frame["modules"]],
        "period": [esc(period_text(a, b, t)) for a, b in zip(frame["first_start"], frame["last_end"], strict=True)],
    }
    proportional_circles(frame["lon"], frame["lat"], props, name=t("Trainings"), fields=_FIELDS,
                         aliases=[t(a) for a in _ALIASES], edge="#7f2704", weight=1.5, fill=COLOR,
                         fill_opacity=0.7).add_to(group)

    sizes = size_entries(vmax, r_max, lambda v: t("{n} officers", n=t.n(v)))
    total = t("Communities: {communities} · officers trained: {officers}", communities=t.n(len(frame)),
              officers=t.n(int(officers.sum())))
    group.add_child(SymbolLegend(t("Trainings"), [(COLOR, t("Community where officers were trained"))],
                                 sizes=sizes, sizes_title=t("Officers trained"), color=COLOR, notes=[total]))
    return group


SPEC = LayerSpec(key="trainings", title=N_("Trainings"), build=build)
