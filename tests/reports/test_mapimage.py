"""Static maps: PNG of the asked pixel size, data drawn where it lies, literal text, no shared state."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import geopandas as gpd
import shapely

from geo import cells
from geo.crs import WGS84, transformer, utm_epsg_for
from reports.mapimage import (
    LegendEntry,
    LineLayer,
    PointLayer,
    PolygonLayer,
    nice_length,
    pixel_size,
    render_map,
)

BLUE = (0, 0, 255)


def _decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB")).astype(int)


def _pixels_of(lon: np.ndarray, lat: np.ndarray, cells: gpd.GeoDataFrame, shape: tuple[int, int],
               pad: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """Reference placement: the data's UTM bounds padded by ``pad``, grown about the centre to the image aspect."""
    west, south, east, north = cells.total_bounds
    epsg = utm_epsg_for(west, south, east, north)
    xmin, ymin, xmax, ymax = cells.to_crs(epsg).total_bounds
    h_px, w_px = shape
    w, h = (xmax - xmin) * (1 + 2 * pad), (ymax - ymin) * (1 + 2 * pad)
    w, h = max(w, h * w_px / h_px), max(h, w * h_px / w_px)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    x, y = transformer(WGS84, epsg).transform(np.asarray(lon, float), np.asarray(lat, float))
    col = (np.asarray(x) - (cx - w / 2)) / w * w_px
    row = ((cy + h / 2) - np.asarray(y)) / h * h_px
    return row.astype(int), col.astype(int)


@pytest.mark.parametrize(("size_mm", "dpi"), [((180, 120), 150), ((100, 100), 96), ((186, 60), 200)])
def test_png_has_the_requested_pixel_size(conakry_cells, size_mm, dpi):
    png = render_map([PolygonLayer(conakry_cells, facecolor="#e32f27")], size_mm=size_mm, dpi=dpi)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == pixel_size(size_mm, dpi) == (round(size_mm[0] / 25.4 * dpi), round(size_mm[1] / 25.4 * dpi))
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.05)


def test_hexagons_are_drawn_where_they_lie_and_nowhere_else(conakry_cells):
    png = render_map([PolygonLayer(conakry_cells, facecolor="#0000ff", edgecolor="#0000ff", linewidth=0.1)],
                     size_mm=(180, 120), dpi=100, context_level=None, attribution="")
    rgb = _decode(png)
    is_blue = (np.abs(rgb - BLUE) < 40).all(axis=2)
    is_white = (rgb > 245).all(axis=2)

    row, col = _pixels_of(conakry_cells["lon"], conakry_cells["lat"], conakry_cells, rgb.shape[:2])
    assert is_blue[row, col].mean() > 0.97  # a few centres sit under the scale bar or the north arrow

    # Points of the frame more than 400 m from any hexagon, the coast and the border are left white.
    rng = np.random.default_rng(8)
    west, south, east, north = conakry_cells.total_bounds
    plon, plat = rng.uniform(west, east, 3000), rng.uniform(south, north, 3000)
    epsg = utm_epsg_for(west, south, east, north)
    from geo.boundaries import load_outline

    obstacles = shapely.union_all(np.r_[conakry_cells.to_crs(epsg).geometry.to_numpy(),
                                        load_outline().to_crs(epsg).boundary.to_numpy()])
    px, py = transformer(WGS84, epsg).transform(plon, plat)
    far = shapely.distance(shapely.points(px, py), obstacles) > 400
    prow, pcol = _pixels_of(plon[far], plat[far], conakry_cells, rgb.shape[:2])
    assert far.sum() > 300
    assert is_white[prow, pcol].mean() > 0.97
    assert not is_blue[prow, pcol].any()


def _scattered(conakry_cells: gpd.GeoDataFrame) -> np.ndarray:
    """A mask of cells none of which touch another (greedy), so a misplaced frame lands on empty ground."""
    ids = np.array([int(c, 16) for c in conakry_cells["cell"]], dtype=np.uint64)
    indptr, neighbours = cells.grid_disks(ids, 1)
    position = {int(c): i for i, c in enumerate(ids)}
    picked = np.zeros(len(ids), dtype=bool)
    blocked = np.zeros(len(ids), dtype=bool)
    for i in range(len(ids)):
        if not blocked[i]:
            picked[i] = True
            for n in neighbours[indptr[i]:indptr[i + 1]]:
                if int(n) in position:
                    blocked[position[int(n)]] = True
    return picked


def test_each_hexagon_lands_on_its_own_pixels(conakry_cells):
    picked = _scattered(conakry_cells)
    shown = conakry_cells[picked]
    png = render_map([PolygonLayer(shown, facecolor="#0000ff", edgecolor="none")], size_mm=(180, 120), dpi=150,
                     context_level=None, attribution="")
    rgb = _decode(png)
    is_blue = (np.abs(rgb - BLUE) < 40).all(axis=2)
    is_white = (rgb > 245).all(axis=2)
    row, col = _pixels_of(shown["lon"], shown["lat"], shown, rgb.shape[:2])
    assert is_blue[row, col].mean() > 0.97
    hidden = conakry_cells[~picked]  # the neighbours left out: their centres are 1 hexagon away from any blue
    row, col = _pixels_of(hidden["lon"], hidden["lat"], shown, rgb.shape[:2])
    inside = (row >= 0) & (row < rgb.shape[0]) & (col >= 0) & (col < rgb.shape[1])
    assert inside.mean() > 0.97
    assert is_white[row[inside], col[inside]].mean() > 0.93 and not is_blue[row[inside], col[inside]].any()


def test_explicit_bounds_centre_the_frame_on_them():
    cell = shapely.Polygon([(-12.2, 10.3), (-12.0, 10.3), (-12.0, 10.5), (-12.2, 10.5)])  # inland, near Mamou
    layer = PolygonLayer(gpd.GeoDataFrame(geometry=[cell], crs=4326), facecolor="#0000ff")
    rgb = _decode(render_map([layer], bounds=(-12.6, 10.0, -11.6, 10.8), size_mm=(100, 80), dpi=100,
                             context_level=None, attribution=""))
    h, w = rgb.shape[:2]
    assert (np.abs(rgb[h // 2, w // 2] - BLUE) < 40).all()
    assert (rgb[h // 2, int(w * 0.2)] > 245).all()  # the square covers the middle fifth of the width only


def test_points_lines_and_hatches_leave_their_mark(conakry_cells):
    base = [PolygonLayer(conakry_cells, facecolor="#ffffff", edgecolor="#ffffff")]
    plain = _decode(render_map(base, dpi=80, context_level=None, attribution=""))
    pts = conakry_cells.iloc[::40].set_geometry(gpd.points_from_xy(conakry_cells["lon"], conakry_cells["lat"],
                                                                   crs=4326)[::40])
    dotted = _decode(render_map([*base, PointLayer(pts, color="#00ff00", size=8, edgecolor="#00ff00")], dpi=80,
                                context_level=None, attribution=""))
    green = (np.abs(dotted - (0, 255, 0)) < 40).all(axis=2)
    assert green.sum() > len(pts) * 10 and not (np.abs(plain - (0, 255, 0)) < 40).all(axis=2).any()

    ends = conakry_cells.iloc[[0, -1]]
    line = gpd.GeoDataFrame(geometry=[shapely.LineString(np.c_[ends["lon"], ends["lat"]])], crs=4326)
    lined = _decode(render_map([*base, LineLayer(line, color="#ff00ff", width=2)], dpi=80, context_level=None,
                               attribution=""))
    assert (np.abs(lined - (255, 0, 255)) < 40).all(axis=2).sum() > 50

    hatched = _decode(render_map([PolygonLayer(conakry_cells, facecolor="#ffffff", edgecolor="#ffffff",
                                               hatch="////", hatchcolor="#000000")], dpi=80, context_level=None,
                                 attribution=""))
    assert (hatched < 200).any(axis=2).sum() > (plain < 200).any(axis=2).sum() + 5000


def test_per_row_styles_follow_the_rows(conakry_cells):
    west = conakry_cells["lon"] < conakry_cells["lon"].median()
    colours = np.where(west, "#0000ff", "#ff0000")
    rgb = _decode(render_map([PolygonLayer(conakry_cells, facecolor=list(colours), edgecolor="none")], dpi=100,
                             context_level=None, attribution=""))
    row, col = _pixels_of(conakry_cells["lon"], conakry_cells["lat"], conakry_cells, rgb.shape[:2])
    blue = (np.abs(rgb[row, col] - BLUE) < 40).all(axis=1)
    red = (np.abs(rgb[row, col] - (255, 0, 0)) < 40).all(axis=1)
    assert (blue == west.to_numpy()).mean() > 0.97 and (red == ~west.to_numpy()).mean() > 0.97
    with pytest.raises(ValueError, match="facecolor has 3 values"):
        render_map([PolygonLayer(conakry_cells, facecolor=["red"] * 3)])


def test_text_is_literal_and_context_labels_render(conakry_cells):
    legend = [LegendEntry("Coût $5 et $x^{ ouvert", color="#e32f27"), LegendEntry("Route", kind="line"),
              LegendEntry("Poste", kind="point", color="black")]
    png = render_map([PolygonLayer(conakry_cells, facecolor="none")], legend=legend, legend_title="Légende $",
                     context_level="subprefecture", labels=True, watermark="DONNÉES DE DÉMONSTRATION",
                     attribution="Limites : geoBoundaries $ CC BY")  # unbalanced $ would break math parsing
    assert Image.open(io.BytesIO(png)).size == pixel_size((180, 120), 150)


def test_watermark_and_legend_change_the_picture(conakry_cells):
    layers = [PolygonLayer(conakry_cells, facecolor="none")]
    plain = _decode(render_map(layers, dpi=80))
    marked = _decode(render_map(layers, dpi=80, watermark="DEMO DATA"))
    with_legend = _decode(render_map(layers, dpi=80, legend=[LegendEntry("Hot spot", color="#a60f15")]))
    assert (np.abs(plain - marked).sum(axis=2) > 30).sum() > 2000
    assert (np.abs(plain - with_legend).sum(axis=2) > 30).sum() > 200


def test_rendering_in_threads_gives_the_same_bytes(conakry_cells):
    def draw(colour: str) -> bytes:
        return render_map([PolygonLayer(conakry_cells, facecolor=colour)], dpi=60, watermark=colour)

    colours = ["#a60f15", "#7db8da", "#a60f15", "#7db8da"]
    alone = [draw(c) for c in colours[:2]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(draw, colours))
    assert together == alone * 2


def test_bad_input_is_refused_with_a_reason(conakry_cells):
    with pytest.raises(ValueError, match="nothing to frame"):
        render_map([PolygonLayer(conakry_cells.iloc[0:0])])
    with pytest.raises(ValueError, match="no CRS"):
        render_map([PolygonLayer(gpd.GeoDataFrame(geometry=conakry_cells.geometry.to_numpy()))])
    with pytest.raises(TypeError, match="PolygonLayer"):
        render_map([conakry_cells])
    with pytest.raises(ValueError, match="size_mm"):
        render_map([PolygonLayer(conakry_cells)], size_mm=(5, 100))
    with pytest.raises(ValueError, match="bounds"):
        render_map([], bounds=(-13, 10, -14, 11))
    with pytest.raises(ValueError, match="context_level"):
        render_map([PolygonLayer(conakry_cells)], context_level="commune")


def test_empty_layers_are_fine_with_bounds():
    png = render_map([PolygonLayer(gpd.GeoDataFrame(geometry=[], crs=4326))], bounds=(-15.1, 7.1, -7.6, 12.7),
                     size_mm=(120, 100), dpi=72)
    assert Image.open(io.BytesIO(png)).size == pixel_size((120, 100), 72)


@pytest.mark.parametrize(("limit", "expected"), [(2300, 2000), (999, 500), (7.3, 5), (100_000, 100_000),
                                                   (49_999, 20_000), (1.0, 1.0)])
def test_scale_bar_lengths_are_round(limit, expected):
    assert nice_length(limit) == expected
