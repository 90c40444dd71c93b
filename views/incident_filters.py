"""The incident filter widgets shared by the map and the exports: period, categories, units."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from geo.boundaries import LEVELS, load_units
from i18n import Translator
from layers.boundaries import LEVEL_LABELS
from storage.queries import IncidentFilter
from views.common import taxonomy


def unit_options() -> dict[str, str]:
    """Every unit as ``level:unit_id`` -> name, for unit pickers."""
    units = load_units().drop(columns="geometry")
    return {f"{row.level}:{row.unit_id}": row.name for row in units.itertuples(index=False)
            if row.level in LEVELS}


def incident_filter(t: Translator, *, today: date | None = None, prefix: str = "inc") -> IncidentFilter:
    """Draw the filters and return the chosen :class:`IncidentFilter` (no extent).

    ``prefix`` names the widgets' state keys, so each page keeps its own choices.
    """
    today = today or date.today()
    keys = {name: f"{prefix}_{name}" for name in ("period", "categories", "units")}
    tax = taxonomy()
    cols = st.columns([2, 3, 3])
    period = cols[0].date_input(t("Period"), value=st.session_state.get(keys["period"]) or
                                (today - timedelta(days=365), today), key=keys["period"], format="DD/MM/YYYY")
    categories = cols[1].multiselect(t("Categories"), tax.codes, key=keys["categories"],
                                     format_func=lambda c: tax.label(c, t.lang), placeholder=t("All categories"))
    options = unit_options()
    chosen = cols[2].multiselect(
        t("Units"), list(options), key=keys["units"], placeholder=t("All of Guinea"),
        format_func=lambda k: unit_label(t, options, k))
    start = end = None
    if isinstance(period, (list, tuple)) and len(period) == 2:
        start = datetime.combine(period[0], datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(period[1], datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    units = tuple(tuple(k.split(":", 1)) for k in chosen)
    return IncidentFilter(start=start, end=end, categories=tuple(categories), units=units)


def unit_label(t: Translator, options: dict[str, str], key: str) -> str:
    """"Kankan (Préfecture)": a unit picker's entry, with its level since names repeat across levels."""
    return f"{options[key]} ({t(LEVEL_LABELS[key.split(':')[0]])})"
