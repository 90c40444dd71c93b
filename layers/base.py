"""The one interface every map layer follows, and the pieces they share.

A layer module exposes ``SPEC`` (a :class:`LayerSpec`) whose ``build`` takes
the layer's data and the translator and returns a ``folium.FeatureGroup``,
pure and with no Streamlit. Everything put in a layer is sent to the browser,
so builders receive data that the view has already filtered and aggregated
for the user, and they escape every piece of text (:func:`esc`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
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
    """Text safe to put in a popup or tooltip (HTML-escaped, ``None`` shown as a dash).

    Braces become entities too: branca compiles rendered map elements as Jinja
    templates again, so a ``{{ ... }}`` typed by a user would run on the server.
    """
    if value is None or value != value:  # None or NaN
        return "–"
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


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


# Shared by the proportional-symbol layers (programme layers: schools, women's days, trainings, stations).

def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Refuse a frame that lacks columns a layer reads, naming them (a silent NaN would draw wrong classes)."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"{what} lacks column(s) {', '.join(absent)}")


def as_date(value: Any) -> date | None:
    """A calendar day from a date, datetime, Timestamp or ISO text; ``None`` for missing (None, NaT, NaN).

    Timestamps become days so that ``Translator.d`` shows a date, not a date and a midnight time.
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, date):  # datetime and Timestamp are dates too
        return value if type(value) is date else value.date()
    if pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def point_collection(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray,
                     properties: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """GeoJSON points (~1 m precision) with ids ``"0".."n-1"``, so folium's style map keys on them, not on text."""
    xs = np.round(np.asarray(lon, dtype=float), 5).tolist()
    ys = np.round(np.asarray(lat, dtype=float), 5).tolist()
    keys = list(properties)
    rows = zip(*(list(properties[k]) for k in keys), strict=True) if keys else ({} for _ in xs)
    features = [{"type": "Feature", "id": str(i), "geometry": {"type": "Point", "coordinates": [x, y]},
                 "properties": dict(zip(keys, row, strict=True))}
                for i, (x, y, row) in enumerate(zip(xs, ys, rows, strict=True))]
    return {"type": "FeatureCollection", "features": features}


def sqrt_radius(values: Sequence[float] | np.ndarray, vmax: float, *, r_max: float,
                r_min: float = 3.0) -> np.ndarray:
    """Circle radii (pixels) whose areas are proportional to the values, since readers compare areas.

    Never below ``r_min`` so small and zero values stay visible and clickable; rounded to half a
    pixel so folium's per-style switch stays short.
    """
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0).clip(min=0.0)
    if not vmax > 0:
        return np.full(v.shape, float(r_min))
    return np.round(np.maximum(r_min, r_max * np.sqrt(v / vmax)) * 2.0) / 2.0


def reference_values(vmax: float) -> list[int]:
    """Round values (one significant digit) for a size legend: the largest at most ``vmax``, then at most
    a quarter and a sixteenth of it (fewer when ``vmax`` is small)."""
    out: list[int] = []
    for target in (vmax, vmax / 4, vmax / 16):
        if not target >= 1:
            break
        step = 10 ** math.floor(math.log10(target))
        nice = int(step * math.floor(target / step))
        if nice not in out:
            out.append(nice)
    return out


def size_entries(vmax: float, r_max: float, label: Callable[[int], str]) -> list[tuple[float, str]]:
    """Legend circles for proportional symbols: the radius and the label of each :func:`reference_values`."""
    refs = reference_values(vmax)
    return [(float(r), label(v)) for r, v in zip(sqrt_radius(refs, vmax, r_max=r_max), refs, strict=True)]


def count_text(value: object, t: Any, missing: str = "–") -> str:
    """A whole count in the page's number format; ``missing`` when unknown (None, NaN)."""
    return t.n(int(value)) if value is not None and pd.notna(value) else missing


def proportional_circles(lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray,
                         properties: Mapping[str, Sequence[Any]], *, name: str, fields: Sequence[str],
                         aliases: Sequence[str], edge: str, weight: float, fill: str | None = None,
                         fill_opacity: float, style: Callable[[dict], dict] | None = None) -> folium.GeoJson:
    """Circles sized by each feature's ``r`` property (pixels), with an escaped tooltip of ``fields``.

    ``properties`` must already be escaped text (:func:`esc`); ``aliases`` are the translated labels.
    ``style`` adds to the radius per feature (e.g. a fill colour by class).
    """
    def style_function(feature: dict) -> dict:
        out = {"radius": feature["properties"]["r"]}
        return {**out, **style(feature)} if style is not None else out

    marker = folium.CircleMarker(radius=4, weight=weight, color=edge, fill=True, fill_opacity=fill_opacity,
                                 **({"fill_color": fill} if fill else {}))
    return folium.GeoJson(
        point_collection(lon, lat, properties), name=name, marker=marker, style_function=style_function,
        highlight_function=lambda f: {"weight": weight + 1.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=[esc(a) for a in aliases], sticky=True),
    )


class SymbolLegend(Legend):
    """The shared legend plus circles of reference sizes (proportional symbols) and closing notes."""

    def __init__(self, title: str, entries: Sequence[tuple[str, str]], *,
                 sizes: Sequence[tuple[float, str]] = (), sizes_title: str = "", color: str = "#888888",
                 notes: Sequence[str] = (), position: str = "bottomright") -> None:
        super().__init__(title, entries, position)
        if sizes:
            box = 2 * max(r for r, _ in sizes)
            if sizes_title:
                self.html += f'<div class="sizes-title">{esc(sizes_title)}</div>'
            self.html += "".join(
                f'<div class="size-row"><span class="dotbox" style="width:{box:g}px">'
                f'<span class="dot" style="width:{2 * r:g}px;height:{2 * r:g}px;background:{esc(color)}"></span>'
                f"</span>{esc(label)}</div>"
                for r, label in sizes)
        self.html += "".join(f'<div class="note">{esc(note)}</div>' for note in notes)
