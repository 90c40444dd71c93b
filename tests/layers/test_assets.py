"""Maps never name a CDN: every asset is local, unknown ones are refused."""

from __future__ import annotations

import re

import pytest

import folium
import folium.plugins

from layers import assets


def _urls(html: str) -> set[str]:
    return set(re.findall(r"""(?:src|href)=["']([^"']+)["']""", html))


def test_localize_rewrites_every_asset_of_map_and_plugins():
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    folium.plugins.HeatMap([[9.5, -13.7, 1.0]]).add_to(m)
    html = assets.localize(m).get_root().render()
    urls = _urls(html)
    assert urls, "the map should still load its assets"
    assert all(u.startswith(assets.URL_PREFIX) for u in urls), urls
    assert not re.search(r"https?://", html)


def test_unknown_remote_asset_is_refused():
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="Fullscreen"):
        assets.localize(m)


def test_every_declared_asset_is_installed():
    assert assets.missing() == []
    for _, local in assets.ASSETS.values():
        assert (assets.STATIC_DIR / local).stat().st_size > 500
    assert (assets.STATIC_DIR / "leaflet" / "images" / "layers.png").exists()
