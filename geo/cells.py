"""H3 cells: the only module that calls h3 (and owns the lat/lng <-> x/y swap).

Cells travel as ``uint64`` numpy arrays; the database stores them as signed
BIGINT (H3's top bit is always 0, so the value is unchanged). ``0`` stands for
"no cell" (missing coordinates). h3-py v4 has no vectorized point-to-cell call,
so h3ronpy is used when installed; the plain loop gives identical ids.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

import h3

try:  # optional fast path
    from h3ronpy import change_resolution as _h3ronpy_parents
    from h3ronpy.vector import coordinates_to_cells as _h3ronpy_cells
except ImportError:  # pragma: no cover - exercised when the extra is absent
    _h3ronpy_cells = _h3ronpy_parents = None

#: Resolutions stored with each point record (about 36 km², 5 km², 0.7 km², 0.1 km² per cell).
STORED_RESOLUTIONS: tuple[int, ...] = (6, 7, 8, 9)


def _check_resolution(res: int) -> int:
    if not 0 <= int(res) <= 15:
        raise ValueError(f"H3 resolution must be between 0 and 15, got {res!r}")
    return int(res)


def points_to_cells(lon: Iterable[float], lat: Iterable[float], res: int, *, fast: bool = True) -> np.ndarray:
    """H3 cell of each (lon, lat) point as ``uint64``; 0 where a coordinate is missing.

    Takes x/y order like the rest of the project; the swap to H3's (lat, lng) happens here only.
    """
    res = _check_resolution(res)
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape:
        raise ValueError("lon and lat must have the same shape")
    out = np.zeros(x.shape, dtype=np.uint64)
    ok = np.isfinite(x) & np.isfinite(y) & (np.abs(y) <= 90) & (np.abs(x) <= 180)
    if not ok.any():
        return out
    if fast and _h3ronpy_cells is not None:
        cells = _h3ronpy_cells(np.ascontiguousarray(y[ok]), np.ascontiguousarray(x[ok]), res)
        out[ok] = np.asarray(cells, dtype=np.uint64)
    else:
        out[ok] = [h3.str_to_int(h3.latlng_to_cell(b, a, res)) for a, b in zip(x[ok], y[ok], strict=True)]
    return out


def to_db(cells: np.ndarray) -> np.ndarray:
    """``uint64`` cells as ``int64`` for storage (0 becomes NULL at the storage layer)."""
    return np.asarray(cells, dtype=np.uint64).view(np.int64)


def from_db(values: Iterable[int | None]) -> np.ndarray:
    """Stored BIGINT values back to ``uint64`` cells (NULL -> 0)."""
    arr = np.asarray([0 if v is None or v != v else v for v in values], dtype=np.int64)
    return arr.view(np.uint64)


def to_str(cells: Iterable[int]) -> list[str]:
    """Hex strings (the form H3 tools and exports use)."""
    return [h3.int_to_str(int(c)) for c in cells]


def boundary_lonlat(cell: int) -> list[tuple[float, float]]:
    """A cell's polygon ring as (lon, lat) pairs, ready for GeoJSON."""
    return [(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(cell)))]


def parents(cells_: Iterable[int], res: int, *, fast: bool = True) -> np.ndarray:
    """Each cell's ancestor at the coarser resolution ``res`` (cells coarser than ``res`` are kept; 0 stays 0)."""
    res = _check_resolution(res)
    arr = np.asarray(list(cells_) if not isinstance(cells_, np.ndarray) else cells_, dtype=np.uint64)
    if fast and _h3ronpy_parents is not None and len(arr) and (arr > 0).all():
        try:
            same = resolution_of(arr)
        except ValueError:  # mixed resolutions: the loop below handles each cell
            same = -1
        if same >= res:
            return np.asarray(_h3ronpy_parents(arr, res), dtype=np.uint64)
    out = []
    for c in arr:
        if c == 0:
            out.append(0)
            continue
        text = h3.int_to_str(int(c))
        out.append(h3.str_to_int(h3.cell_to_parent(text, res)) if h3.get_resolution(text) > res else int(c))
    return np.asarray(out, dtype=np.uint64)



def resolution_for_zoom(zoom: float) -> int:
    """A resolution whose hexagons stay a few pixels to a few dozen pixels wide on screen."""
    return int(min(9, max(5, round(zoom) - 2)))


# --- vectorized helpers for the hotspot engine (geo.hotspots) -----------------------------------

_MODE_CELL = np.uint64(1)


def resolution_of(cells_: np.ndarray) -> int:
    """The common resolution of an array of H3 cell ids; ``ValueError`` if any id is not a cell
    (wrong mode bits, e.g. 0) or if resolutions are mixed. Bit arithmetic only, no h3 call.
    Returns -1 for an empty array."""
    arr = np.asarray(cells_, dtype=np.uint64)
    if arr.size == 0:
        return -1
    if ((arr >> np.uint64(59)) & np.uint64(0xF) != _MODE_CELL).any():
        raise ValueError("cells must be H3 cell ids (0 or another index mode found)")
    res = (arr >> np.uint64(52)) & np.uint64(0xF)
    if (res != res[0]).any():
        raise ValueError("cells must all have the same H3 resolution")
    return int(res[0])


def grid_disks(cells_: np.ndarray, k: int, *, fast: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Every cell within ``k`` grid steps of each cell (the cell itself included), CSR-style.

    Returns ``(indptr, neighbours)``: the disk of ``cells_[i]`` is
    ``neighbours[indptr[i]:indptr[i + 1]]`` (``uint64``; 3k(k+1)+1 cells, fewer near pentagons).
    """
    arr = np.ascontiguousarray(cells_, dtype=np.uint64)
    k = int(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if arr.size == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    resolution_of(arr)
    if fast and _h3ronpy_cells is not None:
        import pyarrow as pa

        from h3ronpy import grid_disk as _h3ronpy_disk

        disks = pa.array(_h3ronpy_disk(arr, k))
        indptr = disks.offsets.to_numpy().astype(np.int64, copy=False)
        neighbours = disks.values.to_numpy().astype(np.uint64, copy=False)[indptr[0]:indptr[-1]]
        return indptr - indptr[0], neighbours
    lists = [[h3.str_to_int(x) for x in h3.grid_disk(h3.int_to_str(int(c)), k)] for c in arr]
    indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in lists], out=indptr[1:])
    neighbours = np.fromiter((c for x in lists for c in x), dtype=np.uint64, count=int(indptr[-1]))
    return indptr, neighbours


def centers(cells_: Iterable[int], *, fast: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres as (lon, lat) arrays (h3ronpy when installed, else one h3 call per cell)."""
    arr = np.ascontiguousarray(np.fromiter((int(c) for c in cells_), dtype=np.uint64)
                               if not isinstance(cells_, np.ndarray) else cells_, dtype=np.uint64)
    if arr.size == 0:
        return np.array([]), np.array([])
    if fast and _h3ronpy_cells is not None:
        from h3ronpy.vector import cells_to_coordinates

        coords = cells_to_coordinates(arr)
        return np.asarray(coords.column("lng"), dtype=float), np.asarray(coords.column("lat"), dtype=float)
    lat, lon = np.asarray([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in arr], dtype=float).T
    return lon, lat


def polygon_to_cells(geometry, res: int, *, fast: bool = True) -> np.ndarray:
    """Sorted ``uint64`` cells whose centre lies inside a (Multi)Polygon given in lon/lat."""
    res = _check_resolution(res)
    if geometry is None or geometry.is_empty:
        return np.zeros(0, dtype=np.uint64)
    if fast and _h3ronpy_cells is not None:
        from h3ronpy.vector import geometry_to_cells

        out = np.asarray(geometry_to_cells(geometry, res), dtype=np.uint64)
    else:
        out = np.fromiter((h3.str_to_int(x) for x in h3.geo_to_cells(geometry, res)), dtype=np.uint64)
    out = np.sort(out)  # sort + drop repeats: numpy 2's hash-based np.unique is slower on uint64
    return out[np.concatenate([[True], out[1:] != out[:-1]])] if out.size else out


def area_cells(geometry, res: int) -> np.ndarray:
    """Cells standing for a small area (a neighbourhood): those whose centre lies in it.

    An area smaller than a cell holds no centre: it is then the cell of a point inside it,
    so an area always has at least one cell.
    """
    found = polygon_to_cells(geometry, res)
    if found.size or geometry is None or geometry.is_empty:
        return found
    inner = geometry.representative_point()
    return points_to_cells(np.array([inner.x]), np.array([inner.y]), res)
