"""The map every page starts from: no tiles needed, land, coast and neighbours drawn from our data.

Basemap tiles are optional (``PROXIMITE_TILE_URL``, e.g. a local tile server
or, when online, any XYZ service the deployment is allowed to use). Without
them the map still reads clearly: a sea-grey background, Guinea's land, the
Atlantic coast, and the names of the sea and the neighbouring countries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from jinja2 import Template

import folium
from branca.element import Element, MacroElement

from i18n import Translator
from layers.assets import localize
from layers.base import LAND_PANE, LAND_PANE_Z, Attribution

GUINEA_CENTER = (10.43, -10.94)
GUINEA_BOUNDS = ((7.19, -15.08), (12.68, -7.64))

_CSS = """
<style>
.leaflet-container { background: #dfe7ec; font-family: system-ui, sans-serif; }
.pxl { background: none; border: none; }
.pxl div { white-space: nowrap; width: max-content; transform: translate(-50%, -50%); pointer-events: none;
           text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
.lbl-region { font-size: 13px; font-weight: 700; color: #333; letter-spacing: .05em; text-transform: uppercase; }
.lbl-prefecture { font-size: 11px; font-weight: 600; color: #444; }
.lbl-subprefecture { font-size: 10px; color: #555; }
.lbl-sea { font-size: 13px; font-style: italic; color: #3f6f96; letter-spacing: .15em; }
.lbl-rank { font-size: 11px; font-weight: 700; color: #fff; background: #222; border-radius: 9px;
             padding: 1px 5px; }
.lbl-country { font-size: 12px; color: #8a8f94; letter-spacing: .12em; text-transform: uppercase; }
.proximite-legend { max-height: 38vh; max-width: 260px; overflow-y: auto;
                    background: rgba(255,255,255,.92); padding: 6px 8px; border-radius: 4px;
                    font-size: 12px; line-height: 18px; box-shadow: 0 0 4px rgba(0,0,0,.3); }
.proximite-legend .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
                            vertical-align: middle; border: 1px solid #666; }
.proximite-legend .sizes-title { margin-top: 4px; font-style: italic; }
.proximite-legend .size-row { display: flex; align-items: center; }
.proximite-legend .dotbox { display: inline-flex; justify-content: center; margin-right: 6px; }
.proximite-legend .dot { display: inline-block; border-radius: 50%; border: 1px solid #333; opacity: .85; }
.leaflet-tooltip { white-space: normal; width: max-content; max-width: 300px; font-size: 12px; }
.leaflet-container .leaflet-control-attribution { font-size: 11px; line-height: 1.4; }
.demo-badge { background: #fff3cd; border: 1px solid #e0b100; padding: 2px 6px; border-radius: 3px;
              font-size: 12px; font-weight: 600; color: #6b5200; }
</style>
"""


class RefitWhenShown(MacroElement):
    """Fit the bounds again whenever the map's frame changes size, until the user moves the map.

    A map drawn in a hidden Streamlit tab starts at zero size, so its first fit
    zooms right out; when the tab is shown the frame grows, sometimes in steps
    (an in-between size first), so every new size fits again. Once the user
    touches the map (drag, wheel, a zoom button, a key) their view is kept.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var el = map.getContainer();
            var size = map.getSize();
            var last = (size.x > 50 && size.y > 50) ? size.x + 'x' + size.y : '';
            var touched = false;
            ['pointerdown', 'wheel', 'touchstart', 'keydown'].forEach(function (name) {
                el.addEventListener(name, function () { touched = true; }, {passive: true});
            });
            function refit() {
                if (touched) { return; }
                map.invalidateSize();
                var now = map.getSize();
                var key = now.x + 'x' + now.y;
                if (now.x > 50 && now.y > 50 && key !== last) {
                    last = key;
                    map.fitBounds({{ this.bounds|tojson }});
                }
            }
            window.addEventListener('resize', refit);
            if (window.ResizeObserver) { new ResizeObserver(refit).observe(el); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "RefitWhenShown"
        self.bounds = bounds


@dataclass(frozen=True)
class TileConfig:
    """Optional basemap: an XYZ URL template and its attribution; ``url=None`` means no tiles."""

    url: str | None = None
    attribution: str = ""

    @classmethod
    def from_env(cls) -> TileConfig:
        url = os.environ.get("PROXIMITE_TILE_URL") or None
        return cls(url, os.environ.get("PROXIMITE_TILE_ATTRIBUTION", ""))


def make_map(t: Translator, *, tiles: TileConfig | None = None, attributions: tuple[str, ...] = (),
             bounds: tuple[tuple[float, float], tuple[float, float]] | None = None) -> folium.Map:
    """A new map over Guinea (or ``bounds``), offline-ready, with the given source credits."""
    tiles = tiles or TileConfig()
    m = folium.Map(location=GUINEA_CENTER, zoom_start=7, tiles=None, min_zoom=5, max_zoom=17,
                   control_scale=True, zoom_control=True)
    # folium drops min_zoom/max_zoom when tiles=None; marker clustering needs a maxZoom.
    m.options.update(min_zoom=5, max_zoom=17)
    m.get_root().header.add_child(Element(_CSS))
    folium.map.CustomPane(LAND_PANE, z_index=LAND_PANE_Z, pointer_events=False).add_to(m)
    if tiles.url:
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution or t("Basemap"), name=t("Basemap"),
                         overlay=False, control=False).add_to(m)
    for text in attributions:
        m.add_child(Attribution(text))
    m.fit_bounds([list(p) for p in (bounds or GUINEA_BOUNDS)])
    m.add_child(RefitWhenShown([list(p) for p in (bounds or GUINEA_BOUNDS)]))
    return m


def finish(m: folium.Map) -> folium.Map:
    """Last step before display: every asset local. Call after all layers are added."""
    return localize(m)
