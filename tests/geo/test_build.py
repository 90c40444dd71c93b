"""The vendored files are exactly what the build produces from the shared sources."""

from __future__ import annotations

from pathlib import Path

import pytest

import geopandas as gpd
from geopandas.testing import assert_geodataframe_equal

from geo import build as build_mod
from geo.boundaries import DATA_DIR

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "boundaries").exists(), reason="shared/ sources not beside the checkout")
def test_build_reproduces_vendored_files(tmp_path):
    report = build_mod.build(SHARED / "boundaries", SHARED / "population", tmp_path)
    assert (report.regions, report.prefectures, report.subprefectures) == (8, 34, 340)
    assert report.min_overlap_share > 0.99
    assert report.adm2_difference_km2 < 50
    for name in ("units.parquet", "display.parquet", "outline.parquet"):
        assert_geodataframe_equal(gpd.read_parquet(tmp_path / name), gpd.read_parquet(DATA_DIR / name),
                                  check_less_precise=True)


def test_checksum_mismatch_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  a.txt\n")
    with pytest.raises(ValueError, match="a.txt"):
        build_mod.verify_checksums(tmp_path)
