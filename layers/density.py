"""Incident density layer: a kernel density surface as one image under the hot spot cells.

The surface (:func:`geo.kde.density_surface`) is resampled to a Web-Mercator
raster, coloured in classes and embedded as a PNG data URL, so the browser gets
a single small image (no tiles, no remote request) whatever the number of
incidents. Classes are highest-density regions: the darkest colour covers the
densest areas holding a quarter of the incidents, each lighter colour adds
areas up to 50, 75, 90 and 95 %; below that the map stays clear. The palette is
ColorBrewer's sequential YlOrRd (yellow to dark red), legible over the grey and
beige basemap and read as "more" without a key; the legend gives the shares and
the bandwidth.

Stacking: Leaflet draws image overlays (z-index 1) under the SVG that holds
every vector layer of their pane (z-index 200), whatever the order they were
added in, so hot spot cells, boundaries and incidents stay on top of the
density. Anything opaque in that same SVG hides it too: an opaque land fill must
sit in a lower pane for the density to show over land.
"""

from __future__ import annotations

import base64
import io

from PIL import Image

import folium
import folium.raster_layers

from geo.kde import DEFAULT_FRACTIONS, YLORRD, DensitySurface, MercatorImage
from i18n import N_, Translator
from layers.base import LayerSpec, Legend, esc

#: Colours of the classes, light to dark, one per entry of :data:`FRACTIONS`.
PALETTE: tuple[str, ...] = YLORRD
#: Share of incidents inside each class's outer contour, widest first (matches :data:`PALETTE`).
FRACTIONS: tuple[float, ...] = DEFAULT_FRACTIONS


class DensityLegend(Legend):
    """The shared legend plus closing notes (how to read the shares, the bandwidth), which entries cannot carry."""

    def __init__(self, title: str, entries: list[tuple[str, str]], notes: list[str]) -> None:
        super().__init__(title, entries, position="bottomleft")  # the Gi* legend holds the bottom right
        self.html += "".join(f'<div class="note">{esc(note)}</div>' for note in notes)


def png_data_url(image: MercatorImage) -> str:
    """The classed raster as an embedded palette PNG with transparency (a few kilobytes for a city)."""
    png = Image.fromarray(image.index)  # uint8, 2-D: one byte per pixel
    png.putpalette(image.palette.tobytes(), rawmode="RGBA")
    buf = io.BytesIO()
    png.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _swatch(color: str, opacity: float) -> str:
    """A palette colour at the overlay's opacity, so the legend looks like the map."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity:g})"


def build(surface: DensitySurface | None, *, t: Translator, opacity: float = 0.6) -> folium.FeatureGroup:
    """The density surface as an image overlay with its legend; empty group for no surface or no incidents."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
    group = folium.FeatureGroup(name=t("Incident density"))
    if surface is None or surface.mass <= 0:
        return group
    levels = sorted(surface.mass_levels(FRACTIONS))  # widest share = lowest density first
    image = surface.to_mercator_rgba(PALETTE, levels)
    (south, west), (north, east) = image.bounds
    folium.raster_layers.ImageOverlay(
        image=png_data_url(image),
        bounds=[[south, west], [north, east]],
        opacity=opacity,
        pixelated=False,  # smooth scaling when zoomed past the image's resolution
        interactive=False,
        name=t("Incident density"),
        control=False,  # the group is what the layer control toggles
    ).add_to(group)
    entries = [(_swatch(color, opacity), t("{share} of incidents inside", share=t.pct(share)))
               for color, share in zip(reversed(PALETTE), reversed(FRACTIONS), strict=True)]
    notes = [t("Each share counts the areas of that colour and of the darker ones."),
             t("Bandwidth: {metres} m", metres=t.n(surface.bandwidth))]
    group.add_child(DensityLegend(t("Incident density"), entries, notes))
    return group


SPEC = LayerSpec(key="density", title=N_("Incident density"), build=build)
