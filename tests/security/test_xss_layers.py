"""Every map layer, built from frames whose user-typed fields carry the payloads, renders them as text.

The rendered page is checked as a browser would see it (see :mod:`tests.security.payloads`): no
markup breaks out of the HTML or of a ``<script>`` JSON literal, nothing reaches a tooltip or popup
unescaped, every payload is shown escaped exactly once and ``{{7*7}}`` stays as typed. A layer
added to the registry fails :func:`test_every_registered_layer_is_covered` until it is listed here,
with its text fields, or in :data:`NO_USER_TEXT` with the reason.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import folium
import geopandas as gpd
import shapely

from geo.boundaries import load_display
from geo.taxonomy import default_taxonomy
from i18n import Translator
from layers import (
    REGISTRY,
    blackspots,
    boundaries,
    councils,
    incidents,
    neighbourhoods,
    priorities,
    schools,
    stations,
    trainings,
    women_days,
)
from layers.base import esc, label_marker
from layers.mapframe import finish, make_map

from .payloads import (
    IMG,
    JS_URL,
    MARKUP,
    PAYLOAD,
    SCRIPT,
    TEMPLATE,
    assert_page_safe,
    decode_js,
    decoded,
    markup_problems,
)

LANGS = ("fr", "en")
#: Layers that draw no user-typed text, and why.
NO_USER_TEXT = {
    "basemap": "land, coast and fixed country/sea names",
    "hotspots": "H3 cells, counts and statistics only",
    "emerging": "H3 cells, counts and a fixed pattern vocabulary",
    "density": "a PNG image and numbers",
}


def _render(group: folium.FeatureGroup, t: Translator) -> str:
    m = make_map(t)
    group.add_to(m)
    return finish(m).get_root().render()


# --- frames carrying the payloads in every text field a user can type ----------------------------------

def _boundaries(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    # Unit names come from vendored data today, but user neighbourhoods share the layer: treat them as typed.
    units = load_display("prefecture", "low").head(3).copy()
    units["name"] = [text, "Boké", text]
    regions = load_display("region", "low").head(2).copy()
    regions["name"] = text
    return boundaries.build(units, t=t, level="prefecture", parents={"region": regions}, labels=True)


def _neighbourhoods(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    box = shapely.box(-13.70, 9.51, -13.69, 9.52)
    frame = gpd.GeoDataFrame({"unit_id": ["GN-NB-1", "GN-NB-2"], "name": [text, "Boulbinet"],
                              "subprefecture_id": ["GN-C-KALOUM", "GN-C-KALOUM"],
                              "label_lon": [-13.695, -13.69], "label_lat": [9.515, 9.52]},
                             geometry=[box, shapely.box(-13.69, 9.52, -13.68, 9.53)], crs="EPSG:4326")
    return neighbourhoods.build(frame, t=t, highlight="GN-NB-1", labels=True)


def _incident_points(text: str = PAYLOAD, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({
        "id": range(n), "occurred_at": pd.date_range("2026-03-01", periods=n, tz="UTC"),
        # A category read from a file that is not in the taxonomy is shown as recorded.
        "category": [text, "vol", "vol"][:n], "sensitive": [False] * n, "severity": [1] * n,
        "description": [text] * n, "place_name": [text] * n,
        "lon": np.linspace(-13.66, -13.65, n), "lat": [9.55] * n, "precision": ["point"] * n, "is_demo": [False] * n,
    })


def _incidents(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    data = incidents.IncidentLayerData(mode="points", res=8, points=_incident_points(text))
    return incidents.build(data, t=t, taxonomy=default_taxonomy())


def _councils(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    boxes = [shapely.box(-13.7 + 0.1 * i, 9.5, -13.6 + 0.1 * i, 9.6) for i in range(3)]
    units = gpd.GeoDataFrame({"unit_id": ["GN-A", "GN-B", "GN-C"], "name": [text, "Kaloum", "Dixinn"]},
                             geometry=boxes, crs="EPSG:4326")
    status = pd.DataFrame({
        "subprefecture_id": ["GN-A", "GN-B"], "status": ["set_up", "active"],
        "council_names": [text, f"CLSPD de Kaloum; {text}"], "members_total": [10, 20],
        "members_women": [4, 5], "members_youth": [3, 10], "women_share": [0.4, 0.25], "youth_share": [0.3, 0.5],
        "last_meeting": [pd.NaT, pd.Timestamp("2026-03-12")], "meetings": [0, 4],
    })
    return councils.build(units, status, t=t, active_within_days=365)


def _schools(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    reach = pd.DataFrame({
        "name": [text, "Collège de Kipé"], "level": [text, "junior"], "lon": [-13.60, -13.61],
        "lat": [9.50, 9.51], "visits": [1, 4], "students_reached": [25, 400],
        "last_visit": [dt.date(2026, 3, 1), pd.NaT], "days_since_last_visit": [30, np.nan],
        "topics": [text, "drogues"],
    })
    return schools.build(reach, t=t)


def _station_frame(text: str = PAYLOAD) -> pd.DataFrame:
    return pd.DataFrame({
        "name": [text, "Poste de police de Bambeto"], "kind": [text, "poste"],
        "contact": [text, "622 00 00 00"], "lon": [-13.71, -13.62], "lat": [9.51, 9.60],
    })


def _stations(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    return stations.build(_station_frame(text), t=t)


def _stations_clustered(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    return stations.build(_station_frame(text), t=t, cluster_above=0)


def _trainings(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    communities = pd.DataFrame({
        "community_name": [text, "Kankan"], "lon": [-13.6, -9.3], "lat": [9.55, 10.38], "trainings": [6, 4],
        "officers_trained": [320, 80], "instructors": [9, 5], "modules": [f"doctrine; {text}", "vbg"],
        "first_start": [dt.date(2015, 3, 2), dt.date(2016, 1, 10)], "last_end": [dt.date(2019, 11, 29), pd.NaT],
    })
    return trainings.build(communities, t=t)


def _women_days(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    frame = pd.DataFrame({
        "name": [text, "Commissariat central de Kankan"], "lon": [-13.6, -9.3], "lat": [9.5, 10.38],
        "days": [3, 5], "women": [40, 160], "complaints_after": [2, np.nan],
        "last_day": [pd.Timestamp("2026-02-03"), pd.NaT],
    })
    return women_days.build(frame, t=t)


def _blackspots(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    line = shapely.LineString([(-13.49, 9.70), (-13.48, 9.705)])
    table = gpd.GeoDataFrame({
        "rank": [1, 2], "road": [text, "RN1"], "place": ["Manéah, Coyah", text], "crashes": [10, 3],
        "fatal": [2, 0], "serious": [3, 1], "slight": [5, 2], "killed": [2, 0], "injured": [7, 2],
        "epdo": [40.0, 7.0], "trend": ["increasing", "no trend"], "lon": [-13.485, -13.485], "lat": [9.702, 9.702]},
        geometry=[line, line], crs="EPSG:4326")
    return blackspots.build(table, t=t)


def _priorities(t: Translator, text: str = PAYLOAD) -> folium.FeatureGroup:
    shapes = [shapely.box(-13.664, 9.542, -13.662, 9.544), shapely.LineString([(-13.66, 9.54), (-13.65, 9.545)]),
              shapely.Point(-13.661, 9.543)]
    frame = gpd.GeoDataFrame({"rank": [1, 2, 3], "title": [text, "Route Le Prince", text],
                              "category": [text, "vol", None], "description": [text, None, text],
                              "kind": ["area", "line", "point"]}, geometry=shapes, crs="EPSG:4326")
    return priorities.build(frame, t=t, unit=shapely.box(-13.67, 9.53, -13.64, 9.56),
                            category_label=lambda code: code or "–")


#: Layer key -> builders whose frames carry the payloads (one per way the layer draws user text).
BUILDERS: dict[str, tuple[Callable[[Translator], folium.FeatureGroup], ...]] = {
    "boundaries": (_boundaries,),
    "neighbourhoods": (_neighbourhoods,),
    "incidents": (_incidents,),
    "councils": (_councils,),
    "schools": (_schools,),
    "stations": (_stations, _stations_clustered),
    "trainings": (_trainings,),
    "women_days": (_women_days,),
    "blackspots": (_blackspots,),
    "priorities": (_priorities,),
}
CASES = [pytest.param(key, build, lang, id=f"{build.__name__.strip('_')}-{lang}")
         for key, builds in BUILDERS.items() for build in builds for lang in LANGS]


# --- tests -----------------------------------------------------------------------------------------------

def test_esc_is_reversible_and_leaves_no_markup_character():
    """Known answer for the one escaping helper every layer uses."""
    out = esc(PAYLOAD)
    assert not set("<>\"'") & set(out)
    assert html.unescape(out) == PAYLOAD
    assert esc(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc(None) == "–" and esc(float("nan")) == "–"


def test_the_checker_catches_each_way_a_payload_can_act():
    """The checks must be able to fail: a page built with each mistake is refused."""
    ok = f"<div>{esc(PAYLOAD)}</div>"
    assert_page_safe(ok)
    mistakes = {
        "raw markup": f"<div>{PAYLOAD}</div>",
        "JSON-escaped only": '<script>var d = "' + PAYLOAD.replace("<", "\\u003c").replace(">", "\\u003e")
                             .replace('"', '\\"') + '";</script>',
        "script break-out": f'<script>var d = "{SCRIPT}";</script>',
        "javascript link": f'<a href="javascript:alert(4)">{esc(PAYLOAD)}</a>',
        "escaped twice": f"<div>{esc(esc(PAYLOAD))}</div>",
        "formatted": "<div>" + esc(PAYLOAD.replace(TEMPLATE, "{7*7}")) + "</div>",
        "dropped": "<div>nothing</div>",
    }
    for name, page in mistakes.items():
        with pytest.raises(AssertionError):
            assert_page_safe(page, where=name)
    assert markup_problems(f"<p>{IMG}</p>") and markup_problems(f"<script>x='{SCRIPT}'</script>")


@pytest.mark.parametrize(("key", "build", "lang"), CASES)
def test_layer_shows_user_markup_as_text(key, build, lang):
    page = _render(build(Translator(lang)), Translator(lang))
    assert_page_safe(page, expect=(*MARKUP, JS_URL), where=f"layer {key} ({lang})")


@pytest.mark.parametrize(("key", "build"), [pytest.param(k, b, id=b.__name__.strip("_"))
                                            for k, bs in BUILDERS.items() for b in bs])
def test_layer_shows_template_syntax_as_typed(key, build):
    """``{{7*7}}`` in a name must reach the browser as typed, not as ``49``: branca's
    ``MacroElement.render`` wraps each rendered macro in ``Element(text)``, which compiles that text
    as a Jinja template, and the figure renders it again (``get_root().render()``, as st_folium does)."""
    page = _render(build(Translator("fr")), Translator("fr"))
    assert_page_safe(page, expect=(TEMPLATE,), where=f"layer {key}")


#: A Jinja expression that would run on the server if user text were rendered as a template. Harmless: it
#: reads the working directory, and the test looks for what it would print.
SERVER_CODE = "{{ cycler.__init__.__globals__.os.getcwd() }}"
BROKEN_TEMPLATES = ("Poste {{", "Poste {% x %}", "Poste {# note", "{% raw %}")


@pytest.mark.parametrize(("key", "build"), [pytest.param(k, b[0], id=k) for k, b in BUILDERS.items()])
def test_template_syntax_in_user_text_never_runs_on_the_server(key, build):
    """Remote code execution, not only display: Jinja's globals reach ``os``. The payload replaces
    :data:`PAYLOAD` in every text field; rendering must print it, not the server's working directory."""
    page = decode_js(_render(build(Translator("en"), SERVER_CODE), Translator("en")))
    assert os.getcwd() not in page, f"layer {key}: a name ran Python on the server (os.getcwd() was printed)"


@pytest.mark.parametrize("name", BROKEN_TEMPLATES)
def test_a_name_with_template_delimiters_does_not_break_the_map(name):
    """A station named ``Poste {{`` must not take the map down for everyone (TemplateSyntaxError at render)."""
    page = _render(stations.build(_station_frame(name), t=Translator("fr")), Translator("fr"))
    assert markup_problems(page) == []
    assert html.escape(name) in decoded(page)


@pytest.mark.parametrize("mode", incidents.MODES)
def test_incident_modes_without_points_carry_no_user_text_and_stay_well_formed(mode):
    """Counts per cell (what most viewers get) have no text field; their markup must still be clean."""
    from geo import cells

    keys = cells.to_db(cells.points_to_cells(np.array([-13.66, -13.60]), np.array([9.55, 9.60]), 8))
    frame = pd.DataFrame({"key": keys, "count": [3, 12], "sensitive": [0, 6], "suppressed": [False, False]})
    data = incidents.IncidentLayerData(mode=mode, res=8, cells=frame, sensitive_cells=frame)
    page = _render(incidents.build(data, t=Translator("fr"), taxonomy=default_taxonomy()), Translator("fr"))
    assert markup_problems(page) == []


def test_label_markers_escape_their_text():
    m = make_map(Translator("fr"))
    label_marker(9.5, -13.7, PAYLOAD, "lbl-subprefecture").add_to(m)
    assert_page_safe(finish(m).get_root().render(), expect=(*MARKUP, JS_URL), where="label marker")


def test_every_registered_layer_is_covered():
    missing = set(REGISTRY) - set(BUILDERS) - set(NO_USER_TEXT)
    assert not missing, f"layers without a payload test: {sorted(missing)} (add them to BUILDERS or NO_USER_TEXT)"
    assert not set(BUILDERS) & set(NO_USER_TEXT)


def test_popups_survive_the_browser_decoding_of_their_json():
    """The clustered incident popups travel as a JSON array inside a <script>: decoded, each popup is HTML
    in which the payload is text (what ``bindPopup`` hands to ``innerHTML``)."""
    text = decode_js(_render(_incidents(Translator("en")), Translator("en")))
    assert text.count("bindPopup(row[2]") == 1  # the popups are the rows' third field, given to bindPopup
    for payload in MARKUP:
        assert html.escape(payload) in text
        assert payload not in text
