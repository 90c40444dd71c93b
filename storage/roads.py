"""Road networks and road crashes (mixed into ``Store``).

A road network arrives as one import batch (kind ``"roads"``), so the batch undo
removes it like any import; the analysis uses the latest network that was not
undone, or the demo network when no real one exists. Geometry is a LineString
in EPSG:4326 stored as WKB with its bounding box: extent queries use the box
columns on SQLite and the generated, GIST-indexed ``geom`` on PostGIS, with the
same answer (bounding boxes that touch the query box).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa

import geopandas as gpd
import shapely

from storage import audit
from storage.roles import acting, require_write
from storage.schema import CRASH_SEVERITIES, import_batch, metadata

road = metadata.tables["road"]
road_crash = metadata.tables["road_crash"]

#: Batch kind of an imported road network.
ROAD_BATCH_KIND = "roads"
ROAD_COLUMNS = ("id", "name", "ref", "road_class", "length_m", "batch_id", "is_demo")
CRASH_COLUMNS = ("id", "occurred_at", "severity", "killed", "injured", "vehicles", "road_name", "lon", "lat",
                 "region_id", "prefecture_id", "subprefecture_id", "h3_r7", "h3_r8", "h3_r9", "is_demo")
Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class CrashFilter:
    """Which crashes an analysis takes: period (end exclusive), units (any level), extent, severities, demo."""

    start: datetime | None = None
    end: datetime | None = None
    units: tuple[tuple[str, str], ...] = ()  # (level, unit_id) pairs; any match keeps a crash
    bbox: Bbox | None = None  # west, south, east, north
    severities: tuple[str, ...] = ()
    include_demo: bool = True
    cells_r9: tuple[int, ...] = ()  # stored H3 resolution-9 cells (signed, as in h3_r9): an area

    def __post_init__(self) -> None:
        unknown = sorted(set(self.severities) - set(CRASH_SEVERITIES))
        if unknown:
            raise ValueError(f"unknown severity {', '.join(unknown)}: expected {', '.join(CRASH_SEVERITIES)}")
        if self.bbox is not None:
            _check_bbox(self.bbox)

    def where(self) -> list[sa.ColumnElement[bool]]:
        """SQL conditions (bound parameters only)."""
        c = road_crash.c
        out: list[sa.ColumnElement[bool]] = []
        if self.start is not None:
            out.append(c.occurred_at >= self.start)
        if self.end is not None:
            out.append(c.occurred_at < self.end)
        if self.units:
            column = {"region": c.region_id, "prefecture": c.prefecture_id, "subprefecture": c.subprefecture_id}
            unknown = sorted({level for level, _ in self.units} - set(column))
            if unknown:
                raise ValueError(f"unknown unit level {', '.join(unknown)}")
            out.append(sa.or_(*(column[level] == uid for level, uid in self.units)))
        if self.bbox is not None:
            west, south, east, north = self.bbox
            out.append(c.lon.between(west, east))
            out.append(c.lat.between(south, north))
        if self.severities:
            out.append(c.severity.in_(list(self.severities)))
        if not self.include_demo:
            out.append(c.is_demo.is_(sa.false()))
        if self.cells_r9:
            out.append(c.h3_r9.in_([int(x) for x in self.cells_r9]))
        return out


def _check_bbox(bbox: Iterable[float]) -> Bbox:
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or not all(np.isfinite(values)):
        raise ValueError(f"bbox must be four finite numbers (west, south, east, north), got {bbox!r}")
    west, south, east, north = values
    if west > east or south > north:
        raise ValueError(f"bbox must have west <= east and south <= north, got {bbox!r}")
    return values  # type: ignore[return-value]


def road_rows(roads: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """The ``road`` table's columns for LineStrings in EPSG:4326: WKB (2-D) and bounding box.

    ``roads`` needs ``geometry`` and ``length_m`` (metres, measured by the caller in a metric
    CRS); ``name``, ``ref`` and ``road_class`` are optional. Raises ``ValueError`` on anything
    that is not a non-empty LineString with finite lon/lat coordinates.
    """
    if not isinstance(roads, pd.DataFrame) or "geometry" not in roads.columns:
        raise TypeError("roads must be a (Geo)DataFrame with a geometry column")
    crs = getattr(roads, "crs", None)
    if crs is not None and not crs.equals("EPSG:4326"):
        raise ValueError(f"roads must be in EPSG:4326 (longitude/latitude), got {crs}")
    if "length_m" not in roads.columns:
        raise ValueError("roads needs a length_m column (metres)")
    geoms = np.asarray(roads["geometry"].array if hasattr(roads["geometry"], "array") else roads["geometry"],
                       dtype=object)
    n = len(geoms)
    bad = np.flatnonzero(~(shapely.get_type_id(geoms) == 1) | shapely.is_empty(geoms)) if n else np.zeros(0, int)
    if bad.size:
        raise ValueError(f"roads must be non-empty LineStrings; row(s) {bad[:10].tolist()} are not")
    bounds = shapely.bounds(geoms) if n else np.zeros((0, 4))
    if n and (not np.isfinite(bounds).all() or (np.abs(bounds[:, [0, 2]]) > 180).any()
              or (np.abs(bounds[:, [1, 3]]) > 90).any()):
        raise ValueError("roads have coordinates outside longitude -180..180 / latitude -90..90")
    length = pd.to_numeric(roads["length_m"], errors="raise").to_numpy(dtype=float)
    if n and (~np.isfinite(length) | (length < 0)).any():
        raise ValueError("length_m must be finite and >= 0")
    out = pd.DataFrame({name: _text(roads, name, n) for name in ("name", "ref", "road_class")})
    out["length_m"] = length
    out["wkb"] = shapely.to_wkb(shapely.force_2d(geoms)) if n else np.zeros(0, dtype=object)
    for i, name in enumerate(("min_lon", "min_lat", "max_lon", "max_lat")):
        out[name] = bounds[:, i]
    return out


def _text(frame: pd.DataFrame, name: str, n: int) -> list[str | None]:
    if name not in frame.columns:
        return [None] * n
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or str(v).strip() == ""
            else str(v).strip() for v in frame[name].astype(object)]


class RoadsMixin:
    """Road network and crash methods; expects ``self.engine`` and ``self.dialect`` (see ``Store``)."""

    engine: sa.Engine
    dialect: str

    def write_roads(self, roads: gpd.GeoDataFrame | pd.DataFrame, *, file_name: str | None = None,
                    file_sha256: str | None = None, file_format: str | None = None, n_rows: int | None = None,
                    created_by: str | None = None, user: object = None) -> int:
        """Store a road network as one import batch (all or nothing); returns the batch id.

        ``n_rows`` is the number of features read from the file (defaults to the number of
        lines); see :func:`road_rows` for the columns. A network is national: ``user`` must
        be an administrator or a planner (``PermissionDenied``); None is the local system.
        """
        who = acting(user, name=created_by)
        require_write(who, "road")
        created_by = created_by if created_by is not None or user is None else who.name
        rows = road_rows(roads)
        records = rows.astype(object).where(rows.notna(), None).to_dict("records")
        with self.engine.begin() as conn:
            batch_id = conn.execute(
                import_batch.insert().returning(import_batch.c.id),
                {"kind": ROAD_BATCH_KIND, "file_name": file_name, "file_sha256": file_sha256,
                 "file_format": file_format, "created_by": created_by,
                 "n_rows": len(rows) if n_rows is None else int(n_rows), "n_imported": len(rows), "n_queued": 0,
                 "is_demo": False},
            ).scalar_one()
            if records:
                conn.execute(road.insert(), [{**r, "batch_id": batch_id, "is_demo": False} for r in records])
            audit.record(conn, "import", username=who.name, table_name="road", batch_id=batch_id,
                         after={"kind": ROAD_BATCH_KIND, "file_name": file_name, "file_sha256": file_sha256,
                                "n_rows": len(rows) if n_rows is None else int(n_rows), "n_imported": len(rows),
                                "length_km": round(float(rows["length_m"].sum()) / 1000, 3)})
        return int(batch_id)

    def road_network_batch(self, *, include_demo: bool = True) -> int | None:
        """The batch of the road network in use: the latest real import not undone, else the demo one."""
        holds = sa.exists().where(road.c.batch_id == import_batch.c.id)
        real = (sa.select(import_batch.c.id)
                .where(import_batch.c.kind == ROAD_BATCH_KIND, import_batch.c.undone_at.is_(None),
                       import_batch.c.is_demo.is_(sa.false()), holds)
                .order_by(import_batch.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            found = conn.execute(real).scalar()
            if found is None and include_demo:
                found = conn.execute(sa.select(sa.func.max(road.c.batch_id)).where(road.c.is_demo.is_(sa.true()))
                                     ).scalar()
        return None if found is None else int(found)

    def road_network(self, *, batch_id: int | None = None, bbox: Bbox | None = None,
                     include_demo: bool = True) -> gpd.GeoDataFrame:
        """Roads of ``batch_id`` (default: :meth:`road_network_batch`) whose bounding box meets ``bbox``.

        A GeoDataFrame in EPSG:4326 with :data:`ROAD_COLUMNS` and LineString geometry, ordered
        by id; empty (same columns) when there is no network.
        """
        if batch_id is None:
            batch_id = self.road_network_batch(include_demo=include_demo)
        columns = [road.c[c] for c in ROAD_COLUMNS] + [road.c.wkb]
        rows: list = []
        if batch_id is not None:
            stmt = sa.select(*columns).where(road.c.batch_id == int(batch_id))
            if bbox is not None:
                west, south, east, north = _check_bbox(bbox)
                if self.dialect == "postgresql":  # the GIST index on the generated geom answers this
                    stmt = stmt.where(sa.text("geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)")
                                      .bindparams(w=west, s=south, e=east, n=north))
                else:
                    stmt = stmt.where(road.c.max_lon >= west, road.c.min_lon <= east,
                                      road.c.max_lat >= south, road.c.min_lat <= north)
            with self.engine.connect() as conn:
                rows = conn.execute(stmt.order_by(road.c.id)).all()
        frame = pd.DataFrame(rows, columns=[*ROAD_COLUMNS, "wkb"])
        geometry = shapely.from_wkb([bytes(v) for v in frame["wkb"]]) if len(frame) else np.zeros(0, dtype=object)
        frame = frame.drop(columns="wkb").astype({"id": "int64", "length_m": "float64", "batch_id": "Int64",
                                                  "is_demo": "bool"})
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def crashes(self, flt: CrashFilter | None = None, *, columns: Iterable[str] = CRASH_COLUMNS) -> pd.DataFrame:
        """Road crashes matching ``flt``, oldest first; times in UTC, counts as nullable integers."""
        flt = flt or CrashFilter()
        columns = list(columns)
        unknown = [c for c in columns if c not in road_crash.c]
        if unknown:
            raise ValueError(f"unknown column(s) of road_crash: {', '.join(unknown)}")
        stmt = (sa.select(*(road_crash.c[c] for c in columns)).where(*flt.where())
                .order_by(road_crash.c.occurred_at, road_crash.c.id))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=columns)
        for name in columns:
            kind = road_crash.c[name].type
            if isinstance(kind, sa.DateTime):
                frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
            elif isinstance(kind, sa.Boolean):
                frame[name] = frame[name].astype("bool")
            elif isinstance(kind, sa.Integer):
                frame[name] = frame[name].astype("int64" if name == "id" else "Int64")
            elif isinstance(kind, sa.Float):
                frame[name] = pd.to_numeric(frame[name]).astype("float64")
        return frame
