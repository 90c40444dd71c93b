"""The one interface every map layer follows, and the pieces they share.

A layer module exposes ``SPEC`` (a :class:`LayerSpec`) whose ``build`` takes
the layer's data and the translator and returns a ``folium.FeatureGroup``,
pure and with no Streamlit. Everything put in a layer is sent to the browser,
so builders receive data that the view has already filtered and aggregated
for the user, and they escape every piece of text (:func:`esc`).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Template

import folium
from branca.element import MacroElement

#: Leaflet pane for the basemap's land fill: above tiles (200), below overlays and images (400), so a
#: density image is not hidden by the land.
LAND_PANE = "proximite-land"
LAND_PANE_Z = 350


@dataclass(frozen=True)
class LayerSpec:
    """A map layer as the map page sees it: a key, a translatable title and a builder."""

    key: str
    title: str  # message id; the view shows t(title)
    build: Callable[..., folium.FeatureGroup]


def esc(value: Any) -> str:
    """Text safe to put in a popup or tooltip (HTML-escaped, ``None`` shown as a dash)."""
    if value is None or value != value:  # None or NaN
        return "–"
    return html.escape(str(value), quote=True)


class Legend(MacroElement):
    """A Leaflet control with a small legend: our own HTML, so no branca colormap drags d3 from a CDN.

    Added to a map it stays; added to a layer it appears and disappears with that layer.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'proximite-legend');
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            var owner = {{ this._parent.get_name() }};
            if (owner instanceof L.Map) {
                legend.addTo(owner);
            } else {
                owner.on('add', function (e) { legend.addTo(e.target._map); });
                owner.on('remove', function () { legend.remove(); });
                if (owner._map) { legend.addTo(owner._map); }
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: Sequence[tuple[str, str]], position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        rows = "".join(
            f'<div><span class="swatch" style="background:{esc(color)}"></span>{esc(label)}</div>'
            for color, label in entries
        )
        self.html = f"<strong>{esc(title)}</strong>{rows}"
        self.position = position


class Attribution(MacroElement):
    """Adds a source credit to the map's attribution control (licences require it on the map)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = esc(text)


def label_marker(lat: float, lon: float, text: str, css_class: str) -> folium.Marker:
    """A text label on the map (a DivIcon: no image, no remote asset)."""
    icon = folium.DivIcon(html=f'<div class="{css_class}">{esc(text)}</div>', icon_size=(0, 0), class_name="pxl")
    return folium.Marker(location=[lat, lon], icon=icon, interactive=False)


def hexagon_collection(cells: Sequence[int], properties: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of H3 hexagons (coordinates rounded to ~1 m to keep the page small)."""
    from geo.cells import boundary_lonlat

    features = []
    for cell, props in zip(cells, properties, strict=True):
        ring = [[round(x, 5), round(y, 5)] for x, y in boundary_lonlat(int(cell))]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}
