"""The one-page hotspot brief for police commanders: map, top-10 table, parameters, caveats.

Issue 4 asks for a single printed page a commander can read in a minute, in
the reader's language, that says where incidents cluster beyond chance, how
sure the statistic is, how it was computed and what the data cannot tell. The
page must stay one page whatever the caller sends (ten rows, long place names,
several caveats): the map takes whatever height the text leaves, measured
before anything is drawn.

Colours for print
-----------------
The screen palette (``i18n.vocabulary.GI_BIN_COLORS``, ColorBrewer RdBu) gives
a hot and a cold class of the same confidence the same lightness, so they merge
on a black-and-white printer. On paper the six classes use reds and blues of
six distinct lightnesses instead (CIE L* 35, 50, 65 for hot at 99/95/90 %, 74,
84, 93 for cold at 99/95/90 %: every hot spot is darker than every cold spot),
and the 99 % classes are hatched in opposite directions.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache

import numpy as np
import pandas as pd
from PIL import Image

import geopandas as gpd

from geo import boundaries
from i18n import Translator
from i18n.vocabulary import GI_BIN_LABELS, GI_BIN_SHORT
from reports.mapimage import LegendEntry, PolygonLayer, render_map
from reports.pdf import PdfDocument, format_generated

#: Print fill per Gi* bin (see the module notes); 0 is left unfilled.
PRINT_BIN_COLORS: dict[int, str] = {3: "#a60f15", 2: "#e32f27", 1: "#fb7656",
                                    -1: "#e0ecf8", -2: "#b9d6ea", -3: "#89bedc"}
#: Hatching of the 99 % classes and its colour (light on the dark red, dark on the light blue).
PRINT_BIN_HATCH: dict[int, tuple[str, str]] = {3: ("////", "#ffffff"), -3: ("\\\\\\\\", "#08306b")}
_CELL_EDGE = "#4d4d4d"
_QUIET_EDGE = "#b3b3b3"

MAP_MIN_MM, MAP_MAX_MM = 60.0, 125.0
#: Text sizes (table, parameters, caveats) and the smallest map height, tried in turn until the page holds
#: everything: long caveats shrink the map first, then the small print, never the page count.
_LAYOUTS: tuple[tuple[float, float, float, float], ...] = ((7.8, 8.5, 8.0, MAP_MIN_MM), (7.2, 7.6, 7.2, 50.0),
                                                           (6.6, 6.8, 6.5, 40.0))
MAP_DPI = 150
TOP_ROWS = 10

_CELL_COLUMNS = ("cell", "count", "gi_bin")
_TOP_COLUMNS = ("rank", "unit", "cell", "count", "previous", "change", "gi_z", "gi_bin")
# Column widths (mm) of the top-10 table; they add up to the 180 mm text width of the page.
_TOP_WIDTHS = (11.0, 50.0, 29.0, 17.0, 19.0, 16.0, 16.0, 22.0)
_TOP_ALIGN = ("R", "L", "L", "R", "R", "R", "R", "L")


def hotspot_brief(*, cells: gpd.GeoDataFrame, top: pd.DataFrame, parameters: list[tuple[str, str]],
                  caveats: list[str], t: Translator, generated_at: datetime, demo: bool,
                  area_bounds: tuple[float, float, float, float] | None = None) -> bytes:
    """One A4 page, in ``t``'s language: title, date, map, top-10 table, parameters, caveats.

    Parameters
    ----------
    cells
        Study-area hexagons (any CRS, usually EPSG:4326) with ``cell``, ``count`` and
        ``gi_bin`` (-3..3 as ArcGIS: 3/2/1 hot at 99/95/90 %, 0 not significant).
    top
        The hottest cells, best first: ``rank``, ``unit`` (place name), ``cell``, ``count``,
        ``previous`` and ``change`` (NaN without a previous period), ``gi_z``, ``gi_bin``.
        Only the first ten ranks are printed.
    parameters, caveats
        ``(label, value)`` pairs and sentences, already translated.
    t, generated_at
        Language of the page and the time printed on it.
    demo
        Marks the page as demonstration data (title area and map watermark).
    area_bounds
        ``(west, south, east, north)`` to frame; by default the cells' extent.
    """
    cells = _check_cells(cells)
    top = _check_top(top)
    parameters = [(str(k), str(v)) for k, v in parameters]
    caveats = [str(c) for c in caveats]
    if not isinstance(generated_at, datetime):
        raise TypeError(f"generated_at must be a datetime, got {type(generated_at).__name__}")
    if cells.empty and area_bounds is None:
        raise ValueError("cells is empty: give area_bounds to frame the map")

    title = t("Hotspot brief")
    sources = " ".join([t("Sources: incident reports recorded in Proximité; hot spots by Getis-Ord Gi* "
                          "on H3 hexagons."), t(boundaries.ATTRIBUTION)])
    doc = PdfDocument(t, title=title, generated_at=generated_at, footer_note=sources)
    doc.title(title)
    doc.subtitle(t("Generated on {date}", date=format_generated(t, generated_at)))
    if demo:
        doc.paragraph(t("Demo data: synthetic records for demonstration and training; they describe no real "
                        "event."), size=9.0, bold=True)

    caption = t("Getis-Ord Gi* hot and cold spots on H3 hexagons. Hatched cells: 99 % confidence. "
                "Unfilled cells: not significant.")

    def rest(d: PdfDocument, sizes: tuple[float, float, float, float]) -> None:
        _top_section(d, top, t, sizes[0])
        d.heading(t("Parameters"), level=2)
        d.key_values(parameters, size=sizes[1])
        if caveats:
            d.note(caveats, title=t("Data caveats"), size=sizes[2])

    probe = 20.0
    for sizes in _LAYOUTS:
        def page_with_probe_map(d: PdfDocument, sizes=sizes) -> None:
            d.image(_blank_png(), width_mm=d.width_mm, height_mm=probe, caption=caption)
            rest(d, sizes)

        free = probe + doc.remaining_mm - doc.measure(page_with_probe_map) - 1.0
        if free >= sizes[3]:
            break
    height = float(np.clip(free, sizes[3], MAP_MAX_MM))

    png = render_map(_cell_layers(cells), bounds=area_bounds, size_mm=(doc.width_mm, height), dpi=MAP_DPI,
                     context_level=_context_level(cells, area_bounds), legend=_legend(t),
                     legend_title=t("Gi* confidence"), attribution=t(boundaries.ATTRIBUTION),
                     watermark=t("DEMO DATA") if demo else None)
    doc.image(png, width_mm=doc.width_mm, height_mm=height, caption=caption)
    rest(doc, sizes)
    return doc.output()


# --- inputs -----------------------------------------------------------------------------------------------


def _check_cells(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(cells, gpd.GeoDataFrame):
        raise TypeError(f"cells must be a GeoDataFrame, got {type(cells).__name__}")
    missing = [c for c in _CELL_COLUMNS if c not in cells.columns]
    if missing:
        raise ValueError(f"cells lacks columns {missing}")
    if cells.crs is None:
        raise ValueError("cells has no CRS (hexagons are expected in EPSG:4326)")
    bins = pd.to_numeric(cells["gi_bin"], errors="coerce").to_numpy()
    if len(bins) and (~np.isfinite(bins) | (bins != np.round(bins)) | (np.abs(bins) > 3)).any():
        raise ValueError("cells.gi_bin must hold whole numbers from -3 to 3")
    out = cells.copy()
    out["gi_bin"] = bins.astype(np.int64) if len(bins) else np.zeros(0, dtype=np.int64)
    return out


def _check_top(top: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(top, pd.DataFrame):
        raise TypeError(f"top must be a DataFrame, got {type(top).__name__}")
    missing = [c for c in _TOP_COLUMNS if c not in top.columns]
    if missing:
        raise ValueError(f"top lacks columns {missing}")
    bins = pd.to_numeric(top["gi_bin"], errors="coerce")
    if bins.isna().any() or (bins.abs() > 3).any():
        raise ValueError("top.gi_bin must hold whole numbers from -3 to 3")
    return top.sort_values("rank", kind="stable").head(TOP_ROWS)


# --- page parts -------------------------------------------------------------------------------------------


def _top_section(doc: PdfDocument, top: pd.DataFrame, t: Translator, size: float) -> None:
    doc.heading(t("Top hot spots"), level=2)
    if top.empty:
        doc.paragraph(t("No cell is a significant hot spot for these parameters."), size=9.0)
        return
    headers = [t("Rank"), t("Place"), t("Cell (H3)"), t("Incidents"), t("Previous period"), t("Change"),
               t("Gi* z-score"), t("Confidence")]
    rows = [[_integer(t, r.rank), _text(r.unit), _cell_id(r.cell), _integer(t, r.count), _integer(t, r.previous),
             _signed(t, r.change), _number(t, r.gi_z, 2), t(GI_BIN_SHORT[int(r.gi_bin)])]
            for r in top.itertuples(index=False)]
    doc.table(headers, rows, widths_mm=_TOP_WIDTHS, align=_TOP_ALIGN, size=size)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)) or value is pd.NA


def _text(value) -> str:
    return "–" if _missing(value) else str(value)


def _cell_id(value) -> str:
    """H3 ids in their usual hex form, whether they come as text or as integers."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return format(int(value), "x")
    return _text(value)


def _integer(t: Translator, value) -> str:
    return "–" if _missing(value) else t.n(int(round(float(value))))


def _number(t: Translator, value, digits: int) -> str:
    return "–" if _missing(value) else t.n(float(value), digits)


def _signed(t: Translator, value) -> str:
    """"+12", "-3", "0": a change reads as a change only with its sign."""
    if _missing(value):
        return "–"
    number = int(round(float(value)))
    return f"+{t.n(number)}" if number > 0 else t.n(number)


def _cell_layers(cells: gpd.GeoDataFrame) -> list[PolygonLayer]:
    """Unfilled quiet cells under the significant ones; each hatched class on its own (hatch colours differ)."""
    bins = cells["gi_bin"].to_numpy()
    layers = [PolygonLayer(cells[bins == 0], facecolor="none", edgecolor=_QUIET_EDGE, linewidth=0.15)]
    plain = cells[(bins != 0) & (np.abs(bins) != 3)]
    layers.append(PolygonLayer(plain, facecolor=[PRINT_BIN_COLORS[int(b)] for b in plain["gi_bin"]],
                               edgecolor=_CELL_EDGE, linewidth=0.2))
    for b, (hatch, color) in PRINT_BIN_HATCH.items():
        layers.append(PolygonLayer(cells[bins == b], facecolor=PRINT_BIN_COLORS[b], edgecolor=_CELL_EDGE,
                                   linewidth=0.2, hatch=hatch, hatchcolor=color))
    return layers


def _legend(t: Translator) -> list[LegendEntry]:
    entries = []
    for b in (3, 2, 1, -1, -2, -3):
        hatch, color = PRINT_BIN_HATCH.get(b, (None, None))
        entries.append(LegendEntry(t(GI_BIN_LABELS[b]), color=PRINT_BIN_COLORS[b], edgecolor=_CELL_EDGE,
                                   hatch=hatch, hatchcolor=color, linewidth=0.4))
    entries.append(LegendEntry(t(GI_BIN_LABELS[0]), color="none", edgecolor=_QUIET_EDGE, linewidth=0.4))
    return entries


def _context_level(cells: gpd.GeoDataFrame, area_bounds) -> str:
    """Sub-prefectures (Conakry's communes) for a city-sized area, prefectures beyond ~80 km."""
    if area_bounds is not None:
        west, south, east, north = area_bounds
    else:
        west, south, east, north = cells.to_crs(4326).total_bounds
    width_km = (east - west) * 111.32 * np.cos(np.radians((south + north) / 2.0))
    height_km = (north - south) * 110.57
    return "subprefecture" if max(width_km, height_km) < 80.0 else "prefecture"


@cache
def _blank_png() -> bytes:
    """A 1 x 1 white PNG: stands in for the map while the page is measured."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), "white").save(buf, format="PNG")
    return buf.getvalue()
