"""Boundaries and basemap layers as rendered HTML: names, parents, escaping, offline."""

from __future__ import annotations

import re

import pytest

import shapely

from geo.boundaries import load_display, load_outline
from i18n import Translator
from layers import REGISTRY, basemap, boundaries
from layers.mapframe import TileConfig, finish, make_map


def _render(lang: str, level: str, **kw) -> str:
    t = Translator(lang)
    m = make_map(t, attributions=("Administrative boundaries: geoBoundaries",), **kw)
    basemap.build(load_outline(), t=t).add_to(m)
    parents = {"region": load_display("region", "low")} if level != "region" else {}
    boundaries.build(load_display(level, "low"), t=t, level=level, parents=parents, highlight="GN-KA").add_to(m)
    html = finish(m).get_root().render()
    return re.sub(r"\\u([0-9a-f]{4})", lambda c: chr(int(c.group(1), 16)), html)  # read JSON escapes as text


@pytest.mark.parametrize(("level", "n"), [("region", 8), ("prefecture", 34), ("subprefecture", 340)])
def test_every_unit_is_drawn_with_its_tooltip(level, n):
    html = _render("fr", level)
    assert len(re.findall(r'"unit_id":\s*"GN-', html)) == n
    assert "geoBoundaries" in html
    assert not re.search(r"https?://", html)


def test_tooltip_names_parents_in_the_chosen_language():
    fr = _render("fr", "subprefecture")
    en = _render("en", "subprefecture")
    assert "Préfecture : Conakry · Région : Conakry" in fr
    assert "Prefecture: Conakry · Region: Conakry" in en
    assert "Océan Atlantique" in fr and "Atlantic Ocean" in en
    assert "Nzérékoré Centre" in fr


def test_population_is_formatted_per_language_with_census_flag():
    fr = _render("fr", "prefecture")
    en = _render("en", "prefecture")
    assert "1\u202f667\u202f864 (recensement 2014, résultats provisoires)" in fr
    assert "1,667,864 (2014 census, preliminary results)" in en


def test_highlight_and_no_tiles_by_default():
    html = _render("fr", "prefecture")
    assert "#d7301f" in html
    assert "tileLayer" not in html


def test_configured_tiles_are_used():
    html = _render("fr", "region", tiles=TileConfig("http://127.0.0.1:8080/{z}/{x}/{y}.png", "Local tiles"))
    assert "127.0.0.1:8080" in html and "Local tiles" in html


def test_user_text_in_unit_names_is_escaped():
    units = load_display("subprefecture", "low").head(3).copy()
    units.loc[units.index[0], "name"] = '<img src=x onerror=alert(1)>'
    t = Translator("fr")
    m = make_map(t)
    boundaries.build(units, t=t, level="subprefecture", labels=True).add_to(m)
    boundaries.build(units, t=t, level="prefecture", labels=True).add_to(m)  # labels drawn from these names
    html = m.get_root().render()
    assert "<img src=x" not in html and "\\u003cimg src=x" not in html  # no live tag, raw or JSON-encoded
    # escaped once in the GeoJSON tooltip data and once in the DivIcon label
    assert html.count("\\u0026lt;img src=x onerror=alert(1)\\u0026gt;") >= 2


def test_neighbour_labels_sit_outside_guinea():
    country = load_outline().set_index("kind").at["country", "geometry"]
    for lat, lon in [*basemap.NEIGHBOURS.values(), basemap.SEA_LABEL]:
        assert not country.contains(shapely.Point(lon, lat))


def test_registry_layers_share_the_interface():
    assert {"basemap", "boundaries"} <= set(REGISTRY)
    for key, spec in REGISTRY.items():
        assert spec.key == key and callable(spec.build) and spec.title


def test_translatable_attribution_is_the_licence_text():
    from geo.boundaries import ATTRIBUTION as GEO_ATTRIBUTION

    assert boundaries.ATTRIBUTION == GEO_ATTRIBUTION
    assert "CC BY 3.0 IGO" in Translator("fr")(boundaries.ATTRIBUTION)


def test_overlay_leaves_hover_and_clicks_to_units_beneath():
    t = Translator("fr")
    region = load_display("region", "low").head(1)
    m = make_map(t)
    boundaries.build(region, t=t, level="region", labels=False, interactive=False).add_to(m)
    html = m.get_root().render()
    assert "bindTooltip" not in html
    assert '"interactive": false' in html
