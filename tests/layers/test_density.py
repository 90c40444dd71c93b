"""Density layer as rendered HTML: one embedded PNG over the right bounds, a legend, nothing remote."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

import folium

from geo.kde import density_surface
from i18n import Translator
from layers import density
from layers.assets import localize
from layers.mapframe import make_map

CONAKRY = (-13.75, 9.45, -13.50, 9.70)
URL = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture(scope="module")
def surface():
    rng = np.random.default_rng(1)
    lon = np.r_[rng.normal(-13.68, 0.01, 800), rng.uniform(CONAKRY[0], CONAKRY[2], 400)]
    lat = np.r_[rng.normal(9.53, 0.01, 800), rng.uniform(CONAKRY[1], CONAKRY[3], 400)]
    return density_surface(lon, lat, bandwidth=500, extent=CONAKRY)


def _render(surface, lang: str = "en", **kwargs) -> str:
    t = Translator(lang)
    m = make_map(t)
    density.build(surface, t=t, **kwargs).add_to(m)
    html = localize(m).get_root().render()
    return re.sub(r"\\u([0-9a-f]{4})", lambda c: chr(int(c.group(1), 16)), html)


def _overlay(html: str) -> tuple[Image.Image, list]:
    match = re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,([A-Za-z0-9+/=]+)",\s*(\[\[.*?\]\])', html, re.S)
    assert match, "no image overlay with an embedded PNG"
    image = Image.open(io.BytesIO(base64.b64decode(match.group(1))))
    bounds = [[float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", pair)] for pair in match.group(2).split("],")]
    return image, bounds


def test_overlay_is_an_embedded_png_over_the_surface_extent(surface):
    html = _render(surface)
    image, bounds = _overlay(html)
    west, south, east, north = CONAKRY
    assert bounds == [pytest.approx([south, west]), pytest.approx([north, east])]
    expected = surface.to_mercator_rgba(density.PALETTE, sorted(surface.mass_levels(density.FRACTIONS)))
    assert image.mode == "P" and image.size == expected.rgba.shape[1::-1]
    np.testing.assert_array_equal(np.asarray(image.convert("RGBA")), expected.rgba)
    assert '"opacity": 0.6' in html and '"interactive": false' in html


def test_legend_gives_shares_and_bandwidth_in_english(surface):
    html = _render(surface, "en")
    t = Translator("en")
    assert "Incident density" in html
    for share in (0.25, 0.5, 0.75, 0.9, 0.95):
        assert t("{share} of incidents inside", share=t.pct(share)) in html
    assert "Bandwidth: 500 m" in html
    assert "and of the darker ones" in html
    # Darkest colour first, with the smallest share.
    assert html.index("rgba(189,0,38,0.6)") < html.index("rgba(255,255,178,0.6)")


def test_french_map_renders(surface):
    html = _render(surface, "fr")
    _overlay(html)
    assert "proximite-legend" in html and "500" in html


def test_no_remote_url_beyond_the_bare_map(surface):
    bare = localize(make_map(Translator("en"))).get_root().render()
    html = _render(surface)
    assert set(URL.findall(html)) <= set(URL.findall(bare))


def test_opacity_is_passed_and_checked(surface):
    assert '"opacity": 0.35' in _render(surface, opacity=0.35)
    with pytest.raises(ValueError, match="opacity"):
        density.build(surface, t=Translator("en"), opacity=1.5)


@pytest.mark.parametrize("empty", [None, "zero"])
def test_no_surface_or_no_incidents_gives_an_empty_group(empty):
    surface = None if empty is None else density_surface([], [], bandwidth=500, extent=CONAKRY)
    group = density.build(surface, t=Translator("en"))
    assert isinstance(group, folium.FeatureGroup) and not group._children
    assert "imageOverlay" not in _render(surface)


def test_png_stays_small(surface):
    image, _ = _overlay(_render(surface))
    assert image.size[0] * image.size[1] > 100_000
    assert len(density.png_data_url(surface.to_mercator_rgba())) < 60_000


def test_spec():
    assert density.SPEC.key == "density" and density.SPEC.build is density.build
    assert density.SPEC.title == "Incident density"
