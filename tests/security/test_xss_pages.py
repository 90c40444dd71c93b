"""The pages show stored user text as text (Streamlit AppTest), and never hand it to an HTML or template sink.

One store holds payloads in every field a page shows: programme records, import batches
(file names), saved column mappings, review items (column names and values), neighbourhoods,
road names. Each page runs in both languages; whatever it shows (markdown, captions, alerts,
widget labels and options, table cells) must hold the payload as typed, in an element that
does not render HTML. The maps inside the pages cannot be seen by AppTest, but the server
renders them: a name holding Jinja code must neither run nor break the page. A static check
keeps ``unsafe_allow_html``, ``st.html`` and ``components.html`` away from anything but literals.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from storage import Store

from .conftest import app_store, page
from .payloads import MD_IMAGE, MD_LINK, PAYLOAD, TEMPLATE

ROOT = Path(__file__).resolve().parents[2]
KALOUM = {"region_id": "GN-C", "prefecture_id": "GN-C", "subprefecture_id": "GN-C-KALOUM"}
TODAY = dt.date.today()
#: Column names of a file whose rows wait in the review queue (a reviewer sees them as field labels).
REVIEW_COLUMNS = {PAYLOAD: PAYLOAD, "categorie": "vol", MD_IMAGE: MD_LINK}
MARKDOWN_ELEMENTS = ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader",
                     "text", "code", "json", "exception")
WIDGETS = ("text_input", "text_area", "selectbox", "multiselect", "radio", "number_input", "date_input",
           "button", "checkbox", "toggle", "file_uploader", "select_slider", "slider")


def _fill(store: Store) -> None:
    days = [TODAY - dt.timedelta(days=d) for d in (10, 20)]
    store.write({
        "station": pd.DataFrame([{"id": 1, "name": PAYLOAD, "kind": "poste", "contact": PAYLOAD, **KALOUM,
                                  "lon": -13.7105, "lat": 9.5149}]),
        "council": pd.DataFrame([{"id": 1, "name": PAYLOAD, "unit_level": "subprefecture", "unit_id": "GN-C-KALOUM",
                                  "chair_name": PAYLOAD, "members_total": 10, "members_women": 4, **KALOUM}]),
        "council_meeting": pd.DataFrame({"id": [1], "council_id": [1], "held_on": [days[0]], "topics": [PAYLOAD],
                                         "decisions": [PAYLOAD]}),
        "school": pd.DataFrame([{"id": 1, "name": PAYLOAD, "level": "primary", **KALOUM, "lon": -13.711,
                                 "lat": 9.512}]),
        "outreach_officer": pd.DataFrame({"id": [1], "name": [PAYLOAD], "station_id": [1]}),
        "school_visit": pd.DataFrame({"id": [1], "school_id": [1], "officer_id": [1], "visited_on": [days[1]],
                                      "students_reached": [120], "topics": [PAYLOAD]}),
        "women_visit_day": pd.DataFrame({"id": [1], "station_id": [1], "held_on": [days[0]], "women_count": [30],
                                         "topics": [PAYLOAD]}),
        "instructor": pd.DataFrame({"id": [1], "name": [PAYLOAD]}),
        "training": pd.DataFrame([{"id": 1, "community_name": PAYLOAD, **KALOUM, "start_on": days[1],
                                   "end_on": days[0], "module": "doctrine", "officers_trained": 25}]),
        "training_instructor": pd.DataFrame({"training_id": [1], "instructor_id": [1]}),
    }, kind="test")
    mapping = json.dumps({"fields": {"category": "categorie"}, "flavour": "generic", "confidence": {}})
    review = pd.DataFrame({"source_row": [2], "data": [REVIEW_COLUMNS], "reasons": [["date_missing"]]})
    records = pd.DataFrame(columns=["occurred_at", "category"])
    store.import_records("incident", records, review, kind="incidents", file_name=PAYLOAD, file_sha256="0" * 64,
                         mapping=mapping)
    store.save_mapping("incidents", PAYLOAD, mapping)
    store.add_neighbourhood(PAYLOAD, shapely.box(-13.712, 9.508, -13.708, 9.512))
    road = shapely.LineString([(-13.60, 9.60), (-13.58, 9.61)])
    store.write_roads(gpd.GeoDataFrame({"name": [PAYLOAD], "length_m": [2300.0]}, geometry=[road],
                                       crs="EPSG:4326"), file_name=PAYLOAD)
    n = 6
    store.write({"road_crash": pd.DataFrame({
        "occurred_at": pd.date_range(end=pd.Timestamp(TODAY, tz="UTC") - pd.Timedelta(days=5), periods=n, freq="7D"),
        "severity": ["fatal", "serious", "slight"] * 2, "road_name": [PAYLOAD] * n, "description": [PAYLOAD] * n,
        "lon": np.linspace(-13.599, -13.581, n), "lat": np.linspace(9.6005, 9.6095, n), **KALOUM})}, kind="test")


@pytest.fixture(scope="module")
def app_data(tmp_path_factory) -> Store:
    """The store the pages open, filled by :func:`_fill`."""
    with app_store(tmp_path_factory.mktemp("xss-pages") / "app.db") as opened:
        _fill(opened)
        yield opened


# --- what a page shows ------------------------------------------------------------------------------

def shown(at) -> list[tuple[str, str, bool]]:
    """(where, text, renders HTML) for everything the page displays as text."""
    out: list[tuple[str, str, bool]] = []
    for kind in MARKDOWN_ELEMENTS:
        for el in at.get(kind):
            allow = bool(getattr(el.proto, "allow_html", False))
            out.append((kind, str(getattr(el, "value", "")), allow))
    for el in at.get("html"):
        out.append(("html", str(el.proto), True))
    for kind in WIDGETS:
        for w in at.get(kind):
            out.append((f"{kind} label", str(getattr(w, "label", "")), False))
            for option in getattr(w, "options", None) or []:
                out.append((f"{kind} option", str(option), False))
            value = getattr(w, "value", None)
            if isinstance(value, str):
                out.append((f"{kind} value", value, False))
    for frame in at.dataframe:
        table = frame.value
        out += [("table header", str(c), False) for c in table.columns]
        out += [("table cell", str(v), False) for v in table.astype(str).to_numpy().ravel()]
    return out


def assert_shown_as_text(at, where: str) -> None:
    assert not at.exception, f"{where}: {at.exception}"
    texts = shown(at)
    html = [(k, t) for k, t, allow in texts if allow and ("alert(" in t or "onerror" in t)]
    assert not html, f"{where}: user text in an element that renders HTML: {html}"
    assert any(PAYLOAD in t for _, t, _ in texts), f"{where}: the stored text is not shown"
    formatted = [(k, t) for k, t, _ in texts if "alert(4) 49" in t or "{7*7}" in t.replace(TEMPLATE, "")]
    assert not formatted, f"{where}: {TEMPLATE!r} was evaluated or formatted: {formatted}"


# --- pages --------------------------------------------------------------------------------------------

RECORD_TABLES = ("council", "council_meeting", "school", "outreach_officer", "school_visit", "station",
                 "women_visit_day", "instructor", "training")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_activities_pages_show_every_record_field_as_text(app_data, lang):
    for table in RECORD_TABLES:
        at = page("activities", lang, {"rec_table": table}).run()
        assert_shown_as_text(at, f"activities/{table} ({lang})")
        cells = {t for k, t, _ in shown(at) if k == "table cell"}
        assert PAYLOAD in cells, f"activities/{table}: the recorded table does not show the text as typed"


@pytest.mark.parametrize(("module", "session"), [
    ("imports", None),
    ("review", None),
    ("neighbourhoods", None),
    ("map", {"map_level": "subprefecture", "map_query": PAYLOAD}),
    ("hotspots", {"hot_view": "blackspots", "bs_method": "roads"}),
], ids=["imports", "review", "neighbourhoods", "map", "blackspots"])
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_show_stored_text_as_text(app_data, module, session, lang):
    at = page(module, lang, session).run()
    assert_shown_as_text(at, f"{module} ({lang})")


def test_programme_page_with_every_layer_renders_names_as_text(app_data):
    """The programme map draws every record name (councils, schools, women's days, trainings, stations)."""
    layers = ["councils", "schools", "women_days", "trainings", "stations"]
    at = page("programme", "fr", {"prog_layers": layers}).run()
    assert not at.exception, at.exception


def test_import_page_shows_an_uploaded_file_and_its_headers_as_text(app_data):
    at = page("imports", "fr").run()
    body = f"date;categorie;{PAYLOAD}\n2026-01-02;vol;{PAYLOAD}\n".encode()
    at.file_uploader(key="import_upload").upload(f"{PAYLOAD}.csv", body, "text/csv").run()
    assert_shown_as_text(at, "imports after upload")
    options = {t for k, t, _ in shown(at) if k == "selectbox option"}
    assert PAYLOAD in options, "a column or saved mapping named with the payload is not offered as typed"


#: Jinja code that, if run, sets an environment variable of the test process (and prints nothing). No quote:
#: the layers escape quotes to entities, which Jinja would refuse to parse (the page would fail instead).
MARKER = "PROXIMITE_TEMPLATE_RAN"
SERVER_CODE = f"{{{{ cycler.__init__.__globals__.os.environ.update({MARKER}=cycler.__name__) }}}}"


def _with_station(store: Store, name: str) -> int:
    """Store one more station; the page's cached record counts (a minute) are dropped so it reads it now."""
    from streamlit.runtime.caching import cache_data

    batch = store.write({"station": pd.DataFrame([{"name": name, "kind": "poste", **KALOUM, "lon": -13.70,
                                                   "lat": 9.52}])}, kind="test")
    cache_data.clear()
    return batch


def _without(store: Store, batch: int) -> None:
    from streamlit.runtime.caching import cache_data

    store.undo_batch(batch)
    cache_data.clear()


def test_a_station_name_never_runs_code_on_the_server(app_data):
    """The programme page renders its map with folium on the server (st_folium renders the whole figure):
    a name holding Jinja code is evaluated there, with access to ``os``, unless names are kept from Jinja."""
    batch = _with_station(app_data, SERVER_CODE)
    os.environ.pop(MARKER, None)
    try:
        at = page("programme", "fr", {"prog_layers": ["stations"]}).run()
        ran = os.environ.get(MARKER)
    finally:
        os.environ.pop(MARKER, None)
        _without(app_data, batch)
    assert not at.exception, at.exception
    assert ran is None, "a station name ran Python in the server process (it set an environment variable)"


@pytest.mark.parametrize("name", ["Poste {{", "Poste {% x %}", "Poste {# note"])
def test_a_station_name_with_template_delimiters_does_not_break_the_programme_page(app_data, name):
    batch = _with_station(app_data, name)
    try:
        at = page("programme", "fr", {"prog_layers": ["stations"]}).run()
    finally:
        _without(app_data, batch)
    assert not at.exception, f"a station named {name!r} takes the programme page down: {at.exception}"


def test_column_names_from_a_file_are_not_markdown_on_the_review_page(app_data):
    """A reviewer sees the columns of someone else's file as field labels, which Streamlit renders as
    markdown: ``![x](http://...)`` would load an image from that host, ``[..](..)`` make a link."""
    at = page("review", "fr").run()
    assert not at.exception, at.exception
    labels = [t for k, t, _ in shown(at) if k.endswith("label")]
    assert any("192.0.2.7" in t for t in labels), "the column name is not shown at all"
    live = [t for t in labels if MD_IMAGE in t or MD_LINK in t]
    assert not live, f"markdown from a file's column names is rendered as markdown: {live}"


# --- static check -------------------------------------------------------------------------------------

HTML_SINKS = {"html"}  # st.html, components.html, st.components.v1.html


def html_sinks(path: Path, root: Path = ROOT) -> list[str]:
    """Calls in ``path`` that render HTML from an argument that is not a string literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant) and isinstance(node.value.value,
                                                                                                    str)}

    def literal(node: ast.AST | None) -> bool:
        return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
            isinstance(node, ast.Name) and node.id in constants)

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        unsafe = [k for k in node.keywords if k.arg == "unsafe_allow_html"
                  and not (isinstance(k.value, ast.Constant) and k.value.value is False)]
        first = node.args[0] if node.args else None
        if (unsafe or name in HTML_SINKS) and not literal(first):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)[:100]}")
    return found


def test_the_html_sink_check_finds_user_text(tmp_path: Path):
    sample = tmp_path / "views_sample.py"
    sample.write_text("import streamlit as st\nCSS = '<style></style>'\n"
                      "st.markdown(CSS, unsafe_allow_html=True)\n"
                      "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\n"
                      "st.html(row.description)\nst.markdown(name)\n", encoding="utf-8")
    found = html_sinks(sample, tmp_path)
    assert [f.split(": ", 1)[1] for f in found] == ["st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)",
                                                   "st.html(row.description)"]


def test_pages_never_render_html_built_from_data():
    files = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]
    found = [f for path in files for f in html_sinks(path)]
    assert not found, "HTML rendered from non-literal text:\n" + "\n".join(found)
