"""Road-safety black spots: severity-weighted crash counts on H3 cells or road segments, ranked with a trend.

A black spot is a short stretch of road (or a small cell) where crashes, weighted by how
bad they were, concentrate. Two ways to cut space:

* :func:`on_cells` counts crashes per H3 cell (no road network needed) and can add
  Getis-Ord Gi* on the weighted score (:mod:`geo.hotspots`);
* :func:`on_segments` cuts an imported road network into segments of at most a chosen
  length (in the UTM zone of the area, :mod:`geo.crs`) and snaps each crash to the
  nearest segment within a tolerance. Crashes farther than the tolerance (or without
  coordinates) are not snapped: they are counted in ``unassigned``, never dropped
  silently, and they still count in the cell method.

:func:`rank` orders the spots by their score and adds the place (sub-prefecture and
prefecture at the spot's centre, from :mod:`geo.boundaries`) and a Mann-Kendall trend of
the monthly or quarterly crash counts (:func:`geo.emerging.mann_kendall`).

Severity weights (:class:`SeverityWeights`) follow the *equivalent property damage only*
(EPDO) idea: each crash counts as a number of "slight" crashes. The defaults,
fatal = 10, serious = 5, slight = 1, are a simple severity index: every stored crash has a
casualty, so there is no property-damage-only class, and cost-based EPDO weights
(hundreds for a fatal crash) would let a single fatal crash outrank a stretch with dozens
of injury crashes, i.e. rank chance rather than a dangerous place. Change them when a
national scheme exists.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geo import cells as h3cells
from geo.boundaries import load_units, locate, unit_names
from geo.crs import WGS84, transformer, utm_epsg_for
from geo.emerging import mann_kendall
from geo.hotspots import Weights, counts_on_cells, gi_star
from i18n import N_

SEVERITIES: tuple[str, ...] = ("fatal", "serious", "slight")
#: Names accepted for each severity in ``SeverityWeights.parse`` (French and English, without accents).
SEVERITY_ALIASES: dict[str, str] = {
    "fatal": "fatal", "mortel": "fatal", "deces": "fatal",
    "serious": "serious", "grave": "serious", "severe": "serious",
    "slight": "slight", "leger": "slight", "minor": "slight",
}
METHODS: tuple[str, ...] = ("cells", "roads")
PERIODS: tuple[str, ...] = ("month", "quarter")
TRENDS: tuple[str, ...] = ("increasing", "decreasing", "no trend")
#: Display labels of the trend codes (translate with ``t(TREND_LABELS[code])``).
TREND_LABELS: dict[str, str] = {
    "increasing": N_("increasing"),
    "decreasing": N_("decreasing"),
    "no trend": N_("no trend"),
}
#: Why a crash has no spot (keys of ``SpotTable.unassigned``).
UNASSIGNED_REASONS: tuple[str, ...] = ("no_coordinates", "beyond_tolerance")
COUNT_COLUMNS: tuple[str, ...] = ("crashes", *SEVERITIES, "killed", "injured")


# --- severity weights ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityWeights:
    """Weight of one crash of each severity in the black-spot score (see the module docstring)."""

    fatal: float = 10.0
    serious: float = 5.0
    slight: float = 1.0

    def __post_init__(self) -> None:
        for name in SEVERITIES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"weight {name} must be a number, got {value!r}")
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not any(getattr(self, name) > 0 for name in SEVERITIES):
            raise ValueError("at least one severity weight must be positive")

    @classmethod
    def parse(cls, text: str) -> SeverityWeights:
        """``"fatal=10,serious=5,slight=1"`` (any subset; the others keep their default).

        French names are accepted (``mortel``, ``grave``, ``leger``); ``:`` works like ``=``.
        """
        if not isinstance(text, str):
            raise ValueError(f"weights must be text like 'fatal=10,serious=5,slight=1', got {text!r}")
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
            match = re.fullmatch(r"([^=:]+)[=:]\s*(\S+)", part)
            if not match:
                raise ValueError(f"cannot read {part!r}: write severity=number, e.g. fatal=10")
            key = SEVERITY_ALIASES.get(_fold(match.group(1)))
            if key is None:
                raise ValueError(f"unknown severity {match.group(1).strip()!r}: use fatal, serious or slight")
            if key in values:
                raise ValueError(f"severity {key!r} is given twice")
            try:
                values[key] = float(match.group(2))
            except ValueError:
                raise ValueError(f"{match.group(2)!r} is not a number") from None
        if not values:
            raise ValueError("no weight given: write e.g. fatal=10,serious=5,slight=1")
        return cls(**values)

    def of(self, severity) -> np.ndarray:
        """Weight of each crash from its severity code (``ValueError`` naming unknown codes)."""
        codes = _severity_codes(severity)
        return np.array([self.fatal, self.serious, self.slight])[codes]

    def __str__(self) -> str:
        return ",".join(f"{name}={getattr(self, name):g}" for name in SEVERITIES)


def _fold(text: str) -> str:
    """Lower case without accents, for severity names."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _severity_codes(severity) -> np.ndarray:
    """0, 1, 2 for fatal, serious, slight."""
    values = pd.Series(np.asarray(severity, dtype=object))
    codes = values.map({name: i for i, name in enumerate(SEVERITIES)})
    bad = codes.isna()
    if bad.any():
        unknown = sorted({str(v) for v in values[bad]})
        raise ValueError(f"unknown crash severity {', '.join(unknown[:5])}: expected {', '.join(SEVERITIES)}")
    return codes.to_numpy(dtype=np.int64)


# --- spot tables --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SpotTable:
    """Crashes aggregated on spots (H3 cells or road segments); every array is aligned as documented.

    ``table`` has one row per spot holding at least one crash, ``geometry`` its shape in
    EPSG:4326 (hexagon or segment line, aligned with ``table``), ``assignment`` the row of
    ``table`` of each input crash (-1 when it has none) and ``unassigned`` how many crashes
    have no spot, by reason (:data:`UNASSIGNED_REASONS`).
    """

    method: str
    table: pd.DataFrame
    geometry: np.ndarray
    assignment: np.ndarray
    unassigned: dict[str, int]
    weights: SeverityWeights
    params: dict[str, object] = field(default_factory=dict)

    @property
    def n_assigned(self) -> int:
        return int((self.assignment >= 0).sum())


def _check_crashes(crashes: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(crashes, pd.DataFrame):
        raise TypeError(f"crashes must be a pandas DataFrame, got {type(crashes).__name__}")
    missing = [c for c in ("lon", "lat", "severity") if c not in crashes.columns]
    if missing:
        raise ValueError(f"crashes lacks column(s) {', '.join(missing)}")
    return crashes.reset_index(drop=True)


def _casualties(crashes: pd.DataFrame, column: str) -> np.ndarray:
    if column not in crashes.columns:
        return np.zeros(len(crashes))
    values = pd.to_numeric(crashes[column], errors="raise").astype("float64").fillna(0.0).to_numpy()
    if (values < 0).any():
        raise ValueError(f"crashes.{column} must not be negative")
    return values


def _lonlat(crashes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon = pd.to_numeric(crashes["lon"], errors="coerce").astype("float64").to_numpy()
    lat = pd.to_numeric(crashes["lat"], errors="coerce").astype("float64").to_numpy()
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    return lon, lat, ok


def _aggregate(spot: np.ndarray, n_spots: int, crashes: pd.DataFrame, weights: SeverityWeights) -> pd.DataFrame:
    """Counts by severity, casualties and score per spot (``spot`` = row per crash, -1 = none)."""
    keep = spot >= 0
    idx = spot[keep]
    codes = _severity_codes(crashes["severity"].to_numpy()[keep]) if keep.any() else np.zeros(0, np.int64)
    out = {"crashes": np.bincount(idx, minlength=n_spots)}
    for i, name in enumerate(SEVERITIES):
        out[name] = np.bincount(idx[codes == i], minlength=n_spots)
    for name in ("killed", "injured"):
        out[name] = np.bincount(idx, weights=_casualties(crashes, name)[keep], minlength=n_spots).round()
    frame = pd.DataFrame({k: v.astype(np.int64) for k, v in out.items()})
    frame["epdo"] = (frame["fatal"] * weights.fatal + frame["serious"] * weights.serious
                     + frame["slight"] * weights.slight).astype(float)
    return frame


def _modal_road(spot: np.ndarray, n_spots: int, crashes: pd.DataFrame) -> np.ndarray:
    """Most frequent ``road_name`` of each spot's crashes (ties: alphabetical), None when unknown."""
    out = np.full(n_spots, None, dtype=object)
    if "road_name" not in crashes.columns:
        return out
    names = crashes["road_name"].astype(object).where(crashes["road_name"].notna(), None).to_numpy()
    keep = (spot >= 0) & pd.notna(names)
    if not keep.any():
        return out
    counts = (pd.DataFrame({"spot": spot[keep], "road": names[keep]})
              .value_counts().rename("n").reset_index()
              .sort_values(["spot", "n", "road"], ascending=[True, False, True], kind="stable")
              .drop_duplicates("spot"))
    out[counts["spot"].to_numpy()] = counts["road"].to_numpy()
    return out


# --- cells ----------------------------------------------------------------------------------------


def on_cells(crashes: pd.DataFrame, resolution: int = 8, weights: SeverityWeights | None = None,
             k: int | None = None, *, fdr: bool = False, study_cells=None) -> SpotTable:
    """Crashes per H3 cell at ``resolution``: counts by severity, killed, injured, weighted score.

    With ``k``, Getis-Ord Gi* of the score is added (``gi_z``, ``gi_p``, ``gi_bin``; ``fdr``
    as in :func:`geo.hotspots.gi_star`) over ``study_cells``, by default the cells within
    ``k`` rings of a cell with crashes: crashes only happen on roads, so a study area of
    whole units (mostly land without roads) would make every cell with a crash "hot".

    The table (one row per cell with crashes) has ``spot`` (H3 id as hex), ``cell``
    (uint64), ``road`` (most frequent road name of its crashes), the counts, ``epdo``, and
    the centre ``lon``/``lat``.
    """
    crashes = _check_crashes(crashes)
    weights = weights or SeverityWeights()
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= 15:
        raise ValueError(f"resolution must be an integer between 0 and 15, got {resolution!r}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ValueError(f"k must be None or an integer >= 1, got {k!r}")
    lon, lat, ok = _lonlat(crashes)
    crash_cells = h3cells.points_to_cells(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan), int(resolution))
    located = crash_cells != 0
    spots, inverse = np.unique(crash_cells[located], return_inverse=True)
    assignment = np.full(len(crashes), -1, dtype=np.int64)
    assignment[located] = inverse
    table = _aggregate(assignment, len(spots), crashes, weights)
    table.insert(0, "cell", spots)
    table.insert(0, "spot", h3cells.to_str(spots))
    table.insert(2, "road", _modal_road(assignment, len(spots), crashes))
    if k is not None:
        table = _with_gi(table, spots, int(k), fdr, study_cells)
    clon, clat = h3cells.centers(spots)
    table["lon"], table["lat"] = clon, clat
    geometry = np.array([shapely.Polygon(h3cells.boundary_lonlat(int(c))) for c in spots], dtype=object)
    return SpotTable("cells", table, geometry, assignment, {"no_coordinates": int((~located).sum())},
                     weights, {"resolution": int(resolution), "k": k, "fdr": bool(fdr)})


def _with_gi(table: pd.DataFrame, spots: np.ndarray, k: int, fdr: bool, study_cells) -> pd.DataFrame:
    if study_cells is None:
        disks = h3cells.grid_disks(spots, k)[1] if len(spots) else np.zeros(0, np.uint64)
        study = np.unique(np.concatenate([spots, disks]))
    else:
        study = np.unique(np.asarray(study_cells, dtype=np.uint64))
        outside = ~np.isin(spots, study)
        if outside.any():
            raise ValueError(f"{int(outside.sum())} cell(s) with crashes lie outside study_cells")
    table = table.copy()
    if len(study) == 0:
        table["gi_z"], table["gi_p"], table["gi_bin"] = 0.0, 1.0, 0
        return table
    values = counts_on_cells(study, spots, table["epdo"].to_numpy(float))
    gi = gi_star(values, Weights.from_kring(study, k), fdr=fdr)
    pos = np.searchsorted(study, spots)
    table["gi_z"], table["gi_p"], table["gi_bin"] = gi.z[pos], gi.p[pos], gi.bin[pos].astype(np.int64)
    return table


# --- road segments --------------------------------------------------------------------------------


def _road_frame(roads) -> gpd.GeoDataFrame:
    """Roads as single LineStrings in EPSG:4326 with ``road_id`` (their ``id`` or position)."""
    if isinstance(roads, gpd.GeoDataFrame):
        frame = roads
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs(WGS84)
    elif isinstance(roads, pd.DataFrame) and "geometry" in roads.columns:
        frame = gpd.GeoDataFrame(roads, geometry="geometry", crs=WGS84)
    else:
        raise TypeError("roads must be a GeoDataFrame (or a DataFrame with a geometry column) of lines")
    frame = frame.reset_index(drop=True)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, (1, 5))  # LineString, MultiLineString
    if bad.any():
        kinds = sorted({type(g).__name__ for g in geoms[bad]})
        raise ValueError(f"roads must hold LineString or MultiLineString geometries, got {', '.join(kinds)}")
    ids = frame["id"].to_numpy() if "id" in frame.columns else np.arange(len(frame))
    out = pd.DataFrame({
        "road_id": ids,
        "name": _text_column(frame, "name"),
        "ref": _text_column(frame, "ref"),
        "road_class": _text_column(frame, "road_class"),
    })
    parts, which = shapely.get_parts(geoms, return_index=True)
    out = out.iloc[which].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=shapely.force_2d(parts), crs=WGS84)


def _text_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    values = frame[name].astype(object)
    return values.where(values.notna(), None).to_numpy()


def _utm_of(*bounds: np.ndarray) -> int:
    boxes = np.vstack([b for b in bounds if len(b)])
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if not len(boxes):
        return utm_epsg_for(-11.0, 10.0, -11.0, 10.0)
    return utm_epsg_for(boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())


#: Longest straight piece (degrees, about 110 m) of a lon/lat line before it is projected: a straight
#: lon/lat edge is curved in UTM, and over a long edge (150 km between two towns) the gap between the two
#: reaches tens of metres, more than a snapping tolerance.
DENSIFY_DEG = 0.001


def _project(geoms: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Geometries from ``src`` to ``dst`` in one coordinate transform (all vertices at once);
    lon/lat input is densified first (:data:`DENSIFY_DEG`) so its edges keep their course."""
    tr = transformer(src, dst)
    if src == WGS84:
        geoms = shapely.segmentize(geoms, DENSIFY_DEG)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def line_lengths_m(geoms, epsg: int | None = None) -> np.ndarray:
    """Length in metres of lon/lat lines, in the UTM zone ``epsg`` or by default the zone of each
    line's own centre (so a network spanning zones 28N and 29N measures each road in its zone)."""
    arr = np.asarray(geoms, dtype=object).ravel()
    out = np.zeros(arr.size)
    if arr.size == 0:
        return out
    if epsg is not None:
        return shapely.length(_project(arr, WGS84, epsg))
    bounds = shapely.bounds(arr)
    zone = np.array([utm_epsg_for(*b) if np.isfinite(b).all() else 0 for b in bounds])
    for code in np.unique(zone[zone > 0]):
        sel = zone == code
        out[sel] = shapely.length(_project(arr[sel], WGS84, int(code)))
    return out


def split_lines(lines: np.ndarray, segment_m: float) -> pd.DataFrame:
    """Cut metric LineStrings into equal segments of at most ``segment_m`` (vectorized).

    A line of length L becomes n = ceil(L / segment_m) segments of length L / n (a line
    shorter than ``segment_m`` stays whole), so no short remainder inflates a rate per km.
    Returns ``line`` (index into ``lines``), ``segment`` (0..n-1 along the line), ``from_m``,
    ``to_m`` and ``geometry`` (in the lines' CRS). Lines of zero length give no segment.
    """
    segment_m = float(segment_m)
    if not np.isfinite(segment_m) or segment_m <= 0:
        raise ValueError(f"segment_m must be a positive number of metres, got {segment_m!r}")
    lines = np.asarray(lines, dtype=object)
    empty = pd.DataFrame({"line": np.zeros(0, np.int64), "segment": np.zeros(0, np.int64),
                          "from_m": np.zeros(0), "to_m": np.zeros(0), "geometry": np.zeros(0, dtype=object)})
    if lines.size == 0:
        return empty
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    m = lines.size
    counts = np.bincount(idx, minlength=m)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ends = starts + counts - 1
    step = np.hypot(*np.diff(coords, axis=0).T) if len(coords) > 1 else np.zeros(0)
    same = idx[1:] == idx[:-1]
    # global running distance with a 1 m gap between lines: strictly increasing across lines, so one
    # searchsorted finds every breakpoint's vertex interval
    run = np.concatenate([[0.0], np.cumsum(np.where(same, step, 1.0))])
    local = run - run[starts][idx]
    length = np.where(counts > 1, local[ends], 0.0)
    valid = length > 0
    n = np.where(valid, np.maximum(1, np.ceil(length / segment_m - 1e-9)), 0).astype(np.int64)
    if not n.any():
        return empty
    piece = np.divide(length, n, out=np.zeros(m), where=n > 0)

    # breakpoints k = 0..n of each valid line
    nb = np.where(valid, n + 1, 0)
    b_line = np.repeat(np.arange(m), nb)
    b_k = np.arange(nb.sum()) - np.repeat(np.cumsum(nb) - nb, nb)
    b_d = np.where(b_k == n[b_line], length[b_line], b_k * piece[b_line])
    pos = run[starts][b_line] + b_d
    i = np.searchsorted(run, pos, side="right") - 1
    i = np.clip(i, starts[b_line], ends[b_line] - 1)
    span = run[i + 1] - run[i]
    frac = np.clip(np.divide(pos - run[i], span, out=np.zeros_like(span), where=span > 0), 0.0, 1.0)
    b_xy = coords[i] + frac[:, None] * (coords[i + 1] - coords[i])

    seg_off = np.cumsum(n) - n
    # vertices strictly inside a segment
    v_line = idx
    v_ok = valid[v_line]
    v_piece = np.where(v_ok, piece[v_line], 1.0)
    v_k = np.clip(np.floor(local / v_piece), 0, np.maximum(n[v_line] - 1, 0)).astype(np.int64)
    lo = v_k * v_piece
    hi = np.where(v_k == n[v_line] - 1, length[v_line], (v_k + 1) * v_piece)
    eps = 1e-9 * np.maximum(1.0, length[v_line])
    inside = v_ok & (local > lo + eps) & (local < hi - eps)

    first = b_k < n[b_line]  # breakpoint opening segment k
    last = b_k > 0  # breakpoint closing segment k - 1
    seg = np.concatenate([seg_off[b_line[first]] + b_k[first], seg_off[v_line[inside]] + v_k[inside],
                          seg_off[b_line[last]] + b_k[last] - 1])
    order_pos = np.concatenate([b_d[first], local[inside], b_d[last]])
    kind = np.concatenate([np.zeros(first.sum()), np.ones(inside.sum()), np.full(last.sum(), 2.0)])
    xy = np.concatenate([b_xy[first], coords[inside], b_xy[last]])
    order = np.lexsort((kind, order_pos, seg))
    geoms = shapely.linestrings(xy[order], indices=seg[order])

    s_line = np.repeat(np.arange(m), n)
    s_k = np.arange(n.sum()) - np.repeat(seg_off, n)
    from_m = s_k * piece[s_line]
    to_m = np.where(s_k == n[s_line] - 1, length[s_line], (s_k + 1) * piece[s_line])
    return pd.DataFrame({"line": s_line, "segment": s_k, "from_m": from_m, "to_m": to_m, "geometry": geoms})


def split_roads(roads, segment_m: float = 500.0, *, epsg: int | None = None) -> gpd.GeoDataFrame:
    """Road segments of at most ``segment_m`` metres (see :func:`split_lines`), in EPSG:4326.

    Lengths are measured in the UTM zone ``epsg`` (default: the zone of the network's centre,
    kept in ``attrs["epsg"]``). Columns: ``segment_id`` ("<road id>:<segment>", or
    "<road id>.<part>:<segment>" for the further parts of a multi-line road), ``road_id``,
    ``part``, ``segment``, ``road`` (name, else ref), ``ref``, ``road_class``, ``from_m``,
    ``to_m``, ``length_m`` and the line ``geometry``.
    """
    segments, _ = _split_roads(roads, segment_m, epsg)
    return segments


def _split_roads(roads, segment_m: float, epsg: int | None) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """:func:`split_roads` plus the segments' metric geometry (aligned with its rows)."""
    frame = _road_frame(roads)
    lines = np.asarray(frame.geometry.array, dtype=object)
    epsg = int(epsg or _utm_of(shapely.bounds(lines)))
    parts = split_lines(_project(lines, WGS84, epsg), segment_m)
    src = frame.iloc[parts["line"].to_numpy()].reset_index(drop=True)
    # part number of each line within its road (a multi-line road has several), kept by its segments
    line_part = frame.groupby("road_id", sort=False).cumcount().to_numpy(dtype=np.int64)
    part = line_part[parts["line"].to_numpy()]
    seg_id = [f"{r}:{s}" if p == 0 else f"{r}.{p}:{s}"
              for r, p, s in zip(src["road_id"], part, parts["segment"], strict=True)]
    road = src["name"].where(src["name"].notna(), src["ref"])
    out = pd.DataFrame({
        "segment_id": seg_id, "road_id": src["road_id"].to_numpy(), "part": part,
        "segment": parts["segment"].to_numpy(), "road": road.to_numpy(), "ref": src["ref"].to_numpy(),
        "road_class": src["road_class"].to_numpy(), "from_m": parts["from_m"].to_numpy(),
        "to_m": parts["to_m"].to_numpy(),
    })
    out["length_m"] = out["to_m"] - out["from_m"]
    metric = parts["geometry"].to_numpy()
    lonlat = _project(metric, epsg, WGS84) if len(parts) else np.zeros(0, dtype=object)
    result = gpd.GeoDataFrame(out, geometry=lonlat, crs=WGS84)
    result.attrs["epsg"] = epsg
    return result, metric


def on_segments(crashes: pd.DataFrame, roads, segment_m: float = 500.0, tolerance_m: float = 50.0,
                weights: SeverityWeights | None = None) -> SpotTable:
    """Crashes per road segment: each crash goes to the nearest segment within ``tolerance_m``.

    Roads are cut by :func:`split_roads`; distances are measured in the UTM zone of the
    network's centre. A crash exactly ``tolerance_m`` away is snapped; one farther away, or
    without coordinates, is left out and counted in ``unassigned`` (``beyond_tolerance``,
    ``no_coordinates``). Equidistant segments (a crash on a junction or a cut) go to one of
    them, deterministically. The table (one row per segment with crashes) has ``spot``
    (the segment id), the road's ``road_id``, ``road``, ``ref``, ``road_class``, ``segment``,
    ``from_m``, ``to_m``, ``length_m``, the counts, ``epdo``, ``crashes_per_km``,
    ``epdo_per_km``, ``mean_offset_m`` (mean distance of its crashes to the road) and the
    segment's midpoint ``lon``/``lat``.
    """
    crashes = _check_crashes(crashes)
    weights = weights or SeverityWeights()
    tolerance_m = float(tolerance_m)
    if not np.isfinite(tolerance_m) or tolerance_m <= 0:
        raise ValueError(f"tolerance_m must be a positive number of metres, got {tolerance_m!r}")
    segments, metric = _split_roads(roads, segment_m, None)
    epsg = segments.attrs["epsg"]
    lon, lat, ok = _lonlat(crashes)
    assignment = np.full(len(crashes), -1, dtype=np.int64)
    offset = np.full(len(crashes), np.nan)
    if ok.any() and len(metric):
        x, y = transformer(WGS84, epsg).transform(lon[ok], lat[ok])
        tree = shapely.STRtree(metric)
        (src, hit), dist = tree.query_nearest(shapely.points(x, y), max_distance=tolerance_m,
                                              return_distance=True, all_matches=False)
        rows = np.flatnonzero(ok)[src]
        assignment[rows], offset[rows] = hit, dist
    unassigned = {"no_coordinates": int((~ok).sum()), "beyond_tolerance": int((ok & (assignment < 0)).sum())}

    used, spot = np.unique(assignment[assignment >= 0], return_inverse=True)
    compact = np.full(len(crashes), -1, dtype=np.int64)
    compact[assignment >= 0] = spot
    counts = _aggregate(compact, len(used), crashes, weights)
    seg = segments.iloc[used].reset_index(drop=True)
    table = pd.DataFrame({"spot": seg["segment_id"].to_numpy(), "road_id": seg["road_id"].to_numpy(),
                          "road": seg["road"].to_numpy(), "ref": seg["ref"].to_numpy(),
                          "road_class": seg["road_class"].to_numpy(), "segment": seg["segment"].to_numpy(),
                          "from_m": seg["from_m"].to_numpy(), "to_m": seg["to_m"].to_numpy(),
                          "length_m": seg["length_m"].to_numpy()})
    table = pd.concat([table, counts], axis=1)
    km = table["length_m"].to_numpy() / 1000.0
    table["crashes_per_km"] = table["crashes"] / km
    table["epdo_per_km"] = table["epdo"] / km
    table["mean_offset_m"] = (np.bincount(spot, weights=offset[assignment >= 0], minlength=len(used))
                              / np.maximum(table["crashes"].to_numpy(), 1))
    mid = shapely.line_interpolate_point(np.asarray(metric[used], dtype=object), 0.5, normalized=True)
    mx, my = transformer(epsg, WGS84).transform(shapely.get_x(mid), shapely.get_y(mid)) if len(used) else ([], [])
    table["lon"], table["lat"] = np.asarray(mx, dtype=float), np.asarray(my, dtype=float)
    geometry = np.asarray(seg.geometry.array, dtype=object)
    return SpotTable("roads", table, geometry, compact, unassigned, weights,
                     {"segment_m": float(segment_m), "tolerance_m": tolerance_m, "epsg": int(epsg),
                      "segments": len(segments)})


# --- ranking -----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _subprefecture_index() -> tuple[shapely.STRtree, pd.DataFrame]:
    subs = load_units("subprefecture")
    return shapely.STRtree(subs.geometry.to_numpy()), subs[["unit_id", "prefecture_id"]].reset_index(drop=True)


def places(lon, lat) -> pd.DataFrame:
    """Sub-prefecture (or Conakry commune) and prefecture at each point: ids and names.

    A point just outside every unit (on the shore, across a border) takes the nearest one.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    found = locate(lon, lat)
    sub = found["subprefecture_id"].to_numpy(dtype=object, copy=True)  # written below: never a read-only view
    pref = found["prefecture_id"].to_numpy(dtype=object, copy=True)
    miss = pd.isna(sub) & np.isfinite(lon) & np.isfinite(lat)
    if miss.any():
        tree, attrs = _subprefecture_index()
        src, hit = tree.query_nearest(shapely.points(lon[miss], lat[miss]), all_matches=False)
        rows = np.flatnonzero(miss)[src]
        sub[rows] = attrs["unit_id"].to_numpy()[hit]
        pref[rows] = attrs["prefecture_id"].to_numpy()[hit]
    names = unit_names()
    sub_name = np.array([names.get(("subprefecture", s)) if isinstance(s, str) else None for s in sub], dtype=object)
    pref_name = np.array([names.get(("prefecture", p)) if isinstance(p, str) else None for p in pref], dtype=object)
    place = np.array([", ".join(x for x in (a, b) if x) or None for a, b in zip(sub_name, pref_name, strict=True)],
                     dtype=object)
    return pd.DataFrame({"place": place, "subprefecture": sub_name, "prefecture": pref_name,
                         "subprefecture_id": sub, "prefecture_id": pref})


def _utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _period_index(times: pd.Series, period: str) -> np.ndarray:
    ts = pd.to_datetime(times, utc=True)
    year, month = ts.dt.year.to_numpy(np.int64), ts.dt.month.to_numpy(np.int64)
    return year * 12 + month - 1 if period == "month" else year * 4 + (month - 1) // 3


def trends(spots: SpotTable, crashes: pd.DataFrame, *, period: str = "month", start=None, end=None,
           alpha: float = 0.05) -> pd.DataFrame:
    """Mann-Kendall trend of each spot's crash counts per month or quarter, aligned with ``spots.table``.

    Periods run from ``start`` to ``end`` (exclusive; default: first and last crash), empty
    periods included. ``trend`` is "increasing" / "decreasing" when p < ``alpha``, else
    "no trend"; with fewer than two periods there is no test (z = 0, p = NaN).
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, got {period!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    n = len(spots.table)
    if "occurred_at" not in crashes.columns:
        raise ValueError("crashes lacks column occurred_at (needed for the trend)")
    crashes = crashes.reset_index(drop=True)
    if len(crashes) != len(spots.assignment):
        raise ValueError("crashes must be the frame the spots were computed from")
    keep = spots.assignment >= 0
    per = _period_index(crashes["occurred_at"], period)
    if start is not None:
        lo = _period_index(pd.Series([_utc(start)]), period)[0]
    else:
        lo = per[keep].min() if keep.any() else 0
    if end is not None:  # exclusive: the period of the last instant before it
        hi = _period_index(pd.Series([_utc(end) - pd.Timedelta(microseconds=1)]), period)[0]
    else:
        hi = per[keep].max() if keep.any() else lo
    n_periods = int(max(hi - lo + 1, 1))
    keep &= (per >= lo) & (per <= hi)
    series = np.bincount(spots.assignment[keep] * n_periods + (per[keep] - lo),
                         minlength=n * n_periods).reshape(n, n_periods).astype(float)
    if n_periods >= 2 and n:
        z, p = mann_kendall(series)
    else:
        z, p = np.zeros(n), np.full(n, np.nan)
    label = np.where((p < alpha) & (z > 0), "increasing", np.where((p < alpha) & (z < 0), "decreasing", "no trend"))
    return pd.DataFrame({"trend": label.astype(object), "trend_z": z, "trend_p": p, "periods": n_periods})


def rank(spots: SpotTable, crashes: pd.DataFrame, *, top: int | None = None, period: str = "month",
         start=None, end=None, alpha: float = 0.05) -> gpd.GeoDataFrame:
    """Black spots ordered by score (``epdo``, then crashes, fatal crashes, id), best first.

    Adds ``rank`` (1..n), the place at the spot's centre (:func:`places`) and the trend
    (:func:`trends`); keeps the ``top`` first (all by default). Returns a GeoDataFrame in
    EPSG:4326 whose geometry is the hexagon or the segment line.
    """
    if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
        raise ValueError(f"top must be None or an integer >= 1, got {top!r}")
    table = spots.table.reset_index(drop=True)
    trend = trends(spots, crashes, period=period, start=start, end=end, alpha=alpha)
    order = np.lexsort((table["spot"].astype(str).to_numpy(), -table["fatal"].to_numpy(),
                        -table["crashes"].to_numpy(), -table["epdo"].to_numpy()))
    if top is not None:
        order = order[: int(top)]
    out = table.iloc[order].reset_index(drop=True)
    trend = trend.iloc[order].reset_index(drop=True)
    where = places(out["lon"].to_numpy(), out["lat"].to_numpy())
    front = ["rank", "spot", "road", "place"]
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    out = pd.concat([out, where.drop(columns="place"), trend.drop(columns="periods")], axis=1)
    out.insert(3, "place", where["place"].to_numpy())
    rest = [c for c in out.columns if c not in front and c not in ("lon", "lat")]
    out = out[front + rest + ["lon", "lat"]]
    result = gpd.GeoDataFrame(out, geometry=spots.geometry[order] if len(order) else np.zeros(0, dtype=object),
                              crs=WGS84)
    result.attrs.update(method=spots.method, unassigned=dict(spots.unassigned), weights=str(spots.weights),
                        periods=int(trend["periods"].iloc[0]) if len(trend) else 0, **spots.params)
    return result
