"""Read neighbourhood (quartier, district) boundaries from a file, check drawn ones, store them as one batch.

Accepted, recognised from the content: GeoJSON, GeoPackage (the first polygon
layer, or the layer named), a zipped Shapefile, KML (every folder is read, in
order, unless a layer is named) and KMZ. KML goes through GDAL's LIBKML/KML
driver, after a check that refuses any DOCTYPE or entity declaration (KML never
needs one; it is how XML entity attacks start).

Each feature becomes **one** neighbourhood, Polygon or MultiPolygon (a quartier
with an island stays one unit); features of the same name that land in the same
sub-prefecture are merged into one (a quartier split over several rows). Shapes
are taken to EPSG:4326, Z dropped, invalid polygons repaired with
``make_valid`` (flagged ``geometry_repaired``), and each neighbourhood joins the
sub-prefecture it overlaps most (:func:`geo.neighbourhoods.assign_subprefectures`).
A feature that cannot be used is dropped with a reason (:data:`DROP_REASONS`);
one that is kept but deserves a look (straddling communes, partly outside
Guinea, repaired) is flagged (:data:`FLAG_CODES`). Every dropped or flagged
feature is listed by its number in the file and its name (:class:`Issue`);
:func:`issue_text` turns one into a sentence in the user's language.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from exchange.readers import ReadError, _blank_bytes, _load
from exchange.vector import LayerFileError, LayerKind, VectorSource, materialize, read_layers, text_values
from geo.boundaries import unit_names
from geo.crs import WGS84
from geo.names import normalize
from geo.neighbourhoods import (
    INSIDE_SHARE,
    MAX_NAME_LENGTH,
    STRADDLE_SHARE,
    NeighbourhoodError,
    ShapeCheck,
    assign_subprefectures,
    check_shape,
    clean_polygons,
)
from i18n import Translator
from i18n.reasons import reason_text
from storage import Store

#: Why a feature is not imported, in the order they are checked.
DROP_REASONS: tuple[str, ...] = ("geometry_missing", "geometry_invalid", "geometry_empty", "not_a_polygon",
                                 "polygon_degenerate", "name_missing", "name_too_long",
                                 "neighbourhood_outside_guinea", "neighbourhood_exists")
#: What a kept neighbourhood can be flagged with (``merged_same_name`` marks the features folded into another).
FLAG_CODES: tuple[str, ...] = ("geometry_repaired", "other_parts_ignored", "straddles_communes",
                               "partly_outside_guinea", "merged_same_name")
#: File-level failures specific to neighbourhood layers (the others are ``ReadError`` codes).
ERROR_CODES: tuple[str, ...] = ("not_a_polygon_layer", "no_neighbourhoods_kept", "no_name_column", "kml_unsafe")
#: Issues listed per code (counts are always complete).
MAX_ISSUES_PER_CODE = 200

#: Column names (normalised: lower case, no accents, separators as spaces) per field, best first.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("quartier", "nom quartier", "nom du quartier", "nom de quartier", "quartiers", "neighbourhood",
             "neighborhood", "neighbourhood name", "neighborhood name", "district", "nom district",
             "nom du district", "secteur", "nom secteur", "nom du secteur", "name", "nom", "nom fr", "name fr",
             "libelle", "toponyme", "localite", "nom localite", "adm4 fr", "adm4 name", "name en", "nom en"),
    "alt_names": ("alt name", "alt names", "autre nom", "autres noms", "alias", "aliases", "other names",
                  "ancien nom", "old name", "nom local", "local name", "official name", "nom officiel",
                  "short name", "nom court", "name en", "nom en"),
}
#: Words that mark a name column when no synonym matches exactly (``NOM_QRT``, ``Quartier_1``).
_NAME_WORDS = ("nom", "name", "quartier", "district", "secteur", "neighbourhood", "neighborhood")
#: What a neighbourhood file must hold (KML and KMZ accepted).
NEIGHBOURHOOD_LAYER = LayerKind("polygon", "neighbourhood",
                                lambda detail: NeighbourhoodFileError("not_a_polygon_layer", detail),
                                kml_unsafe=lambda detail: NeighbourhoodFileError("kml_unsafe", detail))

__all__ = ["DROP_REASONS", "ERROR_CODES", "FLAG_CODES", "Issue", "NeighbourhoodError", "NeighbourhoodFileError",
           "NeighbourhoodLayer", "NeighbourhoodReport", "ReadError", "check_drawn", "import_neighbourhoods",
           "issue_text", "read_neighbourhoods", "reason_text", "shape_messages"]


class NeighbourhoodFileError(LayerFileError):
    """A readable file that holds no usable neighbourhood layer; ``code`` is stable, ``detail`` for logs."""

    CODES = ERROR_CODES


@dataclass(frozen=True)
class Issue:
    """One feature dropped or flagged: its number in the file (from 1), its name and the reason code.

    ``share`` and ``unit_id`` detail ``straddles_communes`` (share in the sub-prefecture it
    joined) and ``partly_outside_guinea`` (share inside Guinea); ``other`` is the feature a
    ``merged_same_name`` feature was folded into.
    """

    feature: int
    name: str | None
    code: str
    share: float | None = None
    unit_id: str | None = None
    other: int | None = None


@dataclass(frozen=True)
class NeighbourhoodReport:
    """What reading a neighbourhood file did: counts per drop reason and flag, and every issue by feature."""

    file_name: str
    file_format: str
    layers: tuple[str, ...]
    sha256: str
    features: int
    kept: int
    area_km2: float
    dropped: dict[str, int]
    flagged: dict[str, int]
    issues: tuple[Issue, ...]
    columns: dict[str, str | None]
    source_crs: str | None
    notes: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (for a command's ``--json`` output or a log)."""
        return {"file": self.file_name, "format": self.file_format, "layers": list(self.layers),
                "features": self.features, "imported": self.kept, "area_km2": round(self.area_km2, 3),
                "dropped": dict(self.dropped), "flagged": dict(self.flagged),
                "issues": [{"feature": i.feature, "name": i.name, "code": i.code, "share": i.share,
                            "unit_id": i.unit_id, "other": i.other} for i in self.issues],
                "columns": dict(self.columns), "source_crs": self.source_crs, "notes": list(self.notes)}


@dataclass(frozen=True, eq=False)
class NeighbourhoodLayer:
    """Neighbourhoods ready to store (the columns :meth:`storage.Store.write_neighbourhoods` takes, with
    ``source_row`` the feature number) and the report of how they were read."""

    neighbourhoods: gpd.GeoDataFrame
    report: NeighbourhoodReport


def read_neighbourhoods(data: bytes | Path | str | Any, file_name: str | None = None, *,
                        layer: str | int | None = None, name_column: str | None = None,
                        existing: Callable[[set[tuple[str, str]]], set[tuple[str, str]]] | None = None,
                        max_bytes: int = 200_000_000) -> NeighbourhoodLayer:
    """Read neighbourhoods from ``data`` (bytes, a path or a binary file object); see the module docstring.

    ``name_column`` overrides the detected name column. ``existing(pairs)`` says which
    ``(normalised name, subprefecture_id)`` pairs are stored already (e.g.
    ``store.neighbourhood_names_taken``); those features are dropped as ``neighbourhood_exists``.
    """
    raw, name = _load(data, file_name, max_bytes)
    if _blank_bytes(raw):
        raise ReadError("empty_file", f"{name or 'the file'} is empty ({len(raw)} bytes)")
    sha = hashlib.sha256(raw).hexdigest()
    with tempfile.TemporaryDirectory(prefix="proximite-neighbourhoods-") as tmp:
        source = materialize(raw, Path(tmp), layer, NEIGHBOURHOOD_LAYER)
        geoms, fields, crs, notes = _read_layers(source)
    return _build(name, sha, source, geoms, fields, crs, notes, name_column, existing)


def import_neighbourhoods(store: Store, data: bytes | Path | str | Any, file_name: str | None = None, *,
                          layer: str | int | None = None, name_column: str | None = None,
                          created_by: str | None = None, user: object = None, dry_run: bool = False
                          ) -> tuple[NeighbourhoodLayer, int | None]:
    """Read and (unless ``dry_run``) store a neighbourhood file as one batch; returns it and the batch id.

    Names already stored in the same sub-prefecture are dropped (``neighbourhood_exists``):
    undo the earlier batch first to replace a boundary.
    """
    result = read_neighbourhoods(data, file_name, layer=layer, name_column=name_column,
                                 existing=store.neighbourhood_names_taken)
    if dry_run:
        return result, None
    report = result.report
    batch_id = store.write_neighbourhoods(result.neighbourhoods, file_name=report.file_name or None,
                                          file_sha256=report.sha256, file_format=report.file_format,
                                          n_rows=report.features, created_by=created_by,
                                          user=user)
    return result, batch_id


def check_drawn(name: str | None, geometry: Any, *, store: Store | None = None) -> ShapeCheck:
    """Check a shape drawn on the map before storing it (closed, valid or repairable, in Guinea, named);
    with ``store``, a name already used in the same sub-prefecture is an error (``neighbourhood_exists``).

    Store it with :meth:`storage.Store.add_neighbourhood`, which checks it again.
    """
    check = check_shape(name, geometry)
    if store is not None and check.subprefecture_id is not None and check.name:
        if store.neighbourhood_names_taken([(check.name, check.subprefecture_id)]):
            return replace(check, errors=(*check.errors, "neighbourhood_exists"))
    return check


# --- sentences --------------------------------------------------------------------------------------


def _detail(t: Translator, code: str, share: float | None, unit_id: str | None, other: int | None) -> str:
    reason = reason_text(t, code)
    if code == "straddles_communes" and share is not None and unit_id:
        unit = unit_names().get(("subprefecture", unit_id), unit_id)
        return t("straddles communes: only {share} of its area lies in {unit}, the commune it joins",
                 share=t.pct(share), unit=unit)
    if code == "partly_outside_guinea" and share is not None:
        return t("partly outside Guinea: only {share} of its area lies inside the country", share=t.pct(share))
    if code == "merged_same_name" and other is not None:
        return t("merged with feature {number}, which has the same name in the same commune", number=other)
    return reason


def issue_text(t: Translator, issue: Issue) -> str:
    """One sentence for ``issue``: feature number, name (when it has one) and why."""
    reason = _detail(t, issue.code, issue.share, issue.unit_id, issue.other)
    if issue.name:
        return t("Feature {number} ({name}): {reason}", number=issue.feature, name=issue.name, reason=reason)
    return t("Feature {number}: {reason}", number=issue.feature, reason=reason)


def shape_messages(t: Translator, check: ShapeCheck) -> tuple[list[str], list[str]]:
    """Sentences for a drawn shape's errors and warnings, in the user's language."""
    errors = [reason_text(t, code) for code in check.errors]
    details = {"straddles_communes": (check.overlap_share, check.subprefecture_id),
               "partly_outside_guinea": (check.inside_share, None)}
    warnings = [_detail(t, code, *details.get(code, (None, None)), None) for code in check.warnings]
    return errors, warnings


# --- finding the layers -----------------------------------------------------------------------------


def _read_layers(source: VectorSource) -> tuple[np.ndarray, pd.DataFrame, str | None, list[str]]:
    return read_layers(source, lambda detail: NeighbourhoodFileError("not_a_polygon_layer", detail))


# --- turning features into neighbourhoods -----------------------------------------------------------


def _normal_column(name: str) -> str:
    return normalize(name.replace("_", " ").replace("-", " ").replace(":", " "))


def _detect_columns(columns: list[str], text: pd.DataFrame, name_column: str | None) -> dict[str, str | None]:
    """The name column (by synonym, then by a name word in a text column) and the other-names column."""
    normal = {c: _normal_column(c) for c in columns}
    out: dict[str, str | None] = {"name": None, "alt_names": None}
    if name_column is not None:
        if name_column not in columns:
            raise ReadError("no_table", f"column {name_column!r} not found; the file has: {', '.join(columns)}")
        out["name"] = name_column
    for target, synonyms in FIELD_SYNONYMS.items():
        if out[target] is not None:
            continue
        for synonym in synonyms:
            hit = next((c for c in columns if normal[c] == synonym and c not in out.values()), None)
            if hit is not None:
                out[target] = hit
                break
    if out["name"] is None:
        texty = [c for c in columns if text[c].notna().any()
                 and any(w in normal[c].split() or normal[c].startswith(w) for w in _NAME_WORDS)]
        out["name"] = texty[0] if texty else None
    return out


def _alt_names(values: np.ndarray) -> np.ndarray:
    """Other names split on ``;`` or ``|`` (OSM writes ``alt_name=A;B``), stored ``|``-separated."""
    out = []
    for v in values:
        parts = [p.strip() for p in re.split(r"[;|]", v)] if v else []
        out.append("|".join(dict.fromkeys(p for p in parts if p)) or None)
    return np.array(out, dtype=object)


def _build(file_name: str, sha: str, source: VectorSource, geoms: np.ndarray, fields: pd.DataFrame, crs: str | None,
           notes: list[str], name_column: str | None,
           existing: Callable[[set[tuple[str, str]]], set[tuple[str, str]]] | None) -> NeighbourhoodLayer:
    n = len(geoms)
    unreadable = np.array([g is False for g in geoms], dtype=bool)
    raw = np.where(unreadable, None, geoms)
    present = pd.notna(raw)
    if n and present.any():
        kinds = shapely.get_type_id(raw[present])
        if not np.isin(kinds, (3, 6, 7)).any():
            found = sorted({type(g).__name__ for g in raw[present]})
            raise NeighbourhoodFileError("not_a_polygon_layer", f"the file holds {', '.join(found)} features")
    if n == 0 or not (present | unreadable).any():
        raise NeighbourhoodFileError("no_neighbourhoods_kept", f"{n} features and no geometry")
    columns = _detect_columns(list(fields.columns), fields, name_column)
    if columns["name"] is None:
        raise NeighbourhoodFileError("no_name_column", f"no name column among: {', '.join(fields.columns)}")
    names = text_values(fields[columns["name"]], n)
    alt = _alt_names(text_values(fields[columns["alt_names"]] if columns["alt_names"] else None, n))

    clean = clean_polygons(raw)
    reason = clean.reason.copy()
    reason[unreadable] = "geometry_invalid"
    ok = pd.isna(reason)
    reason[ok & pd.isna(names)] = "name_missing"
    reason[pd.isna(reason) & np.array([len(v or "") > MAX_NAME_LENGTH for v in names])] = "name_too_long"
    ok = np.flatnonzero(pd.isna(reason))
    shapes = clean.geometry[ok]
    where = assign_subprefectures(shapes)
    outside = where["subprefecture_id"].isna().to_numpy()
    reason[ok[outside]] = "neighbourhood_outside_guinea"
    kept, shapes, where = ok[~outside], shapes[~outside], where[~outside].reset_index(drop=True)

    # same name in the same sub-prefecture: one quartier split over several features
    key = pd.Series([normalize(v) for v in names[kept]], dtype=object) + "\x1f" + where["subprefecture_id"]
    first_of = pd.Series(np.arange(len(kept))).groupby(key.to_numpy()).transform("min").to_numpy()
    merged_into = np.full(n, -1)
    folded = first_of != np.arange(len(kept))
    merged_into[kept[folded]] = kept[first_of[folded]]
    heads = np.flatnonzero(~folded)
    grown = np.zeros(len(kept), dtype=bool)
    grown[np.unique(first_of[folded])] = True
    if grown.any():
        rebuilt = [shapely.union_all(shapes[first_of == h]) for h in np.flatnonzero(grown)]
        rebuilt_clean = clean_polygons(rebuilt)
        shapes = shapes.copy()
        shapes[grown] = rebuilt_clean.geometry
        where.loc[grown, :] = assign_subprefectures(shapes[grown]).to_numpy()
        notes.append("merged_same_name")
    repaired = np.zeros(n, dtype=bool)
    repaired[kept] = clean.repaired[kept]
    other_parts = np.zeros(n, dtype=bool)
    other_parts[kept] = clean.other_parts[kept]
    for column in (repaired, other_parts):  # a merged neighbourhood carries its parts' flags
        np.logical_or.at(column, kept[first_of[folded]], column[kept[folded]])

    heads_rows = kept[heads]
    if existing is not None and len(heads):
        pairs = {(normalize(names[r]), where["subprefecture_id"].iloc[h]) for r, h in zip(heads_rows, heads,
                                                                                          strict=True)}
        taken = existing(pairs) or set()
        if taken:
            hit = np.array([(normalize(names[r]), where["subprefecture_id"].iloc[h]) in taken
                            for r, h in zip(heads_rows, heads, strict=True)], dtype=bool)
            reason[heads_rows[hit]] = "neighbourhood_exists"
            for r in heads_rows[hit]:  # the features folded into it go the same way
                reason[merged_into == r] = "neighbourhood_exists"
                merged_into[merged_into == r] = -1
            heads, heads_rows = heads[~hit], heads_rows[~hit]

    final = where.iloc[heads].reset_index(drop=True)
    straddles = final["overlap_share"].to_numpy() < STRADDLE_SHARE
    partly = final["inside_share"].to_numpy() < INSIDE_SHARE
    flag_masks = {"geometry_repaired": repaired[heads_rows], "other_parts_ignored": other_parts[heads_rows],
                  "straddles_communes": straddles, "partly_outside_guinea": partly,
                  "merged_same_name": np.isin(heads_rows, merged_into[merged_into >= 0])}
    flags = ["|".join(code for code, mask in flag_masks.items() if mask[i]) or None for i in range(len(heads))]
    frame = gpd.GeoDataFrame({
        "name": names[heads_rows], "alt_names": alt[heads_rows], **{c: final[c].to_numpy() for c in final.columns},
        "flags": np.array(flags, dtype=object), "source_row": heads_rows + 1,
    }, geometry=np.asarray(shapes[heads], dtype=object), crs=WGS84)
    for column in ("subprefecture_id", "prefecture_id", "region_id"):
        frame[column] = frame[column].astype(object)
    for column in ("area_km2", "overlap_share", "inside_share", "label_lon", "label_lat"):
        frame[column] = frame[column].astype(float)

    issues, dropped, flagged = _issues(reason, names, merged_into, heads_rows, flag_masks, final)
    if not len(frame):
        detail = ", ".join(f"{k}: {v}" for k, v in dropped.items()) or "nothing left"
        raise NeighbourhoodFileError("no_neighbourhoods_kept", f"{n} features read; dropped {detail}")
    report = NeighbourhoodReport(
        file_name=file_name, file_format=source.file_format,
        layers=tuple(str(x) for x in source.layers if x is not None and source.file_format not in ("geojson",)),
        sha256=sha, features=n, kept=len(frame), area_km2=float(frame["area_km2"].sum()), dropped=dropped,
        flagged=flagged, issues=issues, columns=columns, source_crs=crs, notes=tuple(dict.fromkeys(notes)),
    )
    return NeighbourhoodLayer(frame, report)


def _issues(reason: np.ndarray, names: np.ndarray, merged_into: np.ndarray, heads_rows: np.ndarray,
            flag_masks: dict[str, np.ndarray], final: pd.DataFrame
            ) -> tuple[tuple[Issue, ...], dict[str, int], dict[str, int]]:
    """Every dropped, flagged and merged feature by number (capped per code), with the counts."""
    issues: list[Issue] = []
    dropped: dict[str, int] = {}
    for code in DROP_REASONS:
        rows = np.flatnonzero(reason == code)
        if rows.size:
            dropped[code] = int(rows.size)
            issues.extend(Issue(int(r) + 1, names[r], code) for r in rows[:MAX_ISSUES_PER_CODE])
    flagged: dict[str, int] = {}
    for code in FLAG_CODES:
        if code == "merged_same_name":
            rows = np.flatnonzero(merged_into >= 0)
            if rows.size:
                flagged[code] = int(rows.size)
                issues.extend(Issue(int(r) + 1, names[r], code, other=int(merged_into[r]) + 1)
                              for r in rows[:MAX_ISSUES_PER_CODE])
            continue
        hits = np.flatnonzero(flag_masks[code])
        if not hits.size:
            continue
        flagged[code] = int(hits.size)
        for i in hits[:MAX_ISSUES_PER_CODE]:
            row = int(heads_rows[i])
            share = {"straddles_communes": final["overlap_share"].iloc[i],
                     "partly_outside_guinea": final["inside_share"].iloc[i]}.get(code)
            unit = final["subprefecture_id"].iloc[i] if code == "straddles_communes" else None
            issues.append(Issue(row + 1, names[row], code, None if share is None else round(float(share), 4), unit))
    return tuple(sorted(issues, key=lambda i: (i.feature, i.code))), dropped, flagged

