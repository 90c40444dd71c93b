"""Black-spot engine: severity weights, cells, road segments, snapping, ranking, trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import h3
import shapely
from shapely.ops import substring

from geo.blackspots import (
    SeverityWeights,
    line_lengths_m,
    on_cells,
    on_segments,
    places,
    rank,
    split_lines,
    split_roads,
    trends,
)
from geo.crs import transformer
from geo.emerging import mann_kendall
from geo.hotspots import Weights, gi_star

UTM28 = 32628
# A metric origin near Coyah (UTM 28N); roads and crashes below are laid out in metres from it.
X0, Y0 = 680_000.0, 1_073_000.0


def _lonlat(x, y):
    lon, lat = transformer(UTM28, 4326).transform(np.asarray(x, float) + X0, np.asarray(y, float) + Y0)
    return np.asarray(lon), np.asarray(lat)


def _road(*xy: tuple[float, float]) -> shapely.LineString:
    lon, lat = _lonlat([p[0] for p in xy], [p[1] for p in xy])
    return shapely.LineString(np.column_stack([lon, lat]))


def _crashes(xy, severity=None, **extra) -> pd.DataFrame:
    xy = np.asarray(xy, float).reshape(-1, 2)
    lon, lat = _lonlat(xy[:, 0], xy[:, 1])
    n = len(xy)
    frame = pd.DataFrame({"lon": lon, "lat": lat, "severity": severity or ["slight"] * n,
                          "occurred_at": pd.Timestamp("2026-03-01", tz="UTC")})
    for name, values in extra.items():
        frame[name] = values
    return frame


# --- weights ---------------------------------------------------------------------------------------


def test_default_weights_and_parsing():
    assert SeverityWeights() == SeverityWeights(10, 5, 1)
    assert SeverityWeights.parse("fatal=10,serious=5,slight=1") == SeverityWeights()
    assert SeverityWeights.parse("fatal=12") == SeverityWeights(12, 5, 1)
    assert SeverityWeights.parse(" mortel = 3 ; grave:2, Léger=0.5 ") == SeverityWeights(3, 2, 0.5)
    assert str(SeverityWeights(12, 4.5, 1)) == "fatal=12,serious=4.5,slight=1"
    assert SeverityWeights.parse(str(SeverityWeights(12, 4.5, 1))) == SeverityWeights(12, 4.5, 1)
    np.testing.assert_array_equal(SeverityWeights(7, 3, 1).of(["slight", "fatal", "serious"]), [1, 7, 3])


@pytest.mark.parametrize("text, message", [
    ("fatal=abc", "not a number"), ("fatal 10", "severity=number"), ("deadly=3", "unknown severity"),
    ("fatal=-1", ">= 0"),
    ("fatal=0,serious=0,slight=0", "positive"), ("fatal=1,mortel=2", "twice"), ("", "no weight"),
    ("fatal=nan", "finite"),
])
def test_bad_weights_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        SeverityWeights.parse(text)


def test_unknown_severity_is_named():
    with pytest.raises(ValueError, match="deadly"):
        SeverityWeights().of(["fatal", "deadly"])


# --- cells -----------------------------------------------------------------------------------------


def test_cells_epdo_known_answer():
    a, b = (0.0, 0.0), (3_000.0, 0.0)  # 3 km apart: different resolution-8 cells
    crashes = _crashes([a, a, a, a, a, a, b, (np.nan, np.nan)],
                       ["fatal", "fatal", "serious", "slight", "slight", "slight", "slight", "fatal"],
                       killed=[1, 2, 0, 0, 0, 0, 0, 1], injured=[0, 1, 3, 1, 1, pd.NA, 2, 0],
                       road_name=["RN1", "RN1", "RN1", None, "RN3", "RN3", "RN1", "RN1"])
    crashes.loc[7, ["lon", "lat"]] = np.nan
    spots = on_cells(crashes, 8)
    table = spots.table.set_index("spot")
    cell_a = h3.latlng_to_cell(crashes["lat"][0], crashes["lon"][0], 8)
    cell_b = h3.latlng_to_cell(crashes["lat"][6], crashes["lon"][6], 8)
    assert set(table.index) == {cell_a, cell_b}
    row = table.loc[cell_a]
    assert (row["crashes"], row["fatal"], row["serious"], row["slight"]) == (6, 2, 1, 3)
    assert (row["killed"], row["injured"]) == (3, 6)  # a missing count is 0
    assert row["epdo"] == 2 * 10 + 5 + 3  # default weights
    assert row["road"] == "RN1"  # RN1 three times, RN3 twice
    assert table.loc[cell_b, "epdo"] == 1.0
    assert spots.unassigned == {"no_coordinates": 1}
    assert spots.assignment[7] == -1 and spots.n_assigned == 7
    custom = on_cells(crashes, 8, SeverityWeights(fatal=100, serious=10, slight=1)).table.set_index("spot")
    assert custom.loc[cell_a, "epdo"] == 213.0
    # geometry is the cell's hexagon, centre inside it
    poly = spots.geometry[list(spots.table["spot"]).index(cell_a)]
    assert poly.geom_type == "Polygon" and poly.contains(shapely.Point(row["lon"], row["lat"]))


def test_cells_match_a_naive_groupby():
    rng = np.random.default_rng(5)
    n = 400
    crashes = _crashes(rng.normal(0, 1500, size=(n, 2)), list(rng.choice(["fatal", "serious", "slight"], n)),
                       killed=rng.integers(0, 3, n), injured=rng.integers(0, 4, n))
    weights = SeverityWeights(9, 3, 1)
    got = on_cells(crashes, 9, weights).table.set_index("spot").sort_index()
    cells = [h3.latlng_to_cell(la, lo, 9) for lo, la in zip(crashes["lon"], crashes["lat"], strict=True)]
    score = crashes["severity"].map({"fatal": 9.0, "serious": 3.0, "slight": 1.0})
    naive = (crashes.assign(cell=cells, score=score).groupby("cell")
             .agg(crashes=("severity", "size"), killed=("killed", "sum"), injured=("injured", "sum"),
                  epdo=("score", "sum")).sort_index())
    assert list(got.index) == list(naive.index)
    for col in ("crashes", "killed", "injured", "epdo"):
        np.testing.assert_allclose(got[col].to_numpy(float), naive[col].to_numpy(float), err_msg=col)


def test_cells_gi_star_on_the_epdo_score():
    rng = np.random.default_rng(1)
    xy = np.vstack([rng.normal(0, 300, size=(60, 2)), rng.uniform(-6000, 6000, size=(60, 2))])
    crashes = _crashes(xy, list(rng.choice(["fatal", "serious", "slight"], len(xy))))
    spots = on_cells(crashes, 8, k=1, fdr=True)
    table = spots.table
    # reference: the study area built by hand from h3's grid_disk, then Gi* of the EPDO sums
    study = sorted({h3.str_to_int(c) for s in table["spot"] for c in h3.grid_disk(s, 1)})
    study = np.array(study, dtype=np.uint64)
    values = np.zeros(len(study))
    pos = np.searchsorted(study, table["cell"].to_numpy(np.uint64))
    values[pos] = table["epdo"].to_numpy()
    ref = gi_star(values, Weights.from_kring(study, 1), fdr=True)
    np.testing.assert_allclose(table["gi_z"], ref.z[pos], rtol=1e-12)
    np.testing.assert_array_equal(table["gi_bin"], ref.bin[pos])
    top = table.sort_values("epdo", ascending=False).iloc[0]
    assert top["gi_bin"] == 3 and np.hypot(*(np.array(_lonlat(0, 0)).ravel() - [top["lon"], top["lat"]])) < 0.01


# --- segments ----------------------------------------------------------------------------------------


def test_split_lines_matches_substring_and_sums_to_the_length():
    rng = np.random.default_rng(3)
    lines = [shapely.LineString(np.cumsum(rng.normal(0, 300, size=(rng.integers(2, 30), 2)), axis=0))
             for _ in range(25)]
    lines += [shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(0, 0), (120, 0)]),
              shapely.LineString([(0, 0), (0, 0)]), shapely.LineString([(0, 0), (500, 0), (500, 0), (500, 700)])]
    arr = np.array(lines, dtype=object)
    for seg_m in (100.0, 250.0, 500.0, 1000.0):
        parts = split_lines(arr, seg_m)
        total = parts.groupby("line")["to_m"].max()
        lengths = shapely.length(arr)
        np.testing.assert_allclose(total.to_numpy(), lengths[total.index], rtol=1e-12)
        sums = (parts["to_m"] - parts["from_m"]).groupby(parts["line"]).sum()
        np.testing.assert_allclose(sums.to_numpy(), lengths[sums.index], rtol=1e-12)
        assert 27 not in set(parts["line"]), "zero-length lines give no segment"
        n = parts.groupby("line").size()
        np.testing.assert_array_equal(n.to_numpy(), np.maximum(1, np.ceil(lengths[n.index] / seg_m - 1e-9)))
        np.testing.assert_allclose(shapely.length(parts["geometry"].to_numpy()), parts["to_m"] - parts["from_m"],
                                   rtol=1e-9, atol=1e-9)
        assert ((parts["to_m"] - parts["from_m"]) <= seg_m + 1e-9).all()
        for row in parts.sample(40, random_state=0).itertuples():
            naive = substring(arr[row.line], row.from_m, row.to_m)
            assert naive.equals_exact(row.geometry, 1e-6), (seg_m, row.line, row.segment)


def test_split_lines_keeps_the_vertices_and_cuts_exactly():
    parts = split_lines(np.array([shapely.LineString([(0, 0), (300, 0), (300, 400)])], dtype=object), 250)
    assert [round(x, 6) for x in parts["to_m"]] == [233.333333, 466.666667, 700.0]
    assert parts["geometry"][1].equals_exact(
        shapely.LineString([(700 / 3, 0), (300, 0), (300, 500 / 3)]), 1e-9)
    with pytest.raises(ValueError, match="segment_m"):
        split_lines(np.array([], dtype=object), 0)


def test_split_roads_on_lon_lat_sums_to_the_road_length():
    road = _road((0, 0), (4_000, 1_000), (9_000, -2_000))
    multi = shapely.MultiLineString([list(_road((0, 5_000), (1_200, 5_000)).coords),
                                     list(_road((2_000, 5_000), (2_100, 5_000)).coords)])
    roads = gpd.GeoDataFrame({"id": [7, 9], "name": ["RN1", None], "ref": [None, "RN3"]},
                             geometry=[road, multi], crs=4326)
    segments = split_roads(roads, 500)
    assert segments.attrs["epsg"] == UTM28
    by_road = segments.groupby("road_id")["length_m"].sum()
    assert by_road[7] == pytest.approx(line_lengths_m([road], UTM28)[0], rel=1e-9)
    assert by_road[9] == pytest.approx(line_lengths_m([multi], UTM28)[0], rel=1e-9)
    assert by_road[7] == pytest.approx(np.hypot(4000, 1000) + np.hypot(5000, 3000), rel=1e-4)
    assert segments["segment_id"].is_unique
    assert segments.loc[segments["road_id"] == 9, "segment_id"].tolist() == ["9:0", "9:1", "9:2", "9.1:0"]
    assert set(segments.loc[segments["road_id"] == 9, "road"]) == {"RN3"}  # no name: the ref
    assert (segments.geometry.geom_type == "LineString").all() and segments.crs.equals("EPSG:4326")


def test_snapping_tolerance_edges_and_unsnapped_crashes():
    roads = gpd.GeoDataFrame({"id": [1, 2], "name": ["A", "B"]},
                             geometry=[_road((0, 0), (2_000, 0)), _road((0, 80), (2_000, 80))], crs=4326)
    xy = [(500, 0), (500, -49.9), (500, -50.1), (500, 30), (1_500, 60), (500, -400), (np.nan, np.nan),
          (2_049.9, 0), (2_050.1, 0)]
    crashes = _crashes(xy, ["fatal", "slight", "slight", "serious", "slight", "slight", "slight", "slight", "slight"])
    spots = on_segments(crashes, roads, segment_m=1_000, tolerance_m=50)
    table = spots.table
    snapped = table["spot"].to_numpy()[spots.assignment]
    got = dict(zip(range(len(xy)), np.where(spots.assignment >= 0, snapped, None), strict=True))
    assert got == {0: "1:0", 1: "1:0", 2: None, 3: "1:0", 4: "2:1", 5: None, 6: None, 7: "1:1", 8: None}
    assert spots.unassigned == {"no_coordinates": 1, "beyond_tolerance": 3}
    assert spots.n_assigned + sum(spots.unassigned.values()) == len(crashes)
    assert table["crashes"].sum() == spots.n_assigned
    row = table.set_index("spot").loc["1:0"]
    assert (row["fatal"], row["serious"], row["slight"], row["epdo"]) == (1, 1, 1, 16.0)
    assert row["length_m"] == pytest.approx(1_000, rel=1e-3)
    assert row["crashes_per_km"] == pytest.approx(3.0, rel=1e-3)
    assert row["mean_offset_m"] == pytest.approx((0 + 49.9 + 30) / 3, abs=0.05)
    assert row["lon"] == pytest.approx(_lonlat(500, 0)[0][()], abs=1e-6)
    wider = on_segments(crashes, roads, segment_m=1_000, tolerance_m=500)
    assert wider.unassigned == {"no_coordinates": 1, "beyond_tolerance": 0}
    with pytest.raises(ValueError, match="tolerance_m"):
        on_segments(crashes, roads, segment_m=1_000, tolerance_m=0)


def test_segment_input_errors():
    crashes = _crashes([(0, 0)])
    with pytest.raises(ValueError, match="LineString"):
        on_segments(crashes, gpd.GeoDataFrame(geometry=[shapely.Point(-13, 9)], crs=4326))
    with pytest.raises(ValueError, match="tolerance_m"):
        on_segments(crashes, gpd.GeoDataFrame(geometry=[_road((0, 0), (10, 0))], crs=4326), tolerance_m=-1)
    with pytest.raises(ValueError, match="segment_m"):
        on_segments(crashes, gpd.GeoDataFrame(geometry=[_road((0, 0), (10, 0))], crs=4326), segment_m=0)
    with pytest.raises(ValueError, match="lon, lat"):
        on_cells(pd.DataFrame({"severity": ["fatal"]}))


# --- ranking and trends --------------------------------------------------------------------------------


def _monthly(counts_by_spot: dict[tuple[float, float], list[int]], year: int = 2025) -> pd.DataFrame:
    rows = []
    for xy, counts in counts_by_spot.items():
        for month, count in enumerate(counts, start=1):
            rows += [(xy, pd.Timestamp(year, month, 10, tzinfo=None).tz_localize("UTC"))] * count
    frame = _crashes([r[0] for r in rows])
    frame["occurred_at"] = [r[1] for r in rows]
    return frame


def test_trend_labels_on_synthetic_series():
    up, down, flat = (0.0, 0.0), (5_000.0, 0.0), (10_000.0, 0.0)
    series = {up: [0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 7], down: [7, 6, 6, 5, 4, 4, 3, 2, 2, 1, 1, 0],
              flat: [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3]}
    crashes = _monthly(series)
    spots = on_cells(crashes, 8)
    got = trends(spots, crashes, start=pd.Timestamp("2025-01-01"), end=pd.Timestamp("2026-01-01"))
    assert (got["periods"] == 12).all()
    lon = spots.table["lon"].to_numpy()
    order = np.argsort(lon)  # up, down, flat from west to east
    assert got["trend"].to_numpy()[order].tolist() == ["increasing", "decreasing", "no trend"]
    z, p = mann_kendall(np.array([series[up], series[down], series[flat]], dtype=float))
    np.testing.assert_allclose(got["trend_z"].to_numpy()[order], z)
    np.testing.assert_allclose(got["trend_p"].to_numpy()[order], p)
    # empty months around the crashes count as zeros; quarters group months
    wider = trends(spots, crashes, start=pd.Timestamp("2024-07-01"), end=pd.Timestamp("2026-07-01", tz="UTC"))
    assert (wider["periods"] == 24).all()
    quarters = trends(spots, crashes, period="quarter")
    assert (quarters["periods"] == 4).all()
    z4, _ = mann_kendall(np.array([[4, 7, 12, 18], [19, 13, 7, 2], [7, 8, 7, 8]], dtype=float))
    np.testing.assert_allclose(quarters["trend_z"].to_numpy()[order], z4)
    single = trends(spots, crashes, start=pd.Timestamp("2025-03-01"), end=pd.Timestamp("2025-04-01"))
    assert (single["trend"] == "no trend").all() and single["trend_p"].isna().all()
    with pytest.raises(ValueError, match="period"):
        trends(spots, crashes, period="week")


def test_rank_orders_by_score_and_names_the_place():
    coyah = (-13.383, 9.717)
    x, y = transformer(4326, UTM28).transform(*coyah)
    near = (x - X0, y - Y0)
    crashes = pd.concat([
        _crashes([near] * 3, ["fatal", "slight", "slight"]),  # 12
        _crashes([(near[0] + 3000, near[1])] * 5, ["slight"] * 5),  # 5
        _crashes([(near[0] - 3000, near[1])] * 2, ["serious", "serious"]),  # 10
        _crashes([(near[0], near[1] + 3000)] * 2, ["fatal", "slight"]),  # 11
    ], ignore_index=True)
    spots = on_cells(crashes, 8)
    ranked = rank(spots, crashes)
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert ranked["epdo"].tolist() == [12.0, 11.0, 10.0, 5.0]
    assert ranked["subprefecture_id"][0] == "GN-CO-COYAH-CENTRE" and ranked["prefecture"][0] == "Coyah"
    assert ranked["place"][0] == f"{ranked['subprefecture'][0]}, Coyah"
    assert list(ranked.columns[:4]) == ["rank", "spot", "road", "place"]
    assert {"fatal", "serious", "slight", "killed", "injured", "epdo", "trend", "trend_p"} <= set(ranked.columns)
    assert (ranked.geometry.geom_type == "Polygon").all() and ranked.crs.equals("EPSG:4326")
    assert rank(spots, crashes, top=2)["epdo"].tolist() == [12.0, 11.0]
    with pytest.raises(ValueError, match="top"):
        rank(spots, crashes, top=0)


def test_places_off_the_coast_take_the_nearest_unit():
    got = places([-13.715, -13.383, np.nan], [9.495, 9.717, np.nan])  # in the sea off Kaloum; Coyah; nothing
    assert got["prefecture_id"].tolist()[:2] == ["GN-C", "GN-CO"]
    assert got["subprefecture_id"][0].startswith("GN-C-")
    assert pd.isna(got["place"][2]) and pd.isna(got["prefecture_id"][2])
