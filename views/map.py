"""Map page ("Carte"): Guinea's units at three levels, search a place, and the incidents on top.

The base map (boundaries, labels) only changes with the level or the searched
unit; incidents are sent as a separate feature group, re-queried for the
extent and zoom the map reports, so panning reruns only the map fragment and
never remounts the map.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium

from exchange.export import export
from geo.aggregate import rollup, source_resolution
from geo.boundaries import LEVELS, Level, get_unit, load_display, load_outline
from geo.cells import resolution_for_zoom
from geo.gazetteer import Match
from i18n import N_, Translator
from layers import basemap, boundaries, incidents
from layers import neighbourhoods as neighbourhood_layer
from layers.assets import localize
from layers.mapframe import TileConfig, finish, make_map
from storage.queries import IncidentFilter
from views import state
from views.common import current_viewer, demo_notice, gazetteer, get_store, has_demo, taxonomy, translator
from views.incident_filters import incident_filter

#: Above this many incidents in the extent, points are replaced by counts per cell.
POINT_LIMIT = 1000
RESOLUTIONS = ("auto", "5", "6", "7", "8", "9")

LEVEL_PLURAL = {"region": N_("Regions"), "prefecture": N_("Prefectures"), "subprefecture": N_("Sub-prefectures")}


def _match_label(t: Translator, m: Match) -> str:
    if m.level == "neighbourhood":
        commune = get_unit(m.subprefecture_id, "subprefecture")["name"] if m.subprefecture_id else "–"
        level = t("Neighbourhood")
        return f"{m.name} — {level} ({commune})"
    level = t(boundaries.LEVEL_LABELS[m.level])
    if m.level == "region":
        return f"{m.name} — {level}"
    parent = get_unit(m.prefecture_id if m.level == "subprefecture" else m.region_id,
                      "prefecture" if m.level == "subprefecture" else "region")["name"]
    return f"{m.name} — {level} ({parent})"


def _focus_bounds(match: Match | None) -> tuple[tuple[float, float], tuple[float, float]] | None:
    if match is None:
        return None
    shape = _neighbourhoods() if match.level == "neighbourhood" else load_display(match.level, "high")
    minx, miny, maxx, maxy = shape.loc[shape["unit_id"] == match.unit_id].total_bounds
    return (miny, minx), (maxy, maxx)


def _build_map(t: Translator, level: Level, focus: Match | None) -> folium.Map:
    detail = "low" if focus is None or focus.level == "region" else "high"
    credits = [t(boundaries.ATTRIBUTION)]
    if has_demo(get_store().url):
        credits.append(t("Incidents: demo data (synthetic)"))
    tiles = TileConfig.from_env()
    m = make_map(t, tiles=tiles, attributions=tuple(credits), bounds=_focus_bounds(focus))
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    parents = {lvl: load_display(lvl, "low") for lvl in LEVELS if LEVELS.index(lvl) < LEVELS.index(level)}
    units = load_display(level, detail)
    highlight = focus.unit_id if focus is not None and focus.level == level else None
    boundaries.build(units, t=t, level=level, parents=parents, highlight=highlight).add_to(m)
    if level == "subprefecture" or (focus is not None and focus.level == "neighbourhood"):
        quartiers = _neighbourhoods()
        if len(quartiers):
            highlight_nb = focus.unit_id if focus is not None and focus.level == "neighbourhood" else None
            neighbourhood_layer.build(quartiers, t=t, highlight=highlight_nb, labels=False).add_to(m)
    if focus is not None and focus.level not in (level, "neighbourhood"):
        focus_shape = load_display(focus.level, "high")
        focus_shape = focus_shape[focus_shape["unit_id"] == focus.unit_id]
        boundaries.build(focus_shape, t=t, level=focus.level, highlight=focus.unit_id, labels=False,
                         interactive=False).add_to(m)
    incidents.prepare_map(m)  # always: incidents may be switched on later without a remount
    return finish(m)


def _neighbourhoods():
    """Stored neighbourhoods (few, small): read per run so a new one shows at once."""
    return get_store().neighbourhoods()


def _counts(flt: IncidentFilter, res: int) -> pd.DataFrame:
    store, viewer = get_store(), current_viewer()
    counts = store.incident_counts(flt, viewer, by=f"h3_r{source_resolution(res)}")
    return rollup(counts, res) if res < source_resolution(res) else counts


def _incident_group(t: Translator, flt: IncidentFilter, mode: str, res: int) -> folium.FeatureGroup:
    """The incidents layer for the current extent: points when few, counts per cell otherwise."""
    store, viewer, tax = get_store(), current_viewer(), taxonomy()
    points = pd.DataFrame()
    if mode == "points":
        points = store.incident_points(flt, viewer, limit=POINT_LIMIT + 1)
        if len(points) > POINT_LIMIT:
            points = pd.DataFrame()
    cells = _counts(flt, res) if mode != "points" or points.empty else pd.DataFrame()
    sensitive = pd.DataFrame()
    if mode == "points" and not viewer.can_see_sensitive:
        codes = tuple(c for c in tax.sensitive_codes if not flt.categories or c in flt.categories)
        if codes:
            sensitive = _counts(replace(flt, categories=codes), res)
    data = incidents.IncidentLayerData(mode=mode, res=res, points=points, cells=cells, sensitive_cells=sensitive)
    return incidents.build(data, t=t, taxonomy=tax)


def _bbox(bounds: dict | None) -> tuple[float, float, float, float] | None:
    try:
        sw, ne = bounds["_southWest"], bounds["_northEast"]
        return (float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"]))
    except (KeyError, TypeError, ValueError):
        return None


@st.fragment
def _map_panel(level: Level, focus: Match | None, flt: IncidentFilter | None, mode: str, res_choice: str) -> None:
    """The map and the clicked unit's card; pans, zooms and clicks rerun only this fragment."""
    t = translator()
    m = _build_map(t, level, focus)
    key = f"map-{level}"
    last = st.session_state.get(key) or {}  # what the map reported before this run (zoom, extent)
    zoom = last.get("zoom") or 7
    res = resolution_for_zoom(zoom) if res_choice == "auto" else int(res_choice)
    groups = None
    if flt is not None:
        groups = [localize(_incident_group(t, replace(flt, bbox=_bbox(last.get("bounds"))), mode, res))]
    out = st_folium(m, key=key, height=620, use_container_width=True, feature_group_to_add=groups,
                    returned_objects=["last_active_drawing", "bounds", "zoom"]) or {}
    clicked = (out.get("last_active_drawing") or {}).get("properties") or {}
    if clicked.get("unit_id") and clicked.get("level") in LEVELS:
        _unit_card(t, clicked["unit_id"], clicked["level"])
    else:
        st.caption(t("Hover over a unit to see its name and parents; click it for details."))
    if flt is not None:
        st.caption(t("Resolution of the hexagons: {res}. Individual incidents are shown when the map holds at "
                     "most {limit}; sensitive reports appear only as counts, small counts hidden.",
                     res=res, limit=t.n(POINT_LIMIT)))


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
    with st.expander(t("Incidents"), expanded=True):
        top = st.columns([1, 3, 1])
        show = top[0].toggle(t("Show incidents"), key=state.INC_SHOW)
        mode = top[1].radio(t("View"), incidents.MODES, key=state.INC_MODE, horizontal=True,
                            format_func=lambda v: t(incidents.MODE_LABELS[v]))
        res_choice = top[2].selectbox(t("Hexagon size"), RESOLUTIONS, key=state.INC_RES,
                                      format_func=lambda r: t("automatic") if r == "auto" else r)
        flt = incident_filter(t) if show else None
    _map_panel(level, focus, flt, mode, res_choice)
    if flt is not None:
        _exports(t, flt)
    st.caption(t(boundaries.ATTRIBUTION))


def _exports(t: Translator, flt: IncidentFilter) -> None:
    """Download the filtered incidents (only those the viewer may see individually)."""
    viewer = current_viewer()
    if not viewer.can_export:
        return
    with st.expander(t("Export the filtered incidents")):
        if not viewer.can_see_sensitive:
            st.caption(t("Sensitive reports are not included: your role may not see them individually."))
        fmt = st.radio(t("Format"), ["csv", "geojson", "gpkg"], horizontal=True, key="export_format",
                       format_func=lambda f: {"csv": "CSV", "geojson": "GeoJSON", "gpkg": "GeoPackage"}[f])
        if st.button(t("Prepare the file"), key="export_prepare"):
            frame = get_store().incident_points(flt, viewer)
            data, mime = export(frame, fmt)
            st.download_button(t("Download {n} incidents", n=t.n(len(frame))), data,
                               file_name=f"proximite-incidents.{fmt}", mime=mime, key="export_download")
