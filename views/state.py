"""Session-state keys, in one place so pages never disagree on a name."""

from __future__ import annotations

import streamlit as st

from i18n import DEFAULT_LANGUAGE

LANG = "lang"
MAP_LEVEL = "map_level"
MAP_QUERY = "map_query"
MAP_CHOICE = "map_choice"

_DEFAULTS = {LANG: DEFAULT_LANGUAGE, MAP_LEVEL: "prefecture", MAP_QUERY: ""}


def init() -> None:
    """Give every key its default once per session."""
    for key, value in _DEFAULTS.items():
        st.session_state.setdefault(key, value)
