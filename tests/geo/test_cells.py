from __future__ import annotations

import numpy as np
import pytest

import h3

from geo import cells


def test_fast_and_plain_paths_agree_and_match_h3():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(-15, -7.6, 2000), rng.uniform(7.2, 12.7, 2000)
    lon[5] = np.nan
    fast = cells.points_to_cells(lon, lat, 8)
    plain = cells.points_to_cells(lon, lat, 8, fast=False)
    np.testing.assert_array_equal(fast, plain)
    assert fast[5] == 0
    assert cells.to_str(fast[:1])[0] == h3.latlng_to_cell(lat[0], lon[0], 8)


def test_db_round_trip_and_polygon():
    c = cells.points_to_cells([-13.7], [9.52], 9)
    assert (cells.from_db(cells.to_db(c)) == c).all()
    assert cells.to_db(c)[0] > 0
    ring = cells.boundary_lonlat(int(c[0]))
    lons, lats = zip(*ring, strict=True)
    assert -13.72 < np.mean(lons) < -13.68 and 9.50 < np.mean(lats) < 9.54


def test_bad_resolution():
    with pytest.raises(ValueError, match="resolution"):
        cells.points_to_cells([0.0], [0.0], 16)
