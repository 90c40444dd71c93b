"""Static map images for printed documents, drawn on the server with matplotlib (no browser).

A PDF needs a picture of the map that does not depend on a browser, tiles or
the network. :func:`render_map` draws the caller's layers over Guinea's
administrative boundaries in the UTM zone of the area (so the scale bar is
true), adds a legend, a scale bar, a north arrow, an attribution line and an
optional watermark, and returns PNG bytes at the requested physical size.

Only matplotlib's object API is used (``Figure`` + ``FigureCanvasAgg``, never
``pyplot``): no global state, so Streamlit threads can render at the same time.
Geometries go to matplotlib as one collection per layer, built from shapely's
vectorized coordinate arrays, which keeps a few thousand hexagons well under a
second. All text is drawn in the DejaVu Sans font bundled with matplotlib and
with math parsing off, so a ``$`` in a place name prints as typed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path
from matplotlib.text import Text
from PIL import Image

import geopandas as gpd
import shapely

from geo import boundaries
from geo.crs import WGS84, transformer, utm_epsg_for

Color = str | tuple[float, float, float] | tuple[float, float, float, float]
ContextLevel = Literal["region", "prefecture", "subprefecture"]

#: The font every map text uses; matplotlib ships it, so output never depends on system fonts.
FONT_FAMILY = "DejaVu Sans"
MM_PER_INCH = 25.4

_BOUNDARY_COLOR = "#8a8a8a"
_COUNTRY_COLOR = "#4a4a4a"
_LABEL_COLOR = "#4d4d4d"
_MIN_SPAN_M = 2_000.0  # a single point still gets a readable 2 km frame


# --- layer descriptions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolygonLayer:
    """Filled polygons. ``facecolor`` and ``hatch`` are one value for all rows or a sequence aligned
    with ``data`` (hatches such as ``"////"`` keep classes apart on a black-and-white printer)."""

    data: gpd.GeoDataFrame
    facecolor: Color | Sequence[Color] = "none"
    edgecolor: Color = "#333333"
    linewidth: float = 0.3
    hatch: str | Sequence[str | None] | None = None
    hatchcolor: Color | None = None
    alpha: float | None = None


@dataclass(frozen=True)
class LineLayer:
    """Lines (roads, routes, borders); polygons given here are drawn by their outline."""

    data: gpd.GeoDataFrame
    color: Color = "#333333"
    width: float = 1.0
    linestyle: str = "-"
    alpha: float | None = None


@dataclass(frozen=True)
class PointLayer:
    """Markers; ``size`` is the marker's width in points, one value or one per row. Non-point
    geometries are drawn at a point guaranteed to lie inside them. ``labels`` (one short text per
    row, e.g. a rank) are printed on the markers in ``label_color``."""

    data: gpd.GeoDataFrame
    color: Color | Sequence[Color] = "#000000"
    size: float | Sequence[float] = 5.0
    marker: str = "o"
    edgecolor: Color = "#ffffff"
    linewidth: float = 0.5
    alpha: float | None = None
    labels: Sequence[str] | None = None
    label_color: Color = "#ffffff"


@dataclass(frozen=True)
class LegendEntry:
    """One legend line: a swatch drawn like a polygon, a line or a point, and its label."""

    label: str
    kind: Literal["polygon", "line", "point"] = "polygon"
    color: Color = "none"
    edgecolor: Color = "#333333"
    hatch: str | None = None
    hatchcolor: Color | None = None
    linewidth: float = 0.6
    marker: str = "o"
    size: float = 6.0


Layer = PolygonLayer | LineLayer | PointLayer


# --- public API -----------------------------------------------------------------------------------------


def pixel_size(size_mm: tuple[float, float], dpi: int) -> tuple[int, int]:
    """Pixel (width, height) of an image ``size_mm`` large at ``dpi``, as :func:`render_map` makes it."""
    w_mm, h_mm = _check_size(size_mm)
    return max(1, round(w_mm / MM_PER_INCH * dpi)), max(1, round(h_mm / MM_PER_INCH * dpi))


def render_map(layers: Sequence[Layer], *, bounds: tuple[float, float, float, float] | None = None,
               size_mm: tuple[float, float] = (180.0, 120.0), dpi: int = 150,
               context_level: ContextLevel | None = "prefecture", labels: bool = True,
               legend: Sequence[LegendEntry] = (), legend_title: str | None = None,
               attribution: str | None = None, watermark: str | None = None, pad: float = 0.06) -> bytes:
    """Draw ``layers`` (first at the bottom) on a metric map and return PNG bytes.

    Parameters
    ----------
    layers
        Polygon, line and point layers; GeoDataFrames in any CRS (set on the frame).
    bounds
        ``(west, south, east, north)`` in degrees to show; by default the union of the
        layers' bounds widened by ``pad`` (a fraction of the span) on every side. Either
        way the frame grows in one direction to the image's aspect, never shrinks.
    size_mm, dpi
        Physical size of the image and its resolution: the PNG is
        :func:`pixel_size` pixels and text sizes are true on paper at that size.
    context_level
        Administrative level whose outlines (and names, with ``labels``) are drawn under
        the data; ``None`` draws only the country border and the coast.
    legend, legend_title
        Legend lines supplied by the caller (already translated).
    attribution
        Small credit line; ``None`` gives the boundaries' licence credit
        (:data:`geo.boundaries.ATTRIBUTION`), ``""`` prints none.
    watermark
        Large diagonal grey text across the map, e.g. "DONNÉES DE DÉMONSTRATION".
    """
    layers = _check_layers(layers)
    px_w, px_h = pixel_size(size_mm, dpi)
    if not 30 <= int(dpi) <= 1200:
        raise ValueError(f"dpi must be between 30 and 1200, got {dpi}")
    if not 0.0 <= pad <= 1.0:
        raise ValueError(f"pad must be between 0 and 1, got {pad}")
    if context_level is not None and context_level not in boundaries.LEVELS:
        raise ValueError(f"context_level must be one of {boundaries.LEVELS} or None, got {context_level!r}")

    lonlat = _check_bounds(bounds) if bounds is not None else _layers_lonlat_bounds(layers)
    if lonlat is None:
        raise ValueError("nothing to frame: give bounds or at least one non-empty layer")
    epsg = utm_epsg_for(*lonlat)
    projected = [(layer, layer.data.to_crs(epsg)) for layer in layers]
    frame = _frame(projected, bounds, epsg, pad, px_w / px_h)

    fig = Figure(figsize=(px_w / dpi, px_h / dpi), dpi=dpi, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(frame[0], frame[2])
    ax.set_ylim(frame[1], frame[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
        spine.set_zorder(20)

    clip_box = _lonlat_box(frame, epsg, grow=0.1)
    label_texts = _draw_context(ax, context_level, labels, clip_box, epsg, frame)
    for z, (layer, data) in enumerate(projected, start=3):
        _draw_layer(ax, layer, data, zorder=z)

    mm_per_unit = (px_w / dpi * MM_PER_INCH) / (frame[2] - frame[0])
    furniture = []
    arrow_right = True
    if legend:
        box = _legend(ax, legend, legend_title)
        arrow_right = _settle_legend(canvas, ax, box, projected)
        furniture.append(box)
    furniture += [_scale_bar(ax, frame, mm_per_unit), _north_arrow(ax, frame, epsg, right=arrow_right)]
    credit = boundaries.ATTRIBUTION if attribution is None else attribution
    if credit:
        furniture.append(ax.text(0.995, 0.006, credit, transform=ax.transAxes, ha="right", va="bottom",
                                 fontsize=5.0, color="#333333", family=FONT_FAMILY, zorder=15, parse_math=False,
                                 wrap=False, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75,
                                                   "pad": 1.0}))
    if watermark:
        _watermark(fig, ax, canvas, watermark)
    if label_texts:
        _drop_crowded_labels(canvas, ax, label_texts, furniture)

    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buf, format="PNG", dpi=(dpi, dpi), compress_level=6)
    return buf.getvalue()


# --- checks and framing ----------------------------------------------------------------------------------


def _check_size(size_mm: tuple[float, float]) -> tuple[float, float]:
    try:
        w_mm, h_mm = (float(v) for v in size_mm)
    except (TypeError, ValueError):
        raise TypeError(f"size_mm must be a (width, height) pair in millimetres, got {size_mm!r}") from None
    if not (10.0 <= w_mm <= 1000.0 and 10.0 <= h_mm <= 1000.0):
        raise ValueError(f"size_mm must lie between 10 and 1000 mm on each side, got {size_mm!r}")
    return w_mm, h_mm


def _check_layers(layers: Sequence[Layer]) -> list[Layer]:
    out = list(layers)
    for i, layer in enumerate(out):
        if not isinstance(layer, PolygonLayer | LineLayer | PointLayer):
            raise TypeError(f"layers[{i}] must be a PolygonLayer, LineLayer or PointLayer, got {type(layer).__name__}")
        if not isinstance(layer.data, gpd.GeoDataFrame):
            raise TypeError(f"layers[{i}].data must be a GeoDataFrame, got {type(layer.data).__name__}")
        if layer.data.crs is None:
            raise ValueError(f"layers[{i}].data has no CRS: set one (EPSG:4326 for lon/lat)")
    return out


def _check_bounds(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise TypeError(f"bounds must be (west, south, east, north) in degrees, got {bounds!r}") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"bounds must be (west, south, east, north) with west < east and south < north, "
                         f"got {bounds!r}")
    return west, south, east, north


def _layers_lonlat_bounds(layers: Sequence[Layer]) -> tuple[float, float, float, float] | None:
    boxes = []
    for layer in layers:
        data = layer.data
        if data.empty or data.geometry.is_empty.all():
            continue
        box = data.total_bounds
        epsg = data.crs.to_epsg()
        if epsg != WGS84:
            box = transformer(epsg, WGS84).transform_bounds(*box, densify_pts=11) if epsg else \
                data.to_crs(WGS84).total_bounds
        boxes.append(box)
    if not boxes:
        return None
    arr = np.asarray(boxes, dtype=float)
    return float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max())


def _frame(projected: list[tuple[Layer, gpd.GeoDataFrame]], bounds, epsg: int, pad: float,
           aspect: float) -> tuple[float, float, float, float]:
    """Projected (xmin, ymin, xmax, ymax) holding the data or the bounds, at the image's aspect."""
    if bounds is not None:
        xmin, ymin, xmax, ymax = transformer(WGS84, epsg).transform_bounds(*bounds, densify_pts=21)
        pad = 0.0
    else:
        boxes = np.asarray([data.total_bounds for _, data in projected
                            if not data.empty and not data.geometry.is_empty.all()], dtype=float)
        xmin, ymin = boxes[:, 0].min(), boxes[:, 1].min()
        xmax, ymax = boxes[:, 2].max(), boxes[:, 3].max()
    cx, cy = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    w = max(xmax - xmin, _MIN_SPAN_M) * (1.0 + 2.0 * pad)
    h = max(ymax - ymin, _MIN_SPAN_M) * (1.0 + 2.0 * pad)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0


def _lonlat_box(frame: tuple[float, float, float, float], epsg: int, grow: float) -> tuple[float, ...]:
    """The frame's lon/lat bounding box, widened so clipped shapes never end inside the picture."""
    w, h = frame[2] - frame[0], frame[3] - frame[1]
    grown = (frame[0] - grow * w, frame[1] - grow * h, frame[2] + grow * w, frame[3] + grow * h)
    return transformer(epsg, WGS84).transform_bounds(*grown, densify_pts=21)


# --- geometry to matplotlib ------------------------------------------------------------------------------


def _polygon_paths(geoms: np.ndarray) -> tuple[list[Path], np.ndarray]:
    """One compound path per non-empty (multi)polygon, with the row index each path belongs to.

    Rings are oriented (exteriors counter-clockwise, holes clockwise) so holes stay
    empty under any fill rule; vertices and codes are computed for all rings at once.
    """
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    parts, part_row = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if len(coords) == 0:
        return [], np.zeros(0, dtype=np.int64)
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    first = np.r_[True, coord_ring[1:] != coord_ring[:-1]]
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]
    codes[first] = Path.MOVETO
    codes[last] = Path.CLOSEPOLY
    coord_row = part_row[ring_part[coord_ring]]
    cuts = np.flatnonzero(coord_row[1:] != coord_row[:-1]) + 1
    rows = coord_row[np.r_[0, cuts]]
    paths = [Path(v, c) for v, c in zip(np.split(coords, cuts), np.split(codes, cuts), strict=True)]
    return paths, rows


def _line_segments(geoms: np.ndarray) -> list[np.ndarray]:
    """Vertex arrays of every linestring part (polygon outlines included)."""
    parts = shapely.get_parts(shapely.get_parts(geoms))  # multi-parts and (clipped) collections, flattened
    kind = shapely.get_type_id(parts)
    outlines = shapely.get_parts(shapely.boundary(parts[kind == 3]))  # polygon -> its rings
    parts = np.concatenate([parts[(kind == 1) | (kind == 2)], outlines])
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    if len(coords) == 0:
        return []
    cuts = np.flatnonzero(idx[1:] != idx[:-1]) + 1
    return [seg for seg in np.split(coords, cuts) if len(seg) >= 2]


def _per_row(value, n: int, name: str):
    """``value`` as a per-row list when it is a sequence of length ``n`` (not a single colour)."""
    if isinstance(value, str | int | float | np.number) or value is None:
        return None
    if isinstance(value, tuple) and len(value) in (3, 4) and all(isinstance(v, int | float) for v in value):
        return None  # one RGB(A) colour
    seq = list(value.to_numpy() if isinstance(value, pd.Series) else value)
    if len(seq) != n:
        raise ValueError(f"{name} has {len(seq)} values for {n} rows")
    return seq


def _draw_layer(ax, layer: Layer, data: gpd.GeoDataFrame, zorder: int) -> None:
    geoms = data.geometry.to_numpy()
    n = len(geoms)
    if n == 0:
        return
    if isinstance(layer, PolygonLayer):
        paths, rows = _polygon_paths(geoms)
        if not paths:
            return
        faces = _per_row(layer.facecolor, n, "facecolor")
        face_rgba = to_rgba_array(faces)[rows] if faces is not None else to_rgba_array([layer.facecolor] * len(rows))
        hatches = _per_row(layer.hatch, n, "hatch")
        hatch_of = (np.asarray([h or "" for h in hatches], dtype=object)[rows] if hatches is not None
                    else np.full(len(rows), layer.hatch or "", dtype=object))
        for hatch in pd.unique(hatch_of):
            pick = np.flatnonzero(hatch_of == hatch)
            kwargs = {"hatch": hatch or None}
            if hatch and layer.hatchcolor is not None:
                kwargs["hatchcolor"] = layer.hatchcolor
            coll = PathCollection([paths[i] for i in pick], facecolors=face_rgba[pick], edgecolors=layer.edgecolor,
                                  linewidths=layer.linewidth, alpha=layer.alpha, zorder=zorder, **kwargs)
            if hatch:
                coll.set_hatch_linewidth(max(0.4, layer.linewidth * 1.5))
            ax.add_collection(coll, autolim=False)
    elif isinstance(layer, LineLayer):
        segments = _line_segments(geoms)
        if segments:
            ax.add_collection(LineCollection(segments, colors=layer.color, linewidths=layer.width,
                                             linestyles=layer.linestyle, alpha=layer.alpha, zorder=zorder,
                                             capstyle="round", joinstyle="round"), autolim=False)
    else:
        points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
        x, y = shapely.get_x(points), shapely.get_y(points)
        ok = np.isfinite(x) & np.isfinite(y)
        colors = _per_row(layer.color, n, "color")
        sizes = _per_row(layer.size, n, "size")
        ax.scatter(x[ok], y[ok], s=(np.asarray(sizes, float)[ok] if sizes is not None else float(layer.size)) ** 2,
                   c=to_rgba_array(colors)[ok] if colors is not None else [layer.color], marker=layer.marker,
                   edgecolors=layer.edgecolor, linewidths=layer.linewidth, alpha=layer.alpha, zorder=zorder)
        if layer.labels is not None:
            texts = _per_row(list(layer.labels), n, "labels")
            size = np.asarray(sizes, float) if sizes is not None else np.full(n, float(layer.size))
            for i in np.flatnonzero(ok):
                ax.text(x[i], y[i], str(texts[i]), ha="center", va="center", fontsize=max(4.0, size[i] * 0.55),
                        fontweight="bold", color=layer.label_color, family=FONT_FAMILY, parse_math=False,
                        zorder=zorder + 0.5)


# --- context ---------------------------------------------------------------------------------------------


def _draw_context(ax, level: ContextLevel | None, labels: bool, box, epsg: int, frame) -> list[Text]:
    """Country border, coast and the chosen level's outlines and names, clipped to the frame."""
    detail = _detail_for(frame)
    outline = boundaries.load_outline()
    country = outline[outline["kind"] == "country"].geometry.to_numpy()
    country_lines = shapely.clip_by_rect(shapely.boundary(country), *box)
    coast = shapely.clip_by_rect(outline[outline["kind"] == "coast"].geometry.to_numpy(), *box)
    texts: list[Text] = []
    if level is not None:
        units = boundaries.load_display(level, detail)
        hit = units.geometry.intersects(shapely.box(*box)).to_numpy()
        units = units[hit]
        if len(units):
            lines = shapely.clip_by_rect(shapely.boundary(units.geometry.to_numpy()), *box)
            _add_lines(ax, lines, epsg, color=_BOUNDARY_COLOR, width=0.45, zorder=1.5)
            if labels:
                texts = _unit_labels(ax, units, epsg, frame)
    _add_lines(ax, country_lines, epsg, color=_COUNTRY_COLOR, width=0.9, zorder=1.6)
    _add_lines(ax, coast, epsg, color=_COUNTRY_COLOR, width=0.6, zorder=1.6)
    return texts


def _detail_for(frame) -> str:
    """Simplified boundaries for wide frames (the lines would be thinner than a pixel anyway)."""
    width_km = (frame[2] - frame[0]) / 1000.0
    return "high" if width_km < 60 else "medium" if width_km < 400 else "low"


def _add_lines(ax, geoms: np.ndarray, epsg: int, **style) -> None:
    geoms = geoms[~shapely.is_empty(geoms)]
    if len(geoms) == 0:
        return
    projected = gpd.GeoSeries(geoms, crs=WGS84).to_crs(epsg).to_numpy()
    segments = _line_segments(projected)
    if segments:
        ax.add_collection(LineCollection(segments, colors=style["color"], linewidths=style["width"],
                                         zorder=style["zorder"], capstyle="round", joinstyle="round"), autolim=False)


def _unit_labels(ax, units: gpd.GeoDataFrame, epsg: int, frame) -> list[Text]:
    """Names at each unit's label point inside the frame, biggest units first (they win overlaps)."""
    units = units.sort_values("area_km2", ascending=False)
    x, y = transformer(WGS84, epsg).transform(units["label_lon"].to_numpy(float), units["label_lat"].to_numpy(float))
    x, y = np.asarray(x), np.asarray(y)
    mx, my = 0.03 * (frame[2] - frame[0]), 0.03 * (frame[3] - frame[1])
    inside = (x > frame[0] + mx) & (x < frame[2] - mx) & (y > frame[1] + my) & (y < frame[3] - my)
    halo = [patheffects.withStroke(linewidth=1.6, foreground="white")]
    texts = []
    for name, px, py in zip(units["name"].to_numpy()[inside][:80], x[inside][:80], y[inside][:80], strict=True):
        texts.append(ax.text(px, py, str(name), ha="center", va="center", fontsize=6.0, color=_LABEL_COLOR,
                             family=FONT_FAMILY, style="italic", zorder=12, parse_math=False, path_effects=halo,
                             clip_on=True))
    return texts


def _drop_crowded_labels(canvas: FigureCanvasAgg, ax, texts: list[Text], furniture: list) -> None:
    """Remove labels that leave the frame or overlap a kept label, the legend or the scale bar."""
    renderer = canvas.get_renderer()
    frame_box = ax.get_window_extent(renderer)
    taken = [a.get_window_extent(renderer) for a in furniture if a is not None]
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.08, 1.15)
        outside = (box.x0 < frame_box.x0 or box.x1 > frame_box.x1 or box.y0 < frame_box.y0
                   or box.y1 > frame_box.y1)
        if outside or any(box.overlaps(other) for other in taken):
            text.remove()
        else:
            taken.append(box)


# --- furniture -------------------------------------------------------------------------------------------


def nice_length(max_m: float) -> float:
    """The longest 1, 2 or 5 x 10^k metres not exceeding ``max_m`` (a scale bar's round length)."""
    if not max_m > 0:
        raise ValueError(f"max_m must be positive, got {max_m}")
    exp = math.floor(math.log10(max_m))
    for step in (5, 2, 1):
        if step * 10**exp <= max_m * (1 + 1e-12):
            return float(step * 10**exp)
    return float(10**exp)  # unreachable: 1 x 10^exp <= max_m by construction


def _length_label(metres: float) -> str:
    if metres >= 1000:
        km = metres / 1000.0
        return f"{km:.0f} km" if km >= 1 and km == int(km) else f"{km:g} km"
    return f"{metres:.0f} m"


def _scale_bar(ax, frame, mm_per_unit: float):
    """Two-segment black and white bar at the lower left, about a fifth of the map wide."""
    width = frame[2] - frame[0]
    length = nice_length(width * 0.22)
    unit = 1.0 / mm_per_unit  # map units per millimetre on paper
    x0, y0 = frame[0] + 4.0 * unit, frame[1] + 4.5 * unit
    bar_h = 1.4 * unit
    half = length / 2.0
    back = Rectangle((x0 - 2.0 * unit, y0 - 1.5 * unit), length + 4.0 * unit + 8 * unit, bar_h + 6.0 * unit,
                     facecolor="white", edgecolor="none", alpha=0.8, zorder=13)
    ax.add_patch(back)
    ax.add_patch(Rectangle((x0, y0), half, bar_h, facecolor="black", edgecolor="black", linewidth=0.5, zorder=14))
    ax.add_patch(Rectangle((x0 + half, y0), half, bar_h, facecolor="white", edgecolor="black", linewidth=0.5,
                           zorder=14))
    style = {"fontsize": 6.0, "family": FONT_FAMILY, "zorder": 14, "va": "bottom", "parse_math": False}
    ax.text(x0, y0 + bar_h + 0.6 * unit, "0", ha="center", **style)
    ax.text(x0 + length, y0 + bar_h + 0.6 * unit, _length_label(length), ha="left", **style)
    return back


def _north_arrow(ax, frame, epsg: int, *, right: bool = True):
    """Arrow to true north in a top corner, turned by the UTM grid's convergence at the centre."""
    cx, cy = (frame[0] + frame[2]) / 2.0, (frame[1] + frame[3]) / 2.0
    lon, lat = transformer(epsg, WGS84).transform(cx, cy)
    nx, ny = transformer(WGS84, epsg).transform(lon, lat + 0.01)
    angle = math.atan2(nx - cx, ny - cy)  # clockwise from grid north, a fraction of a degree in Guinea
    tip = (0.955 if right else 0.045, 0.93)
    length = 22.0  # points
    arrow = ax.annotate("", xy=tip, xycoords="axes fraction",
                        xytext=(-length * math.sin(angle), -length * math.cos(angle)), textcoords="offset points",
                        arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.35", "color": "black",
                                    "linewidth": 1.2, "shrinkA": 0, "shrinkB": 0}, zorder=14)
    label = ax.annotate("N", xy=tip, xycoords="axes fraction", xytext=(0, 2.5), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8, fontweight="bold", family=FONT_FAMILY, zorder=14,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.6})
    label.set_parse_math(False)
    return arrow if arrow is not None else label


def _legend(ax, entries: Sequence[LegendEntry], title: str | None):
    handles = []
    for entry in entries:
        if not isinstance(entry, LegendEntry):
            raise TypeError(f"legend entries must be LegendEntry, got {type(entry).__name__}")
        if entry.kind == "polygon":
            kwargs = {"hatchcolor": entry.hatchcolor} if entry.hatch and entry.hatchcolor is not None else {}
            handle = Patch(facecolor=entry.color, edgecolor=entry.edgecolor, hatch=entry.hatch,
                           linewidth=entry.linewidth, label=entry.label, **kwargs)
        elif entry.kind == "line":
            handle = Line2D([], [], color=entry.color, linewidth=entry.linewidth, label=entry.label)
        elif entry.kind == "point":
            handle = Line2D([], [], linestyle="none", marker=entry.marker, markersize=entry.size,
                            markerfacecolor=entry.color, markeredgecolor=entry.edgecolor,
                            markeredgewidth=entry.linewidth, label=entry.label)
        else:
            raise ValueError(f"legend entry kind must be polygon, line or point, got {entry.kind!r}")
        handles.append(handle)
    legend = ax.legend(handles=handles, loc="upper left", title=title, title_fontsize=7,
                       prop={"family": FONT_FAMILY, "size": 6.5}, frameon=True, framealpha=0.88, edgecolor="#555555",
                       fancybox=False, borderpad=0.5, handlelength=1.6, handleheight=1.1, labelspacing=0.35)
    legend.set_zorder(16)
    for text in [*legend.get_texts(), legend.get_title()]:
        text.set_parse_math(False)
        text.set_family(FONT_FAMILY)
    legend.get_title().set_fontweight("bold")
    return legend


def _settle_legend(canvas: FigureCanvasAgg, ax, legend, projected) -> bool:
    """Put the legend in the top corner that hides fewer data vertices; True if it stays on the left.

    The bottom corners hold the scale bar and the attribution, so only the two
    top corners compete; the north arrow takes the other one.
    """
    renderer = canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    axes_box = ax.get_window_extent(renderer)
    coords = [shapely.get_coordinates(data.geometry.to_numpy()) for _, data in projected if len(data)]
    if not coords:
        return True
    xy = ax.transData.transform(np.concatenate(coords))
    mirror_x0 = axes_box.x1 - (box.x1 - axes_box.x0)

    def hidden(x0: float) -> int:
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x0 + box.width) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
        return int(inside.sum())

    if hidden(mirror_x0) < hidden(box.x0):
        legend.set_loc("upper right")
        return False
    return True


def _watermark(fig: Figure, ax, canvas: FigureCanvasAgg, text: str) -> None:
    """Diagonal light-grey text across the map, sized to span about 70 % of its diagonal.

    Drawn above the boundaries but under the data: it marks every empty part of the
    picture without greying the classes a reader must tell apart.
    """
    width_px, height_px = fig.bbox.width, fig.bbox.height
    angle = math.degrees(math.atan2(height_px, width_px))
    mark = ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", rotation=angle,
                   rotation_mode="anchor", fontsize=20, color="#8c8c8c", alpha=0.3, fontweight="bold",
                   family=FONT_FAMILY, zorder=2, parse_math=False)
    mark.set_rotation(0)
    natural = mark.get_window_extent(canvas.get_renderer()).width
    target = 0.7 * math.hypot(width_px, height_px)
    mark.set_fontsize(max(8.0, min(96.0, 20.0 * target / max(natural, 1.0))))
    mark.set_rotation(angle)
