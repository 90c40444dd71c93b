"""Hot spot engine: Gi* against PySAL, planted clusters, FDR, weights, study areas, emerging hot spots."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

import h3
import pyproj
import shapely

from geo import cells
from geo.emerging import CATEGORIES, classify_emerging, emerging_hotspots, mann_kendall
from geo.hotspots import (
    GiStar,
    Weights,
    _distinct_draws,
    benjamini_hochberg,
    counts_on_cells,
    gi_star,
    study_area_cells,
)

CONAKRY = (-13.65, 9.60)  # (lon, lat), Kaloum/Dixinn
GEOD = pyproj.Geod(ellps="WGS84")


def hexagon(radius: int, res: int = 8, at: tuple[float, float] = CONAKRY) -> tuple[int, np.ndarray]:
    """A hexagonal patch of 3r(r+1)+1 cells around a point: (centre cell, sorted cells)."""
    centre = cells.points_to_cells([at[0]], [at[1]], res)
    _, disk = cells.grid_disks(centre, radius)
    return int(centre[0]), np.sort(disk)


def ring_distance_le(centre: int, radius: int) -> np.ndarray:
    _, disk = cells.grid_disks(np.array([centre], dtype=np.uint64), radius)
    return np.sort(disk)


def planted(area: np.ndarray, centre: int, rng: np.random.Generator, peak: float, sigma_m: float,
            base: float = 2.0) -> np.ndarray:
    """Poisson counts with a Gaussian bump of intensity around ``centre``."""
    lon, lat = cells.centers(area)
    clon, clat = cells.centers(np.array([centre], dtype=np.uint64))
    _, _, d = GEOD.inv(np.full(lon.size, clon[0]), np.full(lat.size, clat[0]), lon, lat)
    return rng.poisson(base + peak * np.exp(-0.5 * (d / sigma_m) ** 2)).astype(float)


def to_pysal(w: Weights):
    import libpysal

    return libpysal.weights.WSP(w.matrix.copy()).to_W(silence_warnings=True)


def esda_g_star(values: np.ndarray, w: Weights, **kw):
    import esda

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(values, to_pysal(w), star=True, transform="B", n_jobs=1, **kw)


@pytest.fixture(scope="module")
def conakry():
    """About 2,000 cells around Conakry at res 8 with k=1 weights."""
    centre, area = hexagon(25)
    return centre, area, Weights.from_kring(area, 1)


# --- agreement with PySAL ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2])
def test_gi_star_matches_esda(conakry, k):
    _, area, _ = conakry
    assert 1900 < area.size < 2100
    w = Weights.from_kring(area, k)
    values = np.random.default_rng(42).poisson(3.0, area.size).astype(float)
    ours = gi_star(values, w)
    ref = esda_g_star(values, w, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, atol=1e-6)
    np.testing.assert_allclose(ours.p, 2 * ref.p_norm, atol=1e-9)
    assert ours.p_sim is None and ours.bin.dtype == np.int8
    np.testing.assert_array_equal(ours.cells, area)


def test_permutation_p_agrees_with_esda(conakry):
    centre, area, w = conakry
    values = planted(area, centre, np.random.default_rng(5), peak=40, sigma_m=1500)
    ours = gi_star(values, w, permutations=99, seed=7)
    ref = esda_g_star(values, w, permutations=99, seed=7)
    floor = 1 / 100
    core = np.isin(area, ring_distance_le(centre, 2))
    assert (ours.p_sim[core] == floor).all() and (ref.p_sim[core] == floor).all()
    # continuous values (no ties): same definition, so only sampling noise separates the two
    smooth = values + np.random.default_rng(6).normal(0, 0.5, area.size)
    ours = gi_star(smooth, w, permutations=99, seed=1)
    ref = esda_g_star(smooth, w, permutations=99, seed=1)
    assert np.corrcoef(ours.p_sim, ref.p_sim)[0, 1] > 0.9
    assert abs(ours.p_sim.mean() - ref.p_sim.mean()) < 0.02
    assert ((ours.p_sim >= floor) & (ours.p_sim <= 1)).all()


def test_permutations_reproducible_and_tie_aware(conakry):
    _, area, w = conakry
    values = np.random.default_rng(3).poisson(0.05, area.size).astype(float)  # mostly zeros
    a = gi_star(values, w, permutations=49, seed=11)
    b = gi_star(values, w, permutations=49, seed=11)
    c = gi_star(values, w, permutations=49, seed=12)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    assert not np.array_equal(a.p_sim, c.p_sim)
    # an all-zero neighbourhood is not evidence of a cold spot: ties count on both sides
    # (esda's code folds the tie count and would put these cells at the floor 1/50)
    zero_hood = np.asarray(w.matrix @ values) == 0
    assert zero_hood.any() and (a.p_sim[zero_hood] > 0.5).all()


def test_distinct_draws_are_uniform_subsets():
    rng = np.random.default_rng(0)
    for c, pool in [(2, 5), (3, 7), (4, 6), (20, 50)]:
        draws = _distinct_draws(rng, 20000, c, pool)
        assert draws.shape == (c, 20000)
        ordered = np.sort(draws, axis=0)
        assert (np.diff(ordered, axis=0) > 0).all()  # distinct within each draw
        freq = np.bincount(draws.ravel(), minlength=pool) / draws.size
        np.testing.assert_allclose(freq, 1 / pool, rtol=0.05)
    pairs = _distinct_draws(rng, 30000, 2, 4)
    key = np.sort(pairs, axis=0)
    counts = np.unique(key[0] * 4 + key[1], return_counts=True)[1]
    assert counts.size == 6 and counts.min() > 0.9 * 5000


# --- planted clusters and false positives -----------------------------------------------------------


def test_planted_cluster_found():
    centre, area = hexagon(31)
    assert 2900 < area.size < 3100
    w = Weights.from_kring(area, 1)
    values = planted(area, centre, np.random.default_rng(1), peak=25, sigma_m=1500)
    result = gi_star(values, w)
    core = np.isin(area, ring_distance_le(centre, 1))
    assert (result.bin[core] == 3).all()
    assert (result.z[core] > 5).all()
    far = ~np.isin(area, ring_distance_le(centre, 12))
    assert (result.bin[far] >= 0).mean() > 0.9  # the bump raises the mean: far cells lean cold, rarely hot


def test_noise_gives_nominal_false_positives_and_fdr_removes_them():
    _, area = hexagon(60, at=(-10.0, 10.5))
    w = Weights.from_kring(area, 1)
    plain, corrected = [], []
    for seed in range(3):
        values = np.random.default_rng(seed).poisson(20.0, area.size).astype(float)
        plain.append((np.abs(gi_star(values, w).bin) >= 2).mean())
        corrected.append((np.abs(gi_star(values, w, fdr=True).bin) >= 2).mean())
    assert 0.03 < np.mean(plain) < 0.08
    assert np.mean(corrected) < 0.01


def test_fdr_changes_bins_only(conakry):
    centre, area, w = conakry
    values = planted(area, centre, np.random.default_rng(2), peak=8, sigma_m=2500)
    plain = gi_star(values, w)
    fdr = gi_star(values, w, fdr=True)
    assert fdr.fdr and not plain.fdr
    np.testing.assert_array_equal(plain.z, fdr.z)
    np.testing.assert_array_equal(plain.p, fdr.p)
    assert (np.abs(fdr.bin) <= np.abs(plain.bin)).all()
    assert (np.sign(fdr.bin) * np.sign(plain.bin) >= 0).all()
    assert (np.abs(fdr.bin) < np.abs(plain.bin)).any()
    for alpha, level in [(0.10, 1), (0.05, 2), (0.01, 3)]:
        np.testing.assert_array_equal(np.abs(fdr.bin) >= level, benjamini_hochberg(plain.p, alpha))
        np.testing.assert_array_equal(np.abs(plain.bin) >= level, plain.p < alpha)
    frame = fdr.to_frame()
    assert list(frame.columns) == ["cell", "value", "z", "p", "bin"] and len(frame) == area.size


def test_benjamini_hochberg_hand_examples():
    # Benjamini & Hochberg (1995), section 4: 15 p-values, q = 0.05 -> the 4 smallest
    p = np.array([0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
                  0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000])
    order = np.random.default_rng(0).permutation(p.size)
    found = benjamini_hochberg(p[order], 0.05)
    np.testing.assert_array_equal(found, p[order] <= 0.0095)
    # step-up: p(1) fails its own threshold (0.0167) but p(3) <= 0.05 rescues all three
    np.testing.assert_array_equal(benjamini_hochberg([0.035, 0.02, 0.03], 0.05), [True, True, True])
    np.testing.assert_array_equal(benjamini_hochberg([0.02, 0.9], 0.05), [True, False])
    np.testing.assert_array_equal(benjamini_hochberg([0.5, 0.9], 0.05), [False, False])
    assert benjamini_hochberg(np.array([]), 0.05).shape == (0,)


# --- weights ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "full"), [(1, 7), (2, 19)])
def test_kring_weights_structure(k, full):
    centre, area = hexagon(10)
    w = Weights.from_kring(area, k)
    m = w.matrix
    assert m.shape == (area.size, area.size)
    assert (m != m.T).nnz == 0
    assert (m.diagonal() == 1).all() and set(np.unique(m.data)) == {1.0}
    rows = np.asarray(m.sum(axis=1)).ravel()
    interior = np.isin(area, ring_distance_le(centre, 10 - k))
    assert (rows[interior] == full).all()
    assert (rows[~interior] < full).all() and rows.min() >= 1
    # a row is exactly the cell's disk intersected with the study area
    i = int(np.flatnonzero(~interior)[0])
    _, disk = cells.grid_disks(area[i:i + 1], k)
    assert set(area[m[i].indices]) == set(disk) & set(area)


def test_kring_weights_keep_input_order(conakry):
    _, area, w = conakry
    shuffled = area[np.random.default_rng(0).permutation(area.size)]
    ws = Weights.from_kring(shuffled, 1)
    np.testing.assert_array_equal(ws.cells, shuffled)
    back = np.argsort(shuffled)
    assert (ws.matrix[back][:, back] != w.matrix).nnz == 0


def test_distance_band_matches_first_ring():
    centre, area = hexagon(8)
    w1 = Weights.from_kring(area, 1)
    lon, lat = cells.centers(area)
    r, c = w1.matrix.nonzero()
    off = r != c
    _, _, d = GEOD.inv(lon[r[off]], lat[r[off]], lon[c[off]], lat[c[off]])
    spacing = d.mean()
    assert 750 < spacing < 950  # res 8 centre-to-centre distance around Conakry
    wd = Weights.from_distance(area, 1.1 * spacing)
    assert (wd.matrix != wd.matrix.T).nnz == 0 and (wd.matrix.diagonal() == 1).all()
    interior = np.isin(area, ring_distance_le(centre, 7))
    sub = np.flatnonzero(interior)
    assert (wd.matrix[sub] != w1.matrix[sub]).nnz == 0
    wide = Weights.from_distance(area, 2.1 * spacing)  # beyond the second ring's nearest centres
    assert (np.diff(wide.matrix.indptr)[np.isin(area, ring_distance_le(centre, 5))] == 19).all()


def test_weights_reject_bad_matrices(conakry):
    _, area, w = conakry
    with pytest.raises(ValueError, match="binary"):
        Weights(area, w.matrix * 2)
    no_diag = w.matrix.copy()
    no_diag.setdiag(0)
    with pytest.raises(ValueError, match="diagonal"):
        Weights(area, no_diag)
    with pytest.raises(ValueError, match="match cells"):
        Weights(area[:-1], w.matrix)


# --- study area and counts ----------------------------------------------------------------------


def test_study_area_cells_inside_and_area():
    lon0, lat0 = CONAKRY
    polygon = shapely.Polygon([(lon0 - 0.05, lat0 - 0.04), (lon0 + 0.06, lat0 - 0.05),
                               (lon0 + 0.04, lat0 + 0.05), (lon0 - 0.05, lat0 + 0.03)])
    got = study_area_cells(polygon, 9)
    assert got.dtype == np.uint64 and (got[1:] > got[:-1]).all()
    lon, lat = cells.centers(got)
    assert shapely.contains_xy(polygon, lon, lat).all()
    area_m2 = abs(GEOD.geometry_area_perimeter(polygon)[0])
    cell_m2 = np.mean([h3.cell_area(h3.int_to_str(int(c)), unit="m^2") for c in got[::25]])
    assert abs(got.size - area_m2 / cell_m2) < 0.03 * got.size
    # same answer from a list with a duplicate polygon
    np.testing.assert_array_equal(study_area_cells([polygon, polygon], 9), got)
    lake = shapely.Point(lon0, lat0).buffer(0.02)
    dry = study_area_cells(polygon, 9, exclude=[lake])
    wet = shapely.contains_xy(lake, lon, lat)
    assert wet.sum() > 100
    np.testing.assert_array_equal(dry, got[~wet])


def test_study_area_empty_and_invalid():
    assert study_area_cells(shapely.Polygon(), 8).shape == (0,)
    assert study_area_cells([], 8).dtype == np.uint64
    with pytest.raises(ValueError, match="res"):
        study_area_cells(shapely.box(0, 0, 1, 1), 16)
    with pytest.raises(ValueError, match="polygons"):
        study_area_cells(shapely.Point(0, 0), 8)
    with pytest.raises(ValueError, match="exclude"):
        study_area_cells(shapely.box(0, 0, 1, 1), 8, exclude=shapely.LineString([(0, 0), (1, 1)]))


def test_counts_on_cells(conakry):
    _, area, _ = conakry
    rng = np.random.default_rng(4)
    picked = rng.choice(area, 500)
    outside = cells.points_to_cells([-9.0, -9.1], [10.0, 10.1], 8)
    events = np.concatenate([picked, outside, np.zeros(3, dtype=np.uint64)])
    counts = counts_on_cells(area, events)
    assert counts.dtype == np.int64 and counts.shape == area.shape
    assert counts.sum() == 500 and (counts == 0).sum() > 0
    expected = pd.Series(picked).value_counts()
    np.testing.assert_array_equal(counts[np.searchsorted(area, expected.index.to_numpy())], expected.to_numpy())
    shuffled = area[::-1].copy()
    np.testing.assert_array_equal(counts_on_cells(shuffled, events), counts[::-1])
    sums = counts_on_cells(area, events, weights=np.full(events.size, 0.5))
    assert sums.dtype == np.float64
    np.testing.assert_allclose(sums, counts * 0.5)
    # database form (signed int64) is accepted too
    np.testing.assert_array_equal(counts_on_cells(area, cells.to_db(events)), counts)
    assert counts_on_cells(np.array([], dtype=np.uint64), events).shape == (0,)


# --- validation and empty input -------------------------------------------------------------------


def test_input_validation(conakry):
    _, area, w = conakry
    good = np.ones(area.size)
    with pytest.raises(ValueError, match="values"):
        gi_star(good[:-1], w)
    bad = good.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="values"):
        gi_star(bad, w)
    with pytest.raises(ValueError, match="weights"):
        gi_star(good, w.matrix)
    with pytest.raises(ValueError, match="permutations"):
        gi_star(good, w, permutations=-1)
    with pytest.raises(ValueError, match="seed"):
        gi_star(good, w, permutations=9, seed=1.5)
    with pytest.raises(ValueError, match="k"):
        Weights.from_kring(area, 0)
    with pytest.raises(ValueError, match="cells"):
        Weights.from_kring(np.r_[area, area[:1]], 1)
    with pytest.raises(ValueError, match="cells"):
        Weights.from_kring(np.r_[area, np.uint64(0)], 1)
    with pytest.raises(ValueError, match="band_m"):
        Weights.from_distance(area, 0)
    with pytest.raises(ValueError, match="alpha"):
        benjamini_hochberg([0.1], 1.5)
    with pytest.raises(ValueError, match="p"):
        benjamini_hochberg([0.1, np.nan], 0.05)
    with pytest.raises(ValueError, match="weights"):
        counts_on_cells(area, area[:5], weights=np.ones(4))
    with pytest.raises(ValueError, match="study_cells"):
        counts_on_cells(np.r_[area, area[:1]], area[:5])
    with pytest.raises(ValueError, match="series"):
        mann_kendall(np.arange(5.0))
    with pytest.raises(ValueError, match="values"):
        emerging_hotspots(np.ones((area.size, 1)), w)
    with pytest.raises(ValueError, match="alpha"):
        emerging_hotspots(np.ones((area.size, 12)), w, alpha=0)


def test_empty_study_area_gives_empty_results():
    empty = np.zeros(0, dtype=np.uint64)
    w = Weights.from_kring(empty, 1)
    assert w.n == 0 and w.matrix.shape == (0, 0)
    assert Weights.from_distance(empty, 500).n == 0
    res = gi_star(np.zeros(0), w, fdr=True, permutations=9, seed=0)
    assert isinstance(res, GiStar)
    for arr in (res.cells, res.z, res.p, res.bin, res.p_sim):
        assert arr.shape == (0,)
    frame = emerging_hotspots(np.zeros((0, 12)), w)
    assert frame.empty and list(frame.columns) == ["cell", "category", "trend_z", "trend_p",
                                                   "n_hot", "n_cold", "final_bin"]


def test_degenerate_values_give_no_hot_spots(conakry):
    _, area, w = conakry
    res = gi_star(np.full(area.size, 4.0), w, permutations=9, seed=0)
    assert (res.z == 0).all() and (res.p == 1).all() and (res.bin == 0).all()
    one = Weights.from_kring(area[:1], 1)
    assert gi_star(np.array([5.0]), one).p[0] == 1.0


# --- Mann-Kendall and emerging hot spots --------------------------------------------------------


def _mk_bruteforce(x: np.ndarray) -> tuple[float, float]:
    n = len(x)
    s = sum(np.sign(x[j] - x[i]) for i in range(n) for j in range(i + 1, n))
    _, t = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18
    z = 0.0 if var == 0 or s == 0 else (s - np.sign(s)) / np.sqrt(var)
    return z, 2 * ndtr(-abs(z))


def test_mann_kendall_hand_examples():
    up = np.arange(12.0)
    z, p = mann_kendall(np.vstack([up, up[::-1], np.full(12, 3.0), [1, 2, 2, 3] + [3] * 8]))
    # strictly increasing: S = 66, var = 12*11*29/18, z = 65 / sqrt(var)
    assert z[0] == pytest.approx(65 / np.sqrt(12 * 11 * 29 / 18)) and p[0] < 0.001
    assert z[1] == pytest.approx(-z[0]) and p[1] == pytest.approx(p[0])
    assert z[2] == 0 and p[2] == 1
    # x = [1, 2, 2, 3]: S = 5, one tie of 2: var = (4*3*13 - 2*1*9)/18, z = 4/sqrt(var)
    z4, p4 = mann_kendall(np.array([[1.0, 2, 2, 3]]))
    assert z4[0] == pytest.approx(4 / np.sqrt((156 - 18) / 18))
    assert p4[0] == pytest.approx(0.1486, abs=1e-4)
    rng = np.random.default_rng(0)
    series = rng.integers(0, 4, size=(50, 12)).astype(float)  # many ties
    z, p = mann_kendall(series)
    ref = np.array([_mk_bruteforce(row) for row in series])
    np.testing.assert_allclose(z, ref[:, 0], atol=1e-12)
    np.testing.assert_allclose(p, ref[:, 1], atol=1e-12)


HOT, NONE, COLD = 3.0, 0.0, -3.0
SERIES = {
    "new hot spot": [NONE] * 11 + [HOT],
    "consecutive hot spot": [NONE] * 9 + [HOT] * 3,
    "intensifying hot spot": list(np.linspace(2.5, 8, 12)),
    "persistent hot spot": [3.0, 4.0] * 6,
    "diminishing hot spot": list(np.linspace(8, 2.5, 12)),
    "sporadic hot spot": [HOT, NONE, HOT, NONE, NONE, HOT, NONE, NONE, HOT, NONE, NONE, HOT],
    "oscillating hot spot": [COLD, COLD, NONE, NONE, HOT, NONE, NONE, NONE, NONE, NONE, HOT, HOT],
    "historical hot spot": [HOT] * 11 + [NONE],
    "no pattern": [NONE] * 12,
}


def test_emerging_categories_from_z_series():
    names = list(SERIES)
    hot_z = np.array([SERIES[n] for n in names])
    z = np.vstack([hot_z, -hot_z[:-1]])
    expected = names + [n.replace("hot", "cold") for n in names[:-1]]
    p = 2 * ndtr(-np.abs(z))
    out = classify_emerging(z, p, alpha=0.05)
    assert list(out["category"].astype(str)) == expected
    assert list(out["category"].cat.categories) == list(CATEGORIES)
    row = out.set_index(out["category"].astype(str))
    assert row.at["new hot spot", "n_hot"] == 1 and row.at["new hot spot", "final_bin"] == 3
    assert row.at["historical hot spot", "n_hot"] == 11 and row.at["historical hot spot", "final_bin"] == 0
    assert row.at["oscillating hot spot", "n_cold"] == 2 and row.at["new cold spot", "final_bin"] == -3
    assert row.at["intensifying hot spot", "trend_z"] > 0 and row.at["intensifying hot spot", "trend_p"] < 0.05
    assert row.at["persistent hot spot", "trend_p"] > 0.05


def test_emerging_edge_rules():
    # hot in 11 of 12 including the last: >= 90 % wins over "consecutive" and "oscillating"
    z = np.array([[NONE] + [HOT] * 11, [HOT] * 5 + [COLD] + [HOT] * 6, [COLD, NONE] + [HOT] * 10,
                  [HOT] * 10 + [NONE, COLD]])
    out = classify_emerging(z, 2 * ndtr(-np.abs(z)))
    assert list(out["category"].astype(str)) == [
        "persistent hot spot", "persistent hot spot", "oscillating hot spot", "oscillating cold spot"]
    # a weak final hot spot disappears with FDR when the other cells are null
    z = np.vstack([[NONE] * 11 + [2.1], np.zeros((200, 12))])
    p = 2 * ndtr(-np.abs(z))
    assert classify_emerging(z, p).at[0, "category"] == "new hot spot"
    assert classify_emerging(z, p, fdr=True).at[0, "category"] == "no pattern"


def test_emerging_hotspots_end_to_end(conakry):
    centre, area, w = conakry
    rng = np.random.default_rng(8)
    months = 12
    values = rng.poisson(3.0, (area.size, months)).astype(float)
    far_centre = int(cells.points_to_cells([CONAKRY[0] + 0.08], [CONAKRY[1]], 8)[0])
    values[np.isin(area, ring_distance_le(centre, 1)), :] += 25
    values[np.isin(area, ring_distance_le(far_centre, 1)), -1] += 25
    out = emerging_hotspots(values, w, fdr=True)
    assert len(out) == area.size and (out["cell"].to_numpy() == area).all()
    cat = out.set_index("cell")["category"].astype(str)
    assert cat[centre] in {"persistent hot spot", "intensifying hot spot", "diminishing hot spot"}
    assert cat[far_centre] == "new hot spot"
    assert out.loc[out["cell"] == centre, "n_hot"].item() == 12
    assert (out["category"] == "no pattern").mean() > 0.9


def test_cells_helpers_fast_and_plain_paths_agree():
    _, area = hexagon(3)
    for k in (1, 2):
        fast, plain = cells.grid_disks(area, k), cells.grid_disks(area, k, fast=False)
        np.testing.assert_array_equal(fast[0], plain[0])
        for i in range(area.size):
            a, b = fast[1][fast[0][i]:fast[0][i + 1]], plain[1][plain[0][i]:plain[0][i + 1]]
            assert set(a) == set(b) and area[i] in set(a)
    np.testing.assert_allclose(np.vstack(cells.centers(area, fast=False)), np.vstack(cells.centers(area)))
    box = shapely.box(-13.70, 9.55, -13.66, 9.58)
    np.testing.assert_array_equal(cells.polygon_to_cells(box, 9), cells.polygon_to_cells(box, 9, fast=False))
    assert cells.resolution_of(area) == 8 and cells.resolution_of(np.zeros(0, dtype=np.uint64)) == -1
    with pytest.raises(ValueError, match="same H3 resolution"):
        cells.resolution_of(np.r_[area[:1], cells.points_to_cells([-13.7], [9.5], 9)])
