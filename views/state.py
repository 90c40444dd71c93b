"""Session-state keys, in one place so pages never disagree on a name."""

from __future__ import annotations

import streamlit as st

from i18n import DEFAULT_LANGUAGE

LANG = "lang"
MAP_LEVEL = "map_level"
MAP_QUERY = "map_query"
MAP_CHOICE = "map_choice"
INC_SHOW = "inc_show"
INC_MODE = "inc_mode"
INC_PERIOD = "inc_period"
INC_CATEGORIES = "inc_categories"
INC_UNITS = "inc_units"
INC_RES = "inc_res"

_DEFAULTS = {LANG: DEFAULT_LANGUAGE, MAP_LEVEL: "prefecture", MAP_QUERY: "", INC_SHOW: True, INC_MODE: "hexagons",
             INC_CATEGORIES: [], INC_UNITS: [], INC_RES: "auto"}


def init() -> None:
    """Give every key its default once per session."""
    for key, value in _DEFAULTS.items():
        st.session_state.setdefault(key, value)
