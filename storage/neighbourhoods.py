"""Neighbourhoods (quartiers, districts) users import or draw (mixed into ``Store``).

A file of neighbourhoods is one import batch (kind ``"neighbourhoods"``) and so
is each shape drawn on the map (file format ``"drawn"``), so the batch undo
removes either like any import. Geometry is a Polygon or MultiPolygon in
EPSG:4326 stored as WKB with its bounding box (extent queries use the box
columns on SQLite and the generated, GIST-indexed ``geom`` on PostGIS). Each row
keeps the sub-prefecture, prefecture and region it joined and a representative
point, so the gazetteer (:meth:`NeighbourhoodsMixin.neighbourhood_places`) never
has to read geometry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

import geopandas as gpd
import shapely

from geo.names import normalize
from geo.neighbourhoods import MAX_NAME_LENGTH, NeighbourhoodError, assign_subprefectures, check_shape, unit_ids
from storage import audit
from storage.roads import Bbox, _check_bbox
from storage.roles import Viewer, acting, require_write
from storage.schema import import_batch, metadata

neighbourhood = metadata.tables["neighbourhood"]

#: Batch kind of neighbourhoods, imported from a file or drawn.
NEIGHBOURHOOD_BATCH_KIND = "neighbourhoods"
#: ``file_format`` of the batch of a shape drawn on the map.
DRAWN_FORMAT = "drawn"
#: Columns of :meth:`NeighbourhoodsMixin.neighbourhoods` (plus ``geometry``).
NEIGHBOURHOOD_COLUMNS = ("id", "unit_id", "name", "alt_names", "subprefecture_id", "prefecture_id", "region_id",
                         "area_km2", "overlap_share", "inside_share", "label_lon", "label_lat", "flags", "source_row",
                         "batch_id", "is_demo")
#: Columns of :meth:`NeighbourhoodsMixin.neighbourhood_places` (what the gazetteer takes).
PLACE_COLUMNS = ("unit_id", "name", "alt_names", "subprefecture_id", "prefecture_id", "region_id", "label_lon",
                 "label_lat")
#: Where each neighbourhood belongs; computed from the geometry when a frame lacks any of them.
DERIVED_COLUMNS = ("subprefecture_id", "prefecture_id", "region_id", "area_km2", "overlap_share", "inside_share",
                   "label_lon", "label_lat")
_STORED = [c for c in NEIGHBOURHOOD_COLUMNS if c != "unit_id"]


def neighbourhood_rows(frame: gpd.GeoDataFrame | pd.DataFrame) -> pd.DataFrame:
    """The ``neighbourhood`` table's columns for valid, named (Multi)Polygons in EPSG:4326.

    ``frame`` needs ``name`` and ``geometry``; ``alt_names``, ``flags`` and
    ``source_row`` are optional, and :data:`DERIVED_COLUMNS` are computed with
    :func:`geo.neighbourhoods.assign_subprefectures` unless all are given. Raises
    ``ValueError`` on missing names, geometry that is not a valid non-empty
    polygon, or a shape that does not overlap Guinea, naming the rows.
    """
    if not isinstance(frame, pd.DataFrame) or "geometry" not in frame.columns or "name" not in frame.columns:
        raise TypeError("frame must be a (Geo)DataFrame with name and geometry columns")
    crs = getattr(frame, "crs", None)
    if crs is not None and not crs.equals("EPSG:4326"):
        raise ValueError(f"neighbourhoods must be in EPSG:4326 (longitude/latitude), got {crs}")
    geoms = np.asarray(getattr(frame["geometry"], "array", frame["geometry"]), dtype=object)
    n = len(geoms)
    names = _text(frame["name"])
    nameless = np.flatnonzero(pd.isna(names))
    if nameless.size:
        raise ValueError(f"neighbourhoods need a name; row(s) {nameless[:10].tolist()} have none")
    long = np.flatnonzero([len(v) > MAX_NAME_LENGTH for v in names])
    if long.size:
        raise ValueError(f"names longer than {MAX_NAME_LENGTH} characters in row(s) {long[:10].tolist()}")
    present = pd.notna(geoms)
    kinds = np.full(n, -1)
    kinds[present] = shapely.get_type_id(geoms[present])
    good = present & np.isin(kinds, (3, 6))
    good[good] = ~shapely.is_empty(geoms[good]) & shapely.is_valid(geoms[good])
    bad = np.flatnonzero(~good)
    if bad.size:
        raise ValueError(f"neighbourhoods must be valid, non-empty Polygons or MultiPolygons; row(s) "
                         f"{bad[:10].tolist()} are not (clean them with geo.neighbourhoods.clean_polygons)")
    geoms = shapely.force_2d(geoms) if n else geoms
    bounds = shapely.bounds(geoms) if n else np.zeros((0, 4))
    if n and ((np.abs(bounds[:, [0, 2]]) > 180).any() or (np.abs(bounds[:, [1, 3]]) > 90).any()):
        raise ValueError("neighbourhoods have coordinates outside longitude -180..180 / latitude -90..90")
    if all(c in frame.columns for c in DERIVED_COLUMNS):
        where = frame[list(DERIVED_COLUMNS)].reset_index(drop=True)
    else:
        where = assign_subprefectures(geoms)
    outside = np.flatnonzero(where["subprefecture_id"].isna().to_numpy())
    if outside.size:
        raise ValueError(f"neighbourhoods must overlap Guinea; row(s) {outside[:10].tolist()} do not")
    out = pd.DataFrame({"name": names,
                        "alt_names": _text(frame["alt_names"]) if "alt_names" in frame.columns else None,
                        "flags": _text(frame["flags"]) if "flags" in frame.columns else None})
    for column in DERIVED_COLUMNS:
        out[column] = where[column].to_numpy(dtype=object if column.endswith("_id") else float)
    source_row = frame["source_row"] if "source_row" in frame.columns else pd.Series([None] * n)
    out["source_row"] = [None if pd.isna(v) else int(v) for v in source_row]
    out["wkb"] = shapely.to_wkb(geoms) if n else np.zeros(0, dtype=object)
    for i, name in enumerate(("min_lon", "min_lat", "max_lon", "max_lat")):
        out[name] = bounds[:, i]
    return out


def _text(values: pd.Series) -> np.ndarray:
    """Stripped, single-spaced text with blanks as missing."""
    out = [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else " ".join(str(v).split())
           for v in values.astype(object)]
    return np.array([v or None for v in out], dtype=object)


def _same_name_in(conn: sa.Connection, names: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (normalised name, sub-prefecture) pairs are stored already."""
    wanted = set(names)
    subs = sorted({s for _, s in wanted})
    if not subs:
        return set()
    rows = conn.execute(sa.select(neighbourhood.c.name, neighbourhood.c.subprefecture_id)
                        .where(neighbourhood.c.subprefecture_id.in_(subs))).all()
    return {(normalize(name), sub) for name, sub in rows} & wanted


class NeighbourhoodsMixin:
    """Neighbourhood methods; expects ``self.engine`` and ``self.dialect`` (see ``Store``)."""

    engine: sa.Engine
    dialect: str

    def write_neighbourhoods(self, frame: gpd.GeoDataFrame | pd.DataFrame, *, file_name: str | None = None,
                             file_sha256: str | None = None, file_format: str | None = None,
                             n_rows: int | None = None, created_by: str | None = None, user: object = None) -> int:
        """Store neighbourhoods as one import batch (all or nothing); returns the batch id.

        ``n_rows`` is the number of features read from the file (defaults to the
        number of neighbourhoods); see :func:`neighbourhood_rows` for the columns.
        Duplicates are the caller's business (:mod:`exchange.neighbourhoods` drops
        names already stored in the same sub-prefecture). ``user`` must be allowed to
        write in every neighbourhood's sub-prefecture (``PermissionDenied``).
        """
        who = acting(user, name=created_by)
        created_by = created_by if created_by is not None or user is None else who.name
        rows = neighbourhood_rows(frame)
        require_write(who, "neighbourhood", frame=rows)
        with self.engine.begin() as conn:
            return _insert(conn, rows, file_name=file_name, file_sha256=file_sha256, file_format=file_format,
                           n_rows=len(rows) if n_rows is None else int(n_rows), created_by=created_by, who=who)

    def add_neighbourhood(self, name: str, geometry: Any, *, created_by: str | None = None,
                          alt_names: str | None = None, user: object = None) -> int:
        """Store one shape drawn on the map as its own batch (undoable); returns the batch id.

        ``geometry`` is a shapely geometry, a GeoJSON geometry or Feature mapping
        (what the map's draw tool returns) or WKT, in longitude/latitude. It is
        checked like a file feature (:func:`geo.neighbourhoods.check_shape`) and a
        name already used in the same sub-prefecture is refused; problems raise
        :class:`~geo.neighbourhoods.NeighbourhoodError` with every reason code.
        Warnings (repaired, straddling communes) are kept in the row's ``flags``. ``user``
        must be allowed to write in its sub-prefecture (``PermissionDenied``).
        """
        who = acting(user, name=created_by)
        created_by = created_by if created_by is not None or user is None else who.name
        check = check_shape(name, geometry)
        if not check.ok:
            raise NeighbourhoodError(check.errors, f"cannot store the drawn neighbourhood {check.name!r}")
        frame = pd.DataFrame({"name": [check.name], "alt_names": [alt_names],
                              "flags": ["|".join(check.warnings) or None], "source_row": [None],
                              **{c: [getattr(check, c)] for c in DERIVED_COLUMNS}})
        rows = neighbourhood_rows(gpd.GeoDataFrame(frame, geometry=[check.geometry], crs="EPSG:4326"))
        require_write(who, "neighbourhood", frame=rows)
        with self.engine.begin() as conn:
            if _same_name_in(conn, [(normalize(check.name), check.subprefecture_id)]):
                raise NeighbourhoodError(("neighbourhood_exists",),
                                         f"{check.name!r} is already a neighbourhood of {check.subprefecture_id}")
            return _insert(conn, rows, file_name=None, file_sha256=None, file_format=DRAWN_FORMAT, n_rows=1,
                           created_by=created_by, who=who)

    def neighbourhoods(self, *, subprefecture_id: str | Iterable[str] | None = None, bbox: Bbox | None = None,
                       batch_id: int | None = None, include_demo: bool = True) -> gpd.GeoDataFrame:
        """Stored neighbourhoods, ordered by id: a GeoDataFrame in EPSG:4326 with :data:`NEIGHBOURHOOD_COLUMNS`.

        ``subprefecture_id`` keeps one or several sub-prefectures, ``bbox`` (west,
        south, east, north) those whose bounding box meets it, ``batch_id`` one
        import. Empty (same columns) when nothing matches.
        """
        c = neighbourhood.c
        stmt = sa.select(*(c[name] for name in _STORED), c.wkb)
        if subprefecture_id is not None:
            subs = [subprefecture_id] if isinstance(subprefecture_id, str) else list(subprefecture_id)
            stmt = stmt.where(c.subprefecture_id.in_(subs))
        if batch_id is not None:
            stmt = stmt.where(c.batch_id == int(batch_id))
        if not include_demo:
            stmt = stmt.where(c.is_demo.is_(sa.false()))
        if bbox is not None:
            west, south, east, north = _check_bbox(bbox)
            if self.dialect == "postgresql":  # the GIST index on the generated geom answers this
                stmt = stmt.where(sa.text("geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)")
                                  .bindparams(w=west, s=south, e=east, n=north))
            else:
                stmt = stmt.where(c.max_lon >= west, c.min_lon <= east, c.max_lat >= south, c.min_lat <= north)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(c.id)).all()
        frame = pd.DataFrame(rows, columns=[*_STORED, "wkb"])
        geometry = shapely.from_wkb([bytes(v) for v in frame["wkb"]]) if len(frame) else np.zeros(0, dtype=object)
        frame = frame.drop(columns="wkb")
        frame.insert(1, "unit_id", unit_ids(frame["id"]) if len(frame) else np.zeros(0, dtype=object))
        frame = frame.astype({"id": "int64", "area_km2": "float64", "overlap_share": "float64",
                              "inside_share": "float64", "label_lon": "float64", "label_lat": "float64",
                              "source_row": "Int64", "batch_id": "Int64", "is_demo": "bool"})
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def neighbourhood_places(self, *, include_demo: bool = True) -> pd.DataFrame:
        """Names, parents and representative point of every neighbourhood (no geometry read): the
        frame :meth:`geo.gazetteer.Gazetteer.with_places` takes."""
        c = neighbourhood.c
        stmt = sa.select(c.id, *(c[name] for name in PLACE_COLUMNS if name != "unit_id")).order_by(c.id)
        if not include_demo:
            stmt = stmt.where(c.is_demo.is_(sa.false()))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=["id", *PLACE_COLUMNS[1:]])
        frame.insert(0, "unit_id", unit_ids(frame["id"]) if len(frame) else np.zeros(0, dtype=object))
        return frame.drop(columns="id").astype({"label_lon": "float64", "label_lat": "float64"})

    def neighbourhood_names_taken(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(name, subprefecture_id)`` pairs name a stored neighbourhood (names compared normalised:
        accents, case and spacing ignored); the pairs come back normalised."""
        wanted = {(normalize(name), str(sub)) for name, sub in pairs}
        with self.engine.connect() as conn:
            return _same_name_in(conn, wanted)


def _insert(conn: sa.Connection, rows: pd.DataFrame, *, file_name: str | None, file_sha256: str | None,
            file_format: str | None, n_rows: int, created_by: str | None, who: Viewer) -> int:
    """Insert ``rows`` as one batch with its audit row: a drawn shape is a ``create`` of one neighbourhood
    (its row, geometry summarised), a file an ``import`` with its counts."""
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    batch_id = conn.execute(
        import_batch.insert().returning(import_batch.c.id),
        {"kind": NEIGHBOURHOOD_BATCH_KIND, "file_name": file_name, "file_sha256": file_sha256,
         "file_format": file_format, "created_by": created_by, "n_rows": n_rows, "n_imported": len(rows),
         "n_queued": 0, "is_demo": False},
    ).scalar_one()
    if records:
        conn.execute(neighbourhood.insert(), [{**r, "batch_id": batch_id, "is_demo": False} for r in records])
    if file_format == DRAWN_FORMAT and len(records) == 1:
        new_id = conn.execute(sa.select(neighbourhood.c.id).where(neighbourhood.c.batch_id == batch_id)).scalar_one()
        audit.record(conn, "create", username=who.name, table_name="neighbourhood", record_id=new_id,
                     batch_id=batch_id, after=audit.snapshot(conn, "neighbourhood", new_id))
    else:
        audit.record(conn, "import", username=who.name, table_name="neighbourhood", batch_id=batch_id,
                     after={"kind": NEIGHBOURHOOD_BATCH_KIND, "file_name": file_name, "file_sha256": file_sha256,
                            "n_rows": n_rows, "n_imported": len(rows)})
    return int(batch_id)
