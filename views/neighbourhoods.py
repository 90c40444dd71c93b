"""Neighbourhoods page ("Quartiers"): add quartiers by drawing them on the map or importing a file.

They join the hierarchy under the commune they overlap most, the gazetteer
(search and geocoding by name) and the councils' units. Every addition is a
batch that can be undone from the import history.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import folium
import folium.plugins

from exchange.neighbourhoods import check_drawn, import_neighbourhoods, issue_text, shape_messages
from exchange.readers import ReadError
from geo.boundaries import load_display, load_outline, unit_names
from geo.neighbourhoods import NeighbourhoodError
from i18n import Translator
from i18n.reasons import reason_text
from layers import basemap, boundaries
from layers import neighbourhoods as neighbourhood_layer
from layers.mapframe import TileConfig, finish, make_map
from views.common import current_viewer, flash, get_store, show_flashes, store_counts, translator

MAX_UPLOAD_MB = 50


def _communes() -> dict[str, str]:
    names = unit_names()
    subs = load_display("subprefecture", "low").drop(columns="geometry")
    return {row.unit_id: f"{row.name} ({names.get(('prefecture', row.prefecture_id), '')})"
            for row in subs.sort_values("name").itertuples(index=False)}


def _map(t: Translator, commune: str | None, stored) -> dict:
    tiles = TileConfig.from_env()
    bounds = None
    if commune:
        shape = load_display("subprefecture", "high")
        west, south, east, north = shape.loc[shape["unit_id"] == commune].total_bounds
        bounds = ((south, west), (north, east))
    m = make_map(t, tiles=tiles, attributions=(t(boundaries.ATTRIBUTION),), bounds=bounds)
    basemap.build(load_outline(), t=t, land_fill=0.35 if tiles.url else 1.0).add_to(m)
    subs = load_display("subprefecture", "high" if commune else "low")
    boundaries.build(subs, t=t, level="subprefecture", highlight=commune, labels=True,
                     interactive=False).add_to(m)
    neighbourhood_layer.build(stored, t=t).add_to(m)
    folium.plugins.Draw(
        export=False, position="topleft",
        draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                      "rectangle": True, "polygon": {"allowIntersection": False, "showArea": True}},
        edit_options={"edit": False, "remove": True},
    ).add_to(m)
    return st_folium(finish(m), key="neighbourhood_map", height=560, use_container_width=True,
                     returned_objects=["last_active_drawing"]) or {}


def _save_drawn(t: Translator, drawing: dict | None) -> None:
    st.subheader(t("Save the drawn neighbourhood"))
    geometry = (drawing or {}).get("geometry")
    if not geometry:
        st.caption(t("Draw the neighbourhood's outline with the polygon or rectangle tool at the top left of the "
                     "map, then name it here."))
        return
    with st.form("neighbourhood_draw"):
        name = st.text_input(t("Name of the neighbourhood"), key="nb_name")
        submitted = st.form_submit_button(t("Check and save"), type="primary")
    if not submitted:
        return
    store = get_store()
    check = check_drawn(name, geometry, store=store)
    errors, warnings = shape_messages(t, check)
    for text in warnings:
        st.warning(text)
    if errors:
        for text in errors:
            st.error(text)
        return
    try:
        store.add_neighbourhood(check.name, check.geometry, created_by=current_viewer().name, user=current_viewer())
    except NeighbourhoodError as exc:
        for code in exc.codes:
            st.error(reason_text(t, code))
        return
    _refresh()
    commune = unit_names().get(("subprefecture", check.subprefecture_id), check.subprefecture_id)
    flash("success", t("Neighbourhood {name} saved in {commune}.", name=check.name, commune=commune))
    st.rerun()


def _refresh() -> None:
    """New places: the cached gazetteer and counts must see them."""
    from views.common import gazetteer

    store_counts.clear()
    gazetteer.clear()


def _import(t: Translator) -> None:
    st.subheader(t("Import a file of neighbourhoods"))
    st.caption(t("Polygons in GeoJSON, GeoPackage, a zipped Shapefile or KML/KMZ, with a name column (nom, "
                 "quartier, name...). Each joins the commune it overlaps most."))
    upload = st.file_uploader(t("Neighbourhood file"), type=["geojson", "json", "gpkg", "zip", "kml", "kmz"],
                              key="nb_file")
    if upload is None:
        return
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_MB * 1_000_000:
        st.error(t("{file} is larger than {n} MB.", file=upload.name, n=MAX_UPLOAD_MB))
        return
    store = get_store()
    try:
        layer, _ = import_neighbourhoods(store, data, upload.name, dry_run=True)
    except (ReadError, NeighbourhoodError, ValueError) as exc:
        code = getattr(exc, "code", None) or (getattr(exc, "codes", None) or ("unreadable",))[0]
        st.error(t("Cannot import {file}: {reason}", file=upload.name, reason=reason_text(t, code)))
        return
    report = layer.report
    st.markdown(t("{kept} of {n} features can be imported.", kept=report.kept, n=report.features))
    for issue in report.issues:
        st.caption("– " + issue_text(t, issue))
    if report.kept and st.button(t("Import {n} neighbourhoods", n=report.kept), key="nb_import"):
        _, batch = import_neighbourhoods(store, data, upload.name, created_by=current_viewer().name,
                                         user=current_viewer())
        _refresh()
        flash("success", t("{n} neighbourhoods imported from {file}.", n=report.kept, file=upload.name))
        st.rerun()


def render() -> None:
    t = translator()
    st.title(t("Neighbourhoods"))
    show_flashes()
    st.caption(t("Quartiers and districts join the map, the search and the councils' units under their "
                 "commune. Draw one on the map or import a file."))
    communes = _communes()
    commune = st.selectbox(t("Commune or sub-prefecture"), [None, *communes], key="nb_commune",
                           format_func=lambda k: t("All of Guinea") if k is None else communes[k])
    store = get_store()
    stored = store.neighbourhoods(subprefecture_id=commune) if commune else store.neighbourhoods()
    left, right = st.columns([3, 2])
    with left:
        out = _map(t, commune, stored)
    with right:
        _save_drawn(t, out.get("last_active_drawing"))
    if len(stored):
        names = unit_names()
        st.dataframe(pd.DataFrame({
            t("Neighbourhood"): stored["name"],
            t("Commune or sub-prefecture"): [names.get(("subprefecture", s), s) for s in stored["subprefecture_id"]],
            t("Area (km²)"): stored["area_km2"].round(2),
        }), hide_index=True, width="stretch")
    else:
        st.info(t("No neighbourhood is stored yet."))
    _import(t)
