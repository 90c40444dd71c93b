"""Map page ("Carte"): Guinea's units at three levels, hover for parents, search a place and zoom to it."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.boundaries import LEVELS, Level, get_unit, load_display, load_outline
from geo.gazetteer import Match
from i18n import N_, Translator
from layers import basemap, boundaries
from layers.mapframe import TileConfig, finish, make_map
from views import state
from views.common import demo_notice, gazetteer, translator

LEVEL_PLURAL = {"region": N_("Regions"), "prefecture": N_("Prefectures"), "subprefecture": N_("Sub-prefectures")}


def _match_label(t: Translator, m: Match) -> str:
    level = t(boundaries.LEVEL_LABELS[m.level])
    if m.level == "region":
        return f"{m.name} — {level}"
    parent = get_unit(m.prefecture_id if m.level == "subprefecture" else m.region_id,
                      "prefecture" if m.level == "subprefecture" else "region")["name"]
    return f"{m.name} — {level} ({parent})"


def _focus_bounds(match: Match | None) -> tuple[tuple[float, float], tuple[float, float]] | None:
    if match is None:
        return None
    shape = load_display(match.level, "high")
    minx, miny, maxx, maxy = shape.loc[shape["unit_id"] == match.unit_id].total_bounds
    return (miny, minx), (maxy, maxx)


def _build_map(t: Translator, level: Level, focus: Match | None):
    detail = "low" if focus is None or focus.level == "region" else "high"
    m = make_map(t, tiles=TileConfig.from_env(), attributions=(t(boundaries.ATTRIBUTION),), bounds=_focus_bounds(focus))
    basemap.build(load_outline(), t=t).add_to(m)
    parents = {lvl: load_display(lvl, "low") for lvl in LEVELS if LEVELS.index(lvl) < LEVELS.index(level)}
    units = load_display(level, detail)
    highlight = focus.unit_id if focus is not None and focus.level == level else None
    boundaries.build(units, t=t, level=level, parents=parents, highlight=highlight).add_to(m)
    if focus is not None and focus.level != level:
        focus_shape = load_display(focus.level, "high")
        focus_shape = focus_shape[focus_shape["unit_id"] == focus.unit_id]
        boundaries.build(focus_shape, t=t, level=focus.level, highlight=focus.unit_id, labels=False,
                         interactive=False).add_to(m)
    return finish(m)


@st.fragment
def _map_panel(level: Level, focus: Match | None) -> None:
    """The map and the clicked unit's card; clicks rerun only this fragment."""
    t = translator()
    m = _build_map(t, level, focus)
    out = st_folium(m, key=f"map-{level}", height=620, use_container_width=True,
                    returned_objects=["last_active_drawing"])
    clicked = ((out or {}).get("last_active_drawing") or {}).get("properties") or {}
    if clicked.get("unit_id") and clicked.get("level") in LEVELS:
        _unit_card(t, clicked["unit_id"], clicked["level"])
    else:
        st.caption(t("Hover over a unit to see its name and parents; click it for details."))


def _unit_card(t: Translator, unit_id: str, level: Level) -> None:
    unit = get_unit(unit_id, level)
    st.subheader(unit["name"])
    cols = st.columns(4)
    cols[0].metric(t("Level"), t(boundaries.LEVEL_LABELS[level]))
    cols[1].metric(t("Area (km²)"), t.n(unit["area_km2"]))
    pop = unit.get("population_2014")
    if pop is not None and pop == pop:
        flag = t("preliminary") if unit.get("census_result") == "preliminary" else t("final")
        cols[2].metric(t("Population 2014"), t.n(pop), help=t("Census 2014 (RGPH3), {flag} results", flag=flag))
    else:
        cols[2].metric(t("Population 2014"), "–", help=t("The census gives populations per prefecture only."))
    cols[3].metric(t("Id"), unit["unit_id"])


def render() -> None:
    t = translator()
    st.title(t("Map"))
    demo_notice(t)
    left, right = st.columns([1, 2])
    with left:
        level = st.radio(t("Level"), LEVELS, key=state.MAP_LEVEL, horizontal=True,
                         format_func=lambda lvl: t(LEVEL_PLURAL[lvl]))
    with right:
        query = st.text_input(t("Find a place"), key=state.MAP_QUERY,
                              placeholder=t("e.g. Nzérékoré, Kaloum, Guéckédou"))
    focus = None
    if query.strip():
        matches = gazetteer().search(query)
        if matches:
            focus = st.selectbox(t("Matching units"), matches, key=state.MAP_CHOICE,
                                 format_func=lambda m: _match_label(t, m))
        else:
            st.info(t("No unit matches “{query}”.", query=query))
    _map_panel(level, focus)
    st.caption(t(boundaries.ATTRIBUTION))
