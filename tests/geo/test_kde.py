"""Kernel density surface: mass, agreement with the direct kernel sum, zones, weights, display raster."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo import kde
from geo.crs import UTM_28N, UTM_29N, WEB_MERCATOR, WGS84, transformer

CONAKRY = (-13.75, 9.45, -13.50, 9.70)
KALOUM = (-13.68, 9.53)  # a planted cluster


def _cloud(n: int, centre=(-13.62, 9.58), sd: float = 0.02, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(centre[0], sd, n), rng.normal(centre[1], sd, n)


def _naive(surface: kde.DensitySurface, lon: np.ndarray, lat: np.ndarray, weights=None) -> np.ndarray:
    """Direct Gaussian sum at every cell centre, one point at a time (events per km²)."""
    x, y = transformer(WGS84, surface.epsg).transform(lon, lat)
    gx, gy = surface.centres()
    w = np.ones(len(x)) if weights is None else np.asarray(weights, float)
    h = surface.bandwidth
    out = np.zeros(surface.shape)
    for xi, yi, wi in zip(x, y, w, strict=True):
        out += wi * np.exp(-((gy[:, None] - yi) ** 2 + (gx[None, :] - xi) ** 2) / (2 * h * h))
    return out / (2 * math.pi * h * h) * 1e6


def _lonlat_of_cell(surface: kde.DensitySurface, i: int, j: int) -> tuple[float, float]:
    gx, gy = surface.centres()
    return transformer(surface.epsg, WGS84).transform(gx[j], gy[i])


# --- mass and accuracy ----------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", kde.KERNELS)
def test_surface_integrates_to_the_total_weight(kernel):
    lon, lat = _cloud(5000)
    s = kde.density_surface(lon, lat, bandwidth=400, kernel=kernel)
    assert s.mass == pytest.approx(5000, rel=0.01)
    assert s.weight == 5000 and s.cell == 100 and s.kernel == kernel
    assert np.all(s.values >= 0)


def test_agrees_with_the_direct_gaussian_sum():
    lon, lat = _cloud(300, sd=0.01, seed=3)
    s = kde.density_surface(lon, lat, bandwidth=300)
    ref = _naive(s, lon, lat)
    assert s.shape == ref.shape and s.shape[0] > 40
    err = np.abs(s.values - ref).max() / ref.max()
    assert err < 0.01  # nearest-cell binning would give ~2 %
    assert s.values.max() == pytest.approx(ref.max(), rel=0.01)


def test_points_outside_the_extent_still_count_near_its_edge():
    """The grid carries a kernel margin, so a tight extent matches the full sum, edge included."""
    lon, lat = _cloud(300, sd=0.01, seed=4)
    extent = (-13.625, 9.575, -13.605, 9.595)  # cuts through the cloud
    s = kde.density_surface(lon, lat, bandwidth=300, extent=extent)
    ref = _naive(s, lon, lat)
    assert np.abs(s.values - ref).max() / ref.max() < 0.01
    assert s.mass < 300 * 0.8  # only part of the mass lies on this small grid


def test_finer_cells_are_closer_to_the_direct_sum():
    lon, lat = _cloud(200, sd=0.01, seed=5)
    errors = []
    for cell in (150.0, 75.0, 37.5):
        s = kde.density_surface(lon, lat, bandwidth=300, cell=cell)
        ref = _naive(s, lon, lat)
        errors.append(np.abs(s.values - ref).max() / ref.max())
    assert errors[0] > errors[1] > errors[2]


def test_peak_lies_at_the_planted_cluster():
    rng = np.random.default_rng(7)
    bg_lon, bg_lat = rng.uniform(CONAKRY[0], CONAKRY[2], 3000), rng.uniform(CONAKRY[1], CONAKRY[3], 3000)
    cl_lon, cl_lat = rng.normal(KALOUM[0], 0.003, 400), rng.normal(KALOUM[1], 0.003, 400)
    s = kde.density_surface(np.r_[bg_lon, cl_lon], np.r_[bg_lat, cl_lat], bandwidth=500, extent=CONAKRY)
    i, j = np.unravel_index(np.argmax(s.values), s.shape)
    lon, lat = _lonlat_of_cell(s, i, j)
    x, y = transformer(WGS84, s.epsg).transform([lon, KALOUM[0]], [lat, KALOUM[1]])
    assert math.hypot(x[1] - x[0], y[1] - y[0]) < 400  # within a bandwidth of the planted centre


def test_linear_binning_known_answer():
    x, y, w = np.array([17.5, -4.0, 500.0]), np.array([15.0, 2.0, 5.0]), np.array([2.0, 1.0, 9.0])
    grid = kde._linear_binning(x, y, w, 0.0, 0.0, 10.0, nx=4, ny=3)
    expected = np.zeros((3, 4))
    expected[1, 1], expected[1, 2] = 1.5, 0.5  # 17.5 is a quarter of the way from centre 15 to centre 25
    expected[0, 0] = 0.1 * 0.7  # (-4, 2): only its corner inside the grid keeps a share; (500, 5) is dropped
    np.testing.assert_allclose(grid, expected)


# --- metric zone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("centre", "epsg"), [((-13.65, 9.57), UTM_28N), ((-9.31, 10.38), UTM_29N),
                                              ((-8.82, 7.75), UTM_29N)])
def test_zone_follows_the_area(centre, epsg):
    lon, lat = _cloud(50, centre=centre, sd=0.01)
    assert kde.density_surface(lon, lat, bandwidth=500).epsg == epsg
    extent = (centre[0] - 0.1, centre[1] - 0.1, centre[0] + 0.1, centre[1] + 0.1)
    assert kde.density_surface(lon, lat, bandwidth=500, extent=extent).epsg == epsg


def test_default_extent_pads_the_data_by_three_bandwidths():
    lon, lat = _cloud(200)
    s = kde.density_surface(lon, lat, bandwidth=500)
    x, y = transformer(WGS84, s.epsg).transform(lon, lat)
    west, south, east, north = transformer(WGS84, s.epsg).transform_bounds(*s.extent)
    pads = np.array([x.min() - west, y.min() - south, east - x.max(), north - y.max()])
    assert np.all((pads > 1490) & (pads < 1600)), pads


# --- weights --------------------------------------------------------------------------------------


def test_weights_are_honoured():
    lon, lat = _cloud(60, seed=9)
    w = np.random.default_rng(9).integers(0, 5, 60)
    weighted = kde.density_surface(lon, lat, weights=w, bandwidth=400, extent=CONAKRY)
    repeated = kde.density_surface(np.repeat(lon, w), np.repeat(lat, w), bandwidth=400, extent=CONAKRY)
    np.testing.assert_allclose(weighted.values, repeated.values, rtol=1e-9, atol=1e-9 * weighted.values.max())
    assert weighted.weight == w.sum() and weighted.mass == pytest.approx(w.sum(), rel=0.01)
    np.testing.assert_allclose(weighted.values, _naive(weighted, lon, lat, w), atol=0.01 * weighted.values.max())


def test_heavier_cluster_wins():
    lon = np.array([-13.70, -13.55])
    lat = np.array([9.55, 9.62])
    s = kde.density_surface(lon, lat, weights=[1.0, 3.0], bandwidth=500, extent=CONAKRY)
    i, j = np.unravel_index(np.argmax(s.values), s.shape)
    assert _lonlat_of_cell(s, i, j)[0] > -13.6
    s2 = kde.density_surface(lon, lat, weights=[3.0, 1.0], bandwidth=500, extent=CONAKRY)
    assert s2.values.max() == pytest.approx(s.values.max(), rel=0.02)


# --- empty input and validation -------------------------------------------------------------------


def test_empty_input_with_an_extent_gives_a_zero_surface():
    s = kde.density_surface([], [], bandwidth=500, extent=CONAKRY)
    assert s.values.size > 0 and not s.values.any() and s.mass == 0 and s.weight == 0
    np.testing.assert_array_equal(s.mass_levels([0.5, 0.9]), [0.0, 0.0])
    image = s.to_mercator_rgba(max_pixels=10_000)
    assert not image.rgba[..., 3].any()


def test_empty_input_without_an_extent_is_refused():
    with pytest.raises(ValueError, match="no points and no extent"):
        kde.density_surface([], [], bandwidth=500)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lon": [0.0, 1.0], "lat": [9.0]}, "length"),
    ({"lon": [np.nan], "lat": [9.0]}, "missing"),
    ({"lon": [-13.6], "lat": [95.0]}, "out of range"),
    ({"weights": [-1.0]}, "non-negative"),
    ({"weights": [1.0, 2.0]}, "weights has"),
    ({"bandwidth": 0.0}, "bandwidth"),
    ({"cell": -5.0}, "cell"),
    ({"kernel": "box"}, "kernel"),
    ({"extent": (-13.5, 9.4, -13.7, 9.6)}, "west < east"),
])
def test_bad_input_is_refused_clearly(kwargs, match):
    args = {"lon": [-13.6], "lat": [9.6], "bandwidth": 500.0} | kwargs
    with pytest.raises(ValueError, match=match):
        kde.density_surface(args.pop("lon"), args.pop("lat"), **args)


def test_large_grids_are_coarsened_and_keep_their_mass():
    lon, lat = _cloud(2000, sd=0.3)
    s = kde.density_surface(lon, lat, bandwidth=500, max_cells=40_000)
    radius = math.ceil(kde.GAUSS_TRUNCATE * 500 / s.cell)
    assert s.cell > 125 and s.cell == int(s.cell)
    assert (s.shape[0] + 2 * radius) * (s.shape[1] + 2 * radius) <= 40_000
    assert s.mass == pytest.approx(2000, rel=0.01)


def test_surface_is_read_only():
    s = kde.density_surface(*_cloud(10), bandwidth=500)
    with pytest.raises(ValueError):
        s.values[0, 0] = 1.0


# --- mass levels ----------------------------------------------------------------------------------


def test_mass_levels_enclose_the_asked_shares():
    s = kde.density_surface(*_cloud(3000, sd=0.01), bandwidth=300)
    fractions = (0.95, 0.9, 0.75, 0.5, 0.25)
    levels = s.mass_levels(fractions)
    assert np.all(np.diff(levels) > 0)
    for f, level in zip(fractions, levels, strict=True):
        assert s.values[s.values >= level].sum() / s.values.sum() == pytest.approx(f, abs=0.005)


def test_mass_levels_of_a_single_gaussian_match_the_closed_form():
    """For one isotropic Gaussian the contour holding a share f of the mass sits at density peak * (1 - f)."""
    s = kde.density_surface([-13.6], [9.6], bandwidth=1000, cell=50, extent=(-13.66, 9.54, -13.54, 9.66))
    peak = s.values.max()
    np.testing.assert_allclose(s.mass_levels([0.25, 0.5, 0.9]), peak * np.array([0.75, 0.5, 0.1]), rtol=0.02)
    assert peak == pytest.approx(1e6 / (2 * math.pi * 1000**2), rel=0.01)


def test_mass_levels_reject_bad_fractions():
    s = kde.density_surface(*_cloud(10), bandwidth=500)
    with pytest.raises(ValueError, match="fractions"):
        s.mass_levels([0.0, 0.5])


# --- Web-Mercator image ---------------------------------------------------------------------------


def test_mercator_image_shape_bounds_and_transparency():
    lon, lat = np.full(200, KALOUM[0]), np.full(200, KALOUM[1])
    s = kde.density_surface(lon, lat, bandwidth=400, extent=CONAKRY)
    image = s.to_mercator_rgba(max_pixels=40_000)
    h, w, four = image.rgba.shape
    assert four == 4 and image.rgba.dtype == np.uint8
    assert h * w <= 40_000 and h * w > 0.9 * 40_000
    (south, west), (north, east) = image.bounds
    assert (west, south, east, north) == pytest.approx(CONAKRY)
    merc = transformer(WGS84, WEB_MERCATOR)
    (mx0, mx1), (my0, my1) = merc.transform([west, east], [south, north])
    assert w / h == pytest.approx((mx1 - mx0) / (my1 - my0), rel=0.02)  # square pixels in Mercator
    alpha = image.rgba[..., 3]
    assert alpha[0, 0] == alpha[-1, -1] == alpha[0, -1] == alpha[-1, 0] == 0  # empty corners
    # The cluster's pixel is drawn in the darkest colour.
    cx, cy = merc.transform(*KALOUM)
    col = int((cx - mx0) / (mx1 - mx0) * w)
    row = int((my1 - cy) / (my1 - my0) * h)
    np.testing.assert_array_equal(image.rgba[row, col], [0xBD, 0x00, 0x26, 0xFF])
    assert 0.001 < (alpha > 0).mean() < 0.2


def test_mercator_image_classes_follow_the_levels():
    s = kde.density_surface([-13.6], [9.6], bandwidth=1000, extent=(-13.7, 9.5, -13.5, 9.7))
    peak = s.values.max()
    image = s.to_mercator_rgba(["#0000ff", "#ff000080"], [0.1 * peak, 0.5 * peak], max_pixels=20_000)
    colours = {tuple(c) for c in image.rgba.reshape(-1, 4)}
    assert colours == {(0, 0, 0, 0), (0, 0, 255, 255), (255, 0, 0, 128)}
    inner = (image.rgba[..., 0] == 255).sum()
    outer = (image.rgba[..., 2] == 255).sum()
    # Disc radii of the contours at 50 % and 10 % of the peak: sigma * sqrt(2 ln 2) and sigma * sqrt(2 ln 10).
    assert outer / inner == pytest.approx(math.log(10) / math.log(2) - 1, rel=0.1)
    assert image.levels == pytest.approx((0.1 * peak, 0.5 * peak))


def test_mercator_image_refuses_mismatched_levels_and_colours():
    s = kde.density_surface(*_cloud(10), bandwidth=500)
    with pytest.raises(ValueError, match="levels"):
        s.to_mercator_rgba(["#ff0000"], [1.0, 2.0])
    with pytest.raises(ValueError, match="colours"):
        s.to_mercator_rgba(["red"], [1.0])
    with pytest.raises(ValueError, match="default levels"):
        s.to_mercator_rgba(["#ff0000"])


@pytest.mark.parametrize(("box", "width", "epsg"), [((-15.0, 7.2, -7.7, 12.6), 1000, UTM_29N),
                                                    (CONAKRY, 500, UTM_28N)])
def test_control_grid_projection_matches_the_exact_transform(box, width, epsg):
    merc = transformer(WGS84, WEB_MERCATOR)
    (x0, x1), (y0, y1) = merc.transform([box[0], box[2]], [box[1], box[3]])
    px, py = np.linspace(x0, x1, width), np.linspace(y1, y0, 4 * width // 5)
    ux, uy = kde._project_grid(px, py, WEB_MERCATOR, epsg)
    ex, ey = transformer(WEB_MERCATOR, epsg).transform(*np.meshgrid(px, py))
    assert ux.shape == (4 * width // 5, width)
    assert max(np.abs(ux - ex).max(), np.abs(uy - ey).max()) < 0.002 * (px[1] - px[0])  # a fraction of a pixel
