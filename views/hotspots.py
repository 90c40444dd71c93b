"""Commander's page ("Points chauds"): Gi* hot spots, emerging hot spots and road black spots.

Every figure comes from the same cached analysis the downloads use, so what
the commander exports (CSV, GeoJSON, PDF brief) is what the page shows.
Counts are read through the viewer, so sensitive reports are only counted, with
small counts suppressed, for roles that may not see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium

from exchange import blackspots as bs
from exchange import hotspots as hs
from exchange.export import to_csv
from exchange.readers import ReadError
from exchange.roads import RoadFileError, import_roads, reason_text
from geo.blackspots import TREND_LABELS, SeverityWeights
from geo.boundaries import load_display, load_outline
from geo.emerging import CATEGORIES
from i18n import N_, Translator
from i18n.vocabulary import EMERGING_HELP, EMERGING_LABELS, GI_BIN_SHORT
from layers import basemap, boundaries
from layers import blackspots as blackspot_layer
from layers import density as density_layer
from layers import emerging as emerging_layer
from layers import hotspots as hotspot_layer
from layers.mapframe import TileConfig, finish, make_map
from storage.queries import IncidentFilter, Viewer
from storage.roads import CrashFilter
from views.common import current_viewer, demo_notice, get_store, has_demo, md_text, store_counts, translator
from views.incident_filters import incident_filter

RESOLUTIONS = (6, 7, 8, 9)
#: Largest study area analysed on the page (cells); beyond, the commander narrows units or coarsens.
MAX_CELLS = 600_000
#: Kernel bandwidths offered for the density surface (metres; 0 = no surface).
BANDWIDTHS = (0, 250, 500, 1000, 2000, 5000)
STEP_LABELS = {"month": N_("Months"), "week": N_("Weeks")}


@dataclass(frozen=True)
class Params:
    """What the commander chose; hashable so analyses are cached per choice."""

    flt: IncidentFilter
    resolution: int
    k: int
    fdr: bool


@dataclass(frozen=True)
class HotspotRun:
    """One Gi* analysis with what the page and the brief print next to it."""

    table: pd.DataFrame
    top: pd.DataFrame
    placed_by_name: int
    has_previous: bool


def _version() -> tuple[int, ...]:
    """Changes when records are added or removed, so cached analyses follow imports and undos."""
    counts = store_counts(get_store().url)
    return tuple(sorted(counts.items()))


@st.cache_data(ttl=600, max_entries=24, show_spinner=False)
def _hotspots(store_url: str, version: tuple, params: Params, viewer: Viewer) -> HotspotRun:
    store = get_store()
    result = hs.run_hotspots(store, params.flt, resolution=params.resolution, k=params.k, fdr=params.fdr,
                             viewer=viewer, max_cells=MAX_CELLS)
    previous = None
    prev_flt = hs.previous_filter(params.flt)
    if prev_flt is not None and len(result.table):
        study = np.array([int(c, 16) for c in result.table["cell"]], dtype=np.uint64)
        previous = hs.cell_counts(store, prev_flt, viewer, params.resolution, study)
    top = hs.top_hotspots(result, previous)
    return HotspotRun(result.table, top, hs.placed_by_name(store, params.flt, viewer), previous is not None)


@st.cache_data(ttl=600, max_entries=12, show_spinner=False)
def _density(store_url: str, version: tuple, flt: IncidentFilter, bandwidth: int, viewer: Viewer):
    bounds = _bounds(flt)
    extent = None if bounds is None else (bounds[0][1], bounds[0][0], bounds[1][1], bounds[1][0])
    return hs.density(get_store(), flt, viewer, float(bandwidth), extent)


@st.cache_data(ttl=600, max_entries=12, show_spinner=False)
def _emerging(store_url: str, version: tuple, params: Params, step: str, viewer: Viewer) -> hs.EmergingResult:
    return hs.run_emerging(get_store(), params.flt, resolution=params.resolution, k=params.k, step=step,
                           fdr=params.fdr, viewer=viewer, max_cells=MAX_CELLS)


def _num(t: Translator, value: float) -> str:
    """A figure with as many decimals as it needs to be read (0.74, 5.2, 36)."""
    value = float(value)
    digits = 0 if value.is_integer() or value >= 10 else 1 if value >= 1 else 2
    return t.n(value, digits)


def _resolution_label(t: Translator, res: int) -> str:
    return t("{res} (cells of about {area} km²)", res=res, area=_num(t, hs.CELL_AREA_KM2[res]))


def _ring_label(t: Translator, k: int, res: int) -> str:
    reach = k * np.sqrt(3) * hs.CELL_EDGE_KM[res]
    return t("{k} ring(s) (about {km} km around each cell)", k=k, km=t.n(float(reach), 1))


def _bounds(flt: IncidentFilter) -> tuple[tuple[float, float], tuple[float, float]] | None:
    shapes = [load_display(level, "low").query("unit_id == @uid") for level, uid in flt.units]
    shapes = [s for s in shapes if len(s)]
    if not shapes:
        return None
    bounds = np.array([s.total_bounds for s in shapes])
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    return (south, west), (north, east)


def _map(t: Translator, flt: IncidentFilter, *groups: folium.FeatureGroup) -> folium.Map:
    credits = [t(boundaries.ATTRIBUTION)]
    if has_demo(get_store().url):
        credits.append(t("Incidents: demo data (synthetic)"))
    tiles = TileConfig.from_env()
    m = make_map(t, tiles=tiles, attributions=tuple(credits), bounds=_bounds(flt))
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    level = "subprefecture" if flt.units else "prefecture"
    boundaries.build(load_display(level, "medium" if flt.units else "low"), t=t, level=level,
                     labels=bool(flt.units), interactive=False).add_to(m)
    for group in groups:
        group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return finish(m)


def caveats(t: Translator, run: HotspotRun, params: Params, viewer: Viewer, demo: bool) -> list[str]:
    """The limits a reader of the results must know, shared by the page and the PDF brief."""
    out = []
    if run.placed_by_name:
        out.append(t("{n} incidents placed by name only (at a unit's centre, not a true location) are left out "
                     "of the analysis.", n=t.n(run.placed_by_name)))
    if not viewer.can_see_sensitive:
        out.append(t("Sensitive reports are counted but small counts (below {n}) are hidden for your role, so "
                     "some cells may count slightly fewer incidents than were reported.",
                     n=viewer.suppression_threshold))
    if params.fdr:
        out.append(t("Confidence levels are corrected for testing many cells at once (False Discovery Rate)."))
    else:
        out.append(t("Without the False Discovery Rate correction, about 10 % of the cells may be flagged at "
                     "90 % confidence by chance alone."))
    out.append(t("A hot spot means more incidents than expected around that place; it reflects what is "
                 "reported, which depends on who reports and where."))
    if demo:
        out.append(t("Demo data: synthetic incidents, not real reports."))
    return out


def parameters(t: Translator, params: Params, *, categories: str, units: str) -> list[tuple[str, str]]:
    """(label, value) pairs describing an analysis, for the page and the PDF brief."""
    flt = params.flt
    period = "–"
    if flt.start is not None and flt.end is not None:
        last = flt.end - pd.Timedelta(days=1)
        period = t("{start} to {end}", start=t.d(flt.start.date(), "long"), end=t.d(last.date(), "long"))
    return [
        (t("Period"), period),
        (t("Categories"), categories),
        (t("Study area"), units),
        (t("Hexagon size (H3 resolution)"), _resolution_label(t, params.resolution)),
        (t("Neighbourhood"), _ring_label(t, params.k, params.resolution)),
        (t("False Discovery Rate correction"), t("yes") if params.fdr else t("no")),
        (t("Method"), t("Getis-Ord Gi* on incident counts per hexagon, empty hexagons included")),
    ]


def _unit_text(t: Translator, flt: IncidentFilter) -> str:
    if not flt.units:
        return t("All sub-prefectures with reports")
    names = hs.unit_names()
    return ", ".join(names.get((level, uid), uid) for level, uid in flt.units)


def _category_text(t: Translator, flt: IncidentFilter) -> str:
    from views.common import taxonomy

    if not flt.categories:
        return t("All categories")
    return ", ".join(taxonomy().label(c, t.lang) for c in flt.categories)


#: Widget defaults, set once per session (a widget given both a key in the state and a value warns).
DEFAULTS = {"hot_view": "gi", "hot_bandwidth": 0, "hot_res": 8, "hot_k": 1, "hot_fdr": True, "emg_step": "month",
            "emg_res": 7, "emg_k": 1}


def _controls(t: Translator) -> Params:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    with st.form("hotspot_form"):
        flt = incident_filter(t, prefix="hot")
        cols = st.columns([2, 2, 1])
        res = cols[0].select_slider(t("Hexagon size (H3 resolution)"), RESOLUTIONS, key="hot_res",
                                    format_func=lambda r: _resolution_label(t, r))
        k = cols[1].select_slider(t("Neighbourhood"), (1, 2, 3), key="hot_k",
                                  format_func=lambda k: t("{k} ring(s) of hexagons", k=k),
                                  help=t("Neighbours of a hexagon: the rings of hexagons around it."))
        fdr = cols[2].checkbox(t("FDR correction"), key="hot_fdr",
                               help=t("Benjamini-Hochberg False Discovery Rate: fewer cells flagged by chance."))
        st.select_slider(t("Density surface"), BANDWIDTHS, key="hot_bandwidth",
                         format_func=lambda b: t("none") if not b else t("smoothing over {m} m", m=t.n(b)),
                         help=t("A kernel density surface under the hexagons: where incidents are dense, "
                                "smoothed over the chosen distance."))
        st.form_submit_button(t("Analyse"), type="primary")
    return Params(flt=flt, resolution=int(res), k=int(k), fdr=bool(fdr))


def _top_table(t: Translator, top: pd.DataFrame, has_previous: bool) -> pd.DataFrame:
    shown = pd.DataFrame({
        t("Rank"): top["rank"],
        t("Place"): top["unit"],
        t("Incidents"): top["count"],
        t("Previous period"): top["previous"] if has_previous else np.nan,
        t("Change"): top["change"] if has_previous else np.nan,
        t("Gi* z-score"): top["gi_z"].round(2),
        t("Confidence"): [t(GI_BIN_SHORT[int(b)]) for b in top["gi_bin"]],
        t("Cell (H3)"): top["cell"],
    })
    return shown


def _hotspot_tab(t: Translator, params: Params, viewer: Viewer) -> None:
    try:
        with st.spinner(t("Computing hot spots…")):
            run = _hotspots(get_store().url, _version(), params, viewer)
    except hs.StudyAreaTooLarge as exc:
        st.warning(t("The study area holds about {n} hexagons at this size (at most {limit}): choose units or "
                     "a larger hexagon size.", n=t.n(exc.cells), limit=t.n(exc.limit)))
        return
    table = run.table
    if table.empty or int(table["count"].sum()) == 0:
        st.info(t("No located incident matches these filters."))
        return
    bins = table["gi_bin"].to_numpy()
    cols = st.columns(4)
    cols[0].metric(t("Hexagons analysed"), t.n(len(table)))
    cols[1].metric(t("Incidents analysed"), t.n(int(table["count"].sum())))
    cols[2].metric(t("Hot spot hexagons"), t.n(int((bins > 0).sum())),
                   help=t("of which at 99 % confidence: {n}", n=t.n(int((bins == 3).sum()))))
    cols[3].metric(t("Cold spot hexagons"), t.n(int((bins < 0).sum())))
    groups = [hotspot_layer.build(table, t=t)]
    bandwidth = st.session_state.get("hot_bandwidth", 0)
    if bandwidth:
        with st.spinner(t("Computing the density surface…")):
            surface = _density(get_store().url, _version(), params.flt, int(bandwidth), viewer)
        groups.insert(0, density_layer.build(surface, t=t))
    m = _map(t, params.flt, *groups)
    st_folium(m, key="hotspot_map", height=560, use_container_width=True, returned_objects=[])
    st.subheader(t("Top hot spots"))
    if run.top.empty:
        st.info(t("No significant hot spot with these settings."))
    else:
        st.dataframe(_top_table(t, run.top, run.has_previous), hide_index=True, width="stretch")
        if not run.has_previous:
            st.caption(t("Choose a closed period to compare with the previous period of the same length."))
    demo = has_demo(get_store().url)
    notes = caveats(t, run, params, viewer, demo)
    with st.expander(t("Parameters and caveats")):
        for label, value in parameters(t, params, categories=_category_text(t, params.flt),
                                       units=_unit_text(t, params.flt)):
            st.markdown(f"**{md_text(label)}** : {md_text(value)}")
        for note in notes:
            st.markdown(f"- {md_text(note)}")
    _downloads(t, run, params, notes, demo)




def _downloads(t: Translator, run: HotspotRun, params: Params, notes: list[str], demo: bool) -> None:
    if not current_viewer().can_export:
        return
    st.subheader(t("Downloads"))
    cols = st.columns(3)
    table = run.table.drop(columns=["lon", "lat"])
    csv, csv_mime = hs.to_bytes(table, "csv")
    cols[0].download_button(t("Cells (CSV)"), csv, file_name="proximite-points-chauds.csv", mime=csv_mime,
                            key="hot_csv")
    significant = run.table[run.table["gi_bin"] != 0].drop(columns=["lon", "lat"])
    geo, geo_mime = hs.to_bytes(significant, "geojson")
    cols[1].download_button(t("Significant cells (GeoJSON)"), geo, file_name="proximite-points-chauds.geojson",
                            mime=geo_mime, key="hot_geojson")
    if cols[2].button(t("Prepare the PDF brief"), key="hot_pdf_prepare"):
        from reports.hotspot_brief import hotspot_brief

        with st.spinner(t("Drawing the map and the brief…")):
            cells = hs.hexagons(run.table[run.table["gi_bin"] != 0])
            pdf = hotspot_brief(cells=cells, top=run.top, t=t, demo=demo, caveats=notes,
                                parameters=parameters(t, params, categories=_category_text(t, params.flt),
                                                      units=_unit_text(t, params.flt)),
                                generated_at=datetime.now(UTC), area_bounds=_area_bounds(run.table))
        cols[2].download_button(t("Download the PDF brief"), pdf, file_name="proximite-note-points-chauds.pdf",
                                mime="application/pdf", key="hot_pdf")


def _area_bounds(table: pd.DataFrame) -> tuple[float, float, float, float] | None:
    hot = table[table["gi_bin"] != 0]
    if hot.empty:
        return None
    return (float(hot["lon"].min()), float(hot["lat"].min()), float(hot["lon"].max()), float(hot["lat"].max()))


def _emerging_tab(t: Translator, params: Params, viewer: Viewer) -> None:
    st.caption(t("Gi* is computed for every period, then a Mann-Kendall test tells whether each hexagon is "
                 "getting hotter or colder. Periods end at the newest report and reach back to the start of "
                 "the chosen period (at most 24)."))
    cols = st.columns(3)
    step = cols[0].radio(t("Periods"), list(STEP_LABELS), horizontal=True, key="emg_step",
                         format_func=lambda s: t(STEP_LABELS[s]))
    res = cols[1].select_slider(t("Hexagon size (H3 resolution)"), RESOLUTIONS, key="emg_res",
                                format_func=lambda r: _resolution_label(t, r),
                                help=t("Monthly counts are sparse: larger hexagons give steadier trends."))
    k = cols[2].select_slider(t("Neighbourhood"), (1, 2, 3), key="emg_k",
                              format_func=lambda k: t("{k} ring(s) of hexagons", k=k))
    emg_params = Params(flt=params.flt, resolution=int(res), k=int(k), fdr=params.fdr)
    try:
        with st.spinner(t("Computing emerging hot spots…")):
            result = _emerging(get_store().url, _version(), emg_params, step, viewer)
    except hs.StudyAreaTooLarge as exc:
        st.warning(t("The study area holds about {n} hexagons at this size (at most {limit}): choose units or "
                     "a larger hexagon size.", n=t.n(exc.cells), limit=t.n(exc.limit)))
        return
    except ValueError:
        st.info(t("Not enough data for a trend: the period must hold at least two whole periods with reports."))
        return
    first, last = result.periods[0][0], result.periods[-1][1]
    st.markdown(t("{n} periods from {start} to {end}.", n=len(result.periods), start=t.d(first.date(), "medium"),
                  end=t.d((last - pd.Timedelta(seconds=1)).date(), "medium")))
    table = result.table
    patterned = table[table["category"].astype(str) != "no pattern"]
    m = _map(t, params.flt, emerging_layer.build(patterned, t=t))
    st_folium(m, key="emerging_map", height=520, use_container_width=True, returned_objects=[])
    summary = (patterned.groupby(patterned["category"].astype(str))
               .agg(cells=("cell", "size"), incidents=("count", "sum"), last=("last", "sum")))
    order = [c for c in CATEGORIES if c in summary.index]
    summary = summary.loc[order]
    st.dataframe(pd.DataFrame({
        t("Pattern"): [t(EMERGING_LABELS[c]) for c in summary.index],
        t("Hexagons"): summary["cells"].to_numpy(),
        t("Incidents"): summary["incidents"].to_numpy(),
        t("In the last period"): summary["last"].to_numpy(),
        t("Meaning"): [t(EMERGING_HELP[c]) if c in EMERGING_HELP else "" for c in summary.index],
    }), hide_index=True, width="stretch")
    if len(patterned):
        ranked = patterned.assign(order=patterned["category"].cat.codes).sort_values(
            ["order", "count"], ascending=[True, False]).head(50)
        st.dataframe(pd.DataFrame({
            t("Place"): hs.places(ranked["lon"].to_numpy(), ranked["lat"].to_numpy()),
            t("Pattern"): [t(EMERGING_LABELS[str(c)]) for c in ranked["category"]],
            t("Incidents"): ranked["count"].to_numpy(),
            t("In the last period"): ranked["last"].to_numpy(),
            t("Trend z"): ranked["trend_z"].round(2).to_numpy(),
            t("Cell (H3)"): ranked["cell"].to_numpy(),
        }), hide_index=True, width="stretch")
        data, mime = hs.to_bytes(patterned.drop(columns=["lon", "lat"]).assign(
            category=patterned["category"].astype(str)), "csv")
        st.download_button(t("Emerging hot spots (CSV)"), data, file_name="proximite-points-chauds-emergents.csv",
                           mime=mime, key="emg_csv")


ANALYSES = {"gi": N_("Hot spots (Gi*)"), "emerging": N_("Emerging hot spots"), "blackspots": N_("Road black spots")}
BLACKSPOT_METHODS = {"cells": N_("Hexagons"), "roads": N_("Road segments")}


@st.cache_data(ttl=600, max_entries=12, show_spinner=False)
def _blackspots(store_url: str, version: tuple, flt: CrashFilter, method: str, resolution: int, segment_m: int,
                tolerance_m: int, weights: SeverityWeights) -> bs.BlackspotResult:
    return bs.run_blackspots(get_store(), flt, method=method, resolution=resolution, segment_m=float(segment_m),
                             tolerance_m=float(tolerance_m), weights=weights)


def _blackspot_controls(t: Translator) -> tuple[str, int, int, int, SeverityWeights]:
    for key, value in {"bs_method": "cells", "bs_res": 8, "bs_segment": 500, "bs_tolerance": 50,
                       "bs_fatal": 10.0, "bs_serious": 5.0, "bs_slight": 1.0}.items():
        st.session_state.setdefault(key, value)
    with st.form("blackspot_form"):
        cols = st.columns([2, 2, 1, 1])
        method = cols[0].radio(t("Spots"), list(BLACKSPOT_METHODS), key="bs_method", horizontal=True,
                               format_func=lambda m: t(BLACKSPOT_METHODS[m]))
        res = cols[1].select_slider(t("Hexagon size (H3 resolution)"), RESOLUTIONS, key="bs_res",
                                    format_func=lambda r: _resolution_label(t, r))
        segment = cols[2].number_input(t("Segment length (m)"), 100, 5000, step=100, key="bs_segment")
        tolerance = cols[3].number_input(t("Snapping distance (m)"), 5, 500, step=5, key="bs_tolerance",
                                         help=t("Crashes farther than this from every road are not assigned to "
                                                "a segment (they are counted and reported)."))
        st.caption(t("Weight of one crash in the score, by severity (equivalent property-damage crashes):"))
        cols = st.columns(3)
        fatal = cols[0].number_input(t("Fatal"), 0.0, 1000.0, step=1.0, key="bs_fatal")
        serious = cols[1].number_input(t("Serious injury"), 0.0, 1000.0, step=1.0, key="bs_serious")
        slight = cols[2].number_input(t("Slight injury"), 0.0, 1000.0, step=1.0, key="bs_slight")
        st.form_submit_button(t("Rank black spots"), type="primary")
    try:
        weights = SeverityWeights(fatal=fatal, serious=serious, slight=slight)
    except ValueError:
        st.warning(t("At least one severity weight must be above zero; the default weights are used."))
        weights = SeverityWeights()
    return method, int(res), int(segment), int(tolerance), weights


def _blackspot_tab(t: Translator, params: Params) -> None:
    st.caption(t("Crashes weighted by severity, on hexagons or on stretches of road. The period and units "
                 "chosen above apply; categories do not."))
    method, res, segment, tolerance, weights = _blackspot_controls(t)
    flt = CrashFilter(start=params.flt.start, end=params.flt.end, units=params.flt.units)
    try:
        with st.spinner(t("Ranking black spots…")):
            result = _blackspots(get_store().url, _version(), flt, method, res, segment, tolerance, weights)
    except bs.NoRoadNetwork:
        st.info(t("No road network is stored yet: import one below, or rank the black spots on hexagons."))
        _road_import(t)
        return
    table = result.table
    if table.empty:
        st.info(t("No located crash matches these filters."))
        _road_import(t)
        return
    cols = st.columns(4)
    cols[0].metric(t("Crashes"), t.n(result.n_crashes))
    cols[1].metric(t("Killed"), t.n(int(table["killed"].sum())))
    cols[2].metric(t("Injured"), t.n(int(table["injured"].sum())))
    cols[3].metric(t("Spots with crashes"), t.n(len(table)))
    left_out = sum(result.unassigned.values())
    if left_out:
        st.warning(t("{n} crashes are not on the map: {beyond} farther than {m} m from any road, {none} without "
                     "coordinates.", n=t.n(left_out), beyond=t.n(result.unassigned.get("beyond_tolerance", 0)),
                     m=tolerance, none=t.n(result.unassigned.get("no_coordinates", 0))))
    m = _map(t, params.flt, blackspot_layer.build(table, t=t))
    st_folium(m, key="blackspot_map", height=520, use_container_width=True, returned_objects=[])
    top = table.sort_values("rank").head(20)
    shown = pd.DataFrame({
        t("Rank"): top["rank"].to_numpy(),
        t("Road"): top["road"].to_numpy(),
        t("Place"): top["place"].to_numpy(),
        t("Crashes"): top["crashes"].to_numpy(),
        t("Fatal"): top["fatal"].to_numpy(),
        t("Serious injury"): top["serious"].to_numpy(),
        t("Slight injury"): top["slight"].to_numpy(),
        t("Killed"): top["killed"].to_numpy(),
        t("Injured"): top["injured"].to_numpy(),
        t("Score"): top["epdo"].round(1).to_numpy(),
        t("Trend"): [t(TREND_LABELS.get(str(x), str(x))) for x in top["trend"]],
    })
    if method == "roads":
        shown.insert(4, t("Crashes per km"), top["crashes_per_km"].round(1).to_numpy())
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(t("Score: {weights}. Trend: Mann-Kendall test on monthly counts (5 % level).",
                 weights=t("fatal {a}, serious {b}, slight {c}", a=_num(t, weights.fatal),
                           b=_num(t, weights.serious), c=_num(t, weights.slight))))
    plain = table.copy()
    for name in plain.columns:
        if plain[name].dtype == np.uint64:
            plain[name] = plain[name].astype(str)
    cols = st.columns(2)
    cols[0].download_button(t("Black spots (CSV)"), to_csv(plain.drop(columns="geometry")),
                            file_name="proximite-points-noirs.csv", mime="text/csv", key="bs_csv")
    cols[1].download_button(t("Black spots (GeoJSON)"), plain.to_json(drop_id=True, ensure_ascii=False),
                            file_name="proximite-points-noirs.geojson", mime="application/geo+json",
                            key="bs_geojson")
    _road_import(t)


def _road_import(t: Translator) -> None:
    with st.expander(t("Import a road network")):
        st.caption(t("Lines in GeoJSON, GeoPackage or a zipped Shapefile (for example an OpenStreetMap extract). "
                     "The latest network imported is used; undo it from the import history."))
        upload = st.file_uploader(t("Road network file"), type=["geojson", "json", "gpkg", "zip"],
                                  key="bs_roads_file")
        if upload is not None and st.button(t("Import the roads"), key="bs_roads_import"):
            try:
                layer, batch = import_roads(get_store(), upload.getvalue(), upload.name,
                                            created_by=current_viewer().name, user=current_viewer())
            except (RoadFileError, ReadError) as exc:
                st.error(t("Cannot import {file}: {reason}", file=upload.name, reason=reason_text(t, exc.code))
                         + f" ({exc.detail})")
                return
            store_counts.clear()
            st.success(t("{n} road lines imported from {file}.", n=t.n(len(layer.roads)), file=upload.name))


def render() -> None:
    t = translator()
    st.title(t("Hot spots"))
    demo_notice(t)
    st.caption(t("Where incidents concentrate beyond chance (Getis-Ord Gi*), whether that is new or growing, "
                 "and where road crashes kill."))
    params = _controls(t)
    viewer = current_viewer()
    # One analysis at a time: only what is shown is computed (modest laptops), and its map is drawn
    # visible, so Leaflet fits it at its real size.
    view = st.radio(t("Analysis"), list(ANALYSES), key="hot_view", horizontal=True,
                    format_func=lambda v: t(ANALYSES[v]))
    if view == "emerging":
        _emerging_tab(t, params, viewer)
    elif view == "blackspots":
        _blackspot_tab(t, params)
    else:
        _hotspot_tab(t, params, viewer)
    st.caption(t(boundaries.ATTRIBUTION))
