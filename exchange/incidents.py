"""Incident import pipeline: a read table plus a column mapping in, accepted records and a review queue out.

Nothing is lost: every input row ends in exactly one of the two outputs, and a
queued row keeps its raw values and the codes of everything wrong with it (not
only the first problem), so one correction pass can fix it. Everything is
column-wise (pandas/numpy, shapely STRtree, H3 arrays); only distinct names and
categories are looked up one by one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exchange.columns import UCDP_VIOLENCE_TYPES, ColumnMapping
from exchange.readers import RawTable
from geo import cells
from geo.boundaries import locate
from geo.gazetteer import Gazetteer
from geo.geocode import Geocoder
from geo.parse import parse_coordinates, parse_dates, parse_geopoint
from geo.taxonomy import Taxonomy, default_taxonomy

#: Reason codes a row can be queued for, in the order they are reported.
REASONS = (
    "coord_missing", "coord_unparseable", "coord_out_of_range", "coord_hemisphere_mismatch", "outside_guinea",
    "no_location", "place_not_found", "place_ambiguous",
    "date_missing", "date_unparseable", "date_impossible", "date_future", "date_too_old",
    "category_missing", "category_unknown",
    "duplicate_source_id", "duplicate_suspect",
)
#: Flags an imported row can carry (it is imported, but a reader should know).
FLAGS = ("swapped_coordinates", "geocoded_by_name", "dms_coordinates")
#: Two rows without their own id, of the same category, in the same H3 resolution-9 cell (about
#: 0.1 km²; the same unit for rows placed by name) within the same hour (or the same day when no
#: time is given) are suspected duplicates.
DUPLICATE_CELL_RES = 9

_SEVERITY = {"1": 1, "2": 2, "3": 3, "faible": 1, "mineur": 1, "mineure": 1, "low": 1, "minor": 1,
             "moyen": 2, "moyenne": 2, "modere": 2, "moderee": 2, "medium": 2, "moderate": 2,
             "grave": 3, "eleve": 3, "elevee": 3, "haute": 3, "high": 3, "severe": 3, "serious": 3}
#: Degree, minute or second marks, colons, or digits separated by spaces (RE2 syntax, Unicode classes).
_DMS_HINT = r"[°'\"′″:’”]|\p{Nd}[\s\p{Z}]+\p{Nd}"


@dataclass(frozen=True)
class ImportPlan:
    """What an import would write: ``records`` for the incident table and ``review`` rows."""

    records: pd.DataFrame
    review: pd.DataFrame
    n_rows: int
    flags: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        """Counts for the user and for ``--json``: imported, queued, queued_by_reason, flags."""
        by_reason = Counter(code for reasons in self.review["reasons"] for code in reasons)
        return {
            "rows": self.n_rows,
            "imported": len(self.records),
            "queued": len(self.review),
            "queued_by_reason": {code: by_reason[code] for code in REASONS if by_reason[code]},
            "flags": {code: self.flags[code] for code in FLAGS if self.flags[code]},
        }


def _col(frame: pd.DataFrame, mapping: ColumnMapping, name: str, *, strip: bool = True) -> pd.Series | None:
    """The mapped column with blank cells missing (None when the field is not mapped).

    ``strip=False`` for columns whose parser already ignores surrounding spaces (a million-row
    column is not copied for nothing).
    """
    column = mapping.fields.get(name)
    if column is None or column not in frame.columns:
        return None
    values = frame[column]
    if not strip or not (pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)):
        return values
    values = values.astype("str").str.strip().where(values.notna())
    return values.where(values != "")


def _severity(values: pd.Series | None, n: int) -> pd.Series:
    """Severity 1-3 from the few distinct spellings of a column (missing where unknown)."""
    if values is None:
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)))
    from geo.names import normalize

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    levels = np.array([_SEVERITY.get(normalize(str(v)).replace(" ", ""), 0) for v in uniques] + [0], dtype=np.int64)
    found = levels[codes]  # code -1 (missing) picks the trailing 0
    return pd.Series(pd.arrays.IntegerArray(found, found == 0))


def _match_categories(taxonomy: Taxonomy, text: pd.Series | None, n: int) -> pd.DataFrame:
    """``taxonomy.match`` of each distinct label once, spread to every row (a file repeats a few dozen labels)."""
    if text is None:
        text = pd.Series([None] * n, dtype=object)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    distinct = taxonomy.match(pd.Series([*uniques, None], dtype=object))  # the last one stands for missing cells
    return distinct.iloc[codes].set_axis(text.index)  # code -1 (missing) takes the last row


def _ucdp_types(values: pd.Series) -> pd.Series:
    """UCDP's numeric ``type_of_violence`` as the words the taxonomy knows; other values unchanged."""
    text = values.astype("str").str.strip().str.removesuffix(".0")
    return text.map(UCDP_VIOLENCE_TYPES).where(lambda named: named.notna(), values)


def _codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Error codes as an object array with None where there is none (pandas may hold NaN)."""
    series = pd.Series(values, dtype=object)
    return np.array(series.where(series.notna(), None), dtype=object)


class _Codes:
    """Which rows carry which code: one boolean mask per code, so marking a million rows costs nothing."""

    def __init__(self, n: int, order: tuple[str, ...]) -> None:
        self.n, self.order = n, order
        self.masks: dict[str, np.ndarray] = {}

    def add(self, mask: np.ndarray, codes: np.ndarray | str) -> None:
        """Mark ``mask`` rows with ``codes`` (one code for all, or a per-row array of codes)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if isinstance(codes, str):
            self.masks[codes] = self.masks.get(codes, np.zeros(self.n, dtype=bool)) | mask
            return
        values = pd.Series(np.asarray(codes, dtype=object)[mask])
        rows = np.flatnonzero(mask)
        for code in values.dropna().unique():
            hit = np.zeros(self.n, dtype=bool)
            hit[rows[(values == code).to_numpy()]] = True
            self.add(hit, str(code))

    def any(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for mask in self.masks.values():
            out |= mask
        return out

    def lists(self, rows: np.ndarray) -> list[list[str]]:
        """The codes of each of ``rows``, in the documented order."""
        ordered = sorted(self.masks, key=lambda c: self.order.index(c) if c in self.order else len(self.order))
        return [[c for c in ordered if self.masks[c][i]] for i in rows]

    def count(self, rows: np.ndarray) -> Counter:
        return Counter({code: int(mask[rows].sum()) for code, mask in self.masks.items() if mask[rows].any()})


def plan_incidents(raw: RawTable, mapping: ColumnMapping, *, today: date, taxonomy: Taxonomy | None = None,
                   gazetteer: Gazetteer | None = None, known_source_ids: set[str] | frozenset = frozenset(),
                   known_keys: Callable[[pd.Timestamp, pd.Timestamp], pd.DataFrame] | None = None) -> ImportPlan:
    """Validate, place, categorise and de-duplicate every row of ``raw``.

    ``known_source_ids`` and ``known_keys(first, last)`` (a frame with columns
    ``category``, ``cell``, ``bucket`` of incidents stored between the file's
    first and last dates) describe what is already stored, so re-importing a
    file queues its rows as duplicates instead of doubling them.
    """
    taxonomy = taxonomy or default_taxonomy()
    frame = raw.frame.reset_index(drop=True)
    n = len(frame)
    reasons = _Codes(n, REASONS)
    flags = _Codes(n, FLAGS)

    # -- when -------------------------------------------------------------------------------
    when = _col(frame, mapping, "date", strip=False)
    clock = _col(frame, mapping, "time", strip=False)
    if when is not None and clock is not None:
        joined = when.notna() & clock.notna() & ~when.astype("str").str.contains(":", regex=False).fillna(False)
        when = when.where(~joined, when.astype("str") + " " + clock.astype("str"))
    dates = parse_dates(when if when is not None else pd.Series([None] * n, dtype=object), today=today)
    reasons.add(dates["error"].notna().to_numpy(), dates["error"].to_numpy())

    # -- what -------------------------------------------------------------------------------
    category = _col(frame, mapping, "category", strip=False)
    if category is not None and mapping.flavour == "ucdp" and mapping.fields.get("category") == "type_of_violence":
        category = _ucdp_types(category)
    cats = _match_categories(taxonomy, category, n)
    reasons.add(cats["error"].notna().to_numpy(), cats["error"].to_numpy())

    # -- where: coordinates -----------------------------------------------------------------
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    coord_error = np.full(n, None, dtype=object)
    one_sided = np.zeros(n, dtype=bool)
    has_coord_columns = False
    geopoint = _col(frame, mapping, "geopoint", strip=False)
    lat_text = _col(frame, mapping, "latitude", strip=False)
    lon_text = _col(frame, mapping, "longitude", strip=False)
    if lat_text is not None and lon_text is not None:
        has_coord_columns = True
        parsed = parse_coordinates(lat_text, lon_text)
        lat, lon = np.array(parsed["lat"], dtype=float), np.array(parsed["lon"], dtype=float)
        coord_error = _codes(parsed["error"])
        one_sided = lat_text.isna().to_numpy() ^ lon_text.isna().to_numpy()
        dms = _looks_dms(lat_text) | _looks_dms(lon_text)
        flags.add(dms & pd.isna(coord_error), "dms_coordinates")
    elif geopoint is not None:
        has_coord_columns = True
        parsed = parse_geopoint(geopoint)
        lat, lon = np.array(parsed["lat"], dtype=float), np.array(parsed["lon"], dtype=float)
        coord_error = _codes(parsed["error"])
    elif raw.geometry_lonlat:
        has_coord_columns = True
        lon = np.array(pd.to_numeric(frame["__lon"], errors="coerce"), dtype=float)
        lat = np.array(pd.to_numeric(frame["__lat"], errors="coerce"), dtype=float)
        coord_error = np.where(np.isnan(lon) | np.isnan(lat), "coord_missing", None).astype(object)
        one_sided = np.isnan(lon) ^ np.isnan(lat)

    # No coordinate at all: the row falls back to its names. Half a pair is an error, never geocoded.
    coord_missing = ((coord_error == "coord_missing") & ~one_sided) if has_coord_columns else np.ones(n, bool)
    bad_coord = pd.notna(coord_error) & ~coord_missing
    reasons.add(bad_coord, coord_error)

    have_point = ~coord_missing & ~bad_coord
    units = locate(np.where(have_point, lon, np.nan), np.where(have_point, lat, np.nan))
    outside = have_point & units["subprefecture_id"].isna().to_numpy()
    if outside.any():  # lat/lon typed in each other's column: try them the other way round
        swapped = locate(np.where(outside, lat, np.nan), np.where(outside, lon, np.nan))
        fixed = outside & swapped["subprefecture_id"].notna().to_numpy()
        if fixed.any():
            lon[fixed], lat[fixed] = lat[fixed].copy(), lon[fixed].copy()
            units.loc[fixed, :] = swapped.loc[fixed, :].to_numpy()
            flags.add(fixed, "swapped_coordinates")
        outside &= ~fixed
    reasons.add(outside, "outside_guinea")

    # -- where: names, for rows without coordinates -------------------------------------------
    precision = np.where(have_point, "point", None).astype(object)
    score = np.full(n, np.nan)
    place_text = _col(frame, mapping, "place")
    if place_text is None:
        place_text = _col(frame, mapping, "neighbourhood")  # a place name: the gazetteer may hold it
    name_columns = {"region": _col(frame, mapping, "region"), "prefecture": _col(frame, mapping, "prefecture"),
                    "commune": _col(frame, mapping, "commune"), "place": place_text}
    names = pd.DataFrame({k: v for k, v in name_columns.items() if v is not None}, index=range(n))
    need_names = coord_missing.copy()
    if need_names.any():
        placed = Geocoder(gazetteer or Gazetteer.default()).place_many(names.loc[need_names])
        errors = np.full(n, None, dtype=object)
        errors[need_names] = _codes(placed["error"])
        reasons.add(pd.notna(errors), errors)
        ok = placed[placed["error"].isna()]
        if len(ok):
            # the geocoder gives the unit's point, parents and precision (neighbourhoods included)
            idx = ok.index.to_numpy()
            lon[idx], lat[idx] = ok["lon"].to_numpy(float), ok["lat"].to_numpy(float)
            precision[idx], score[idx] = ok["precision"].to_numpy(object), ok["score"].to_numpy(float)
            for column in ("region_id", "prefecture_id", "subprefecture_id"):
                units.loc[idx, column] = ok[column].to_numpy(object)
            placed_mask = np.zeros(n, dtype=bool)
            placed_mask[idx] = True
            flags.add(placed_mask, "geocoded_by_name")

    # -- cells ------------------------------------------------------------------------------
    located = pd.notna(precision) & np.isfinite(lon) & np.isfinite(lat)
    finest = max(cells.STORED_RESOLUTIONS)
    fine = cells.points_to_cells(np.where(located, lon, np.nan), np.where(located, lat, np.nan), finest)
    cell_cols = {}
    for res in cells.STORED_RESOLUTIONS:
        c = fine.copy()
        if res != finest and located.any():
            c[located] = cells.parents(fine[located], res)
        column = pd.array(cells.to_db(c), dtype="Int64")
        column[c == 0] = pd.NA
        cell_cols[f"h3_r{res}"] = column

    # -- duplicates -------------------------------------------------------------------------
    source_id = _col(frame, mapping, "source_id")
    if source_id is not None:
        sid = source_id.astype("str").where(source_id.notna())
        repeat = sid.notna() & (sid.duplicated(keep="first") | sid.isin(known_source_ids))
        reasons.add(repeat.to_numpy(), "duplicate_source_id")
    else:
        sid = pd.Series([None] * n, dtype=object)
    valid_so_far = ~reasons.any()
    bucket = _time_buckets(dates)
    keys = pd.DataFrame({"category": cats["code"], "cell": cell_cols[f"h3_r{DUPLICATE_CELL_RES}"],
                         "bucket": bucket})
    # A row with its own id is a distinct report (its id was checked above); without an id, the
    # same category at the same place (cell, or unit for rows placed by name) and time is suspect.
    candidate = valid_so_far & sid.isna().to_numpy()
    suspect = np.zeros(n, dtype=bool)
    if candidate.any():
        sub = keys[candidate]
        suspect[np.flatnonzero(candidate)] = sub.duplicated(keep="first").to_numpy()
        stored = None
        if known_keys is not None:
            at = dates["value"][candidate]
            stored = known_keys(at.min().floor("D"), at.max().ceil("D") + pd.Timedelta(days=1))
        if stored is not None and len(stored):
            seen = pd.MultiIndex.from_frame(stored[["category", "cell", "bucket"]].astype(object))
            suspect[np.flatnonzero(candidate)] |= pd.MultiIndex.from_frame(sub.astype(object)).isin(seen)
    reasons.add(suspect, "duplicate_suspect")

    # -- split ------------------------------------------------------------------------------
    queued = reasons.any()
    keep = ~queued
    description = _col(frame, mapping, "description")
    records = pd.DataFrame({
        "source_id": sid,
        "occurred_at": dates["value"],
        "category": cats["code"],
        "sensitive": cats["code"].isin(taxonomy.sensitive_codes).to_numpy(dtype=bool),
        "severity": _severity(_col(frame, mapping, "severity"), n),
        "description": description if description is not None else None,
        "place_name": place_text if place_text is not None else name_columns["commune"],
        "lon": lon, "lat": lat,
        "precision": precision,
        "region_id": units["region_id"].to_numpy(dtype=object),
        "prefecture_id": units["prefecture_id"].to_numpy(dtype=object),
        "subprefecture_id": units["subprefecture_id"].to_numpy(dtype=object),
        **cell_cols,
        "source_row": raw.source_rows[: n].astype(np.int64),
        "flags": _flag_text(flags, n),
        "geocode_score": score,
    })
    records = (records[keep] if queued.any() else records).reset_index(drop=True)
    raw_rows = frame[queued]  # only queued rows are kept raw: converting the whole file costs seconds
    raw_rows = raw_rows.astype(object).where(raw_rows.notna(), None)
    review = pd.DataFrame({
        "source_row": raw.source_rows[: n][queued],
        "data": [json.loads(json.dumps(r, default=str)) for r in raw_rows.to_dict("records")],
        "reasons": reasons.lists(np.flatnonzero(queued)),
    })
    return ImportPlan(records=records, review=review, n_rows=n, flags=flags.count(np.flatnonzero(keep)))


def _time_buckets(dates: pd.DataFrame) -> np.ndarray:
    """Hour number when the time is known, minus the day number otherwise: the duplicate tolerance."""
    return time_buckets(dates["value"], dates["has_time"].to_numpy(dtype=bool))


def time_buckets(when: pd.Series, has_time: np.ndarray) -> np.ndarray:
    """Integer time buckets (hours since 1970 with a time, ``-1 - days`` without) for duplicate keys."""
    ns = when.to_numpy(dtype="datetime64[ns]").astype("int64")
    hours = ns // 3_600_000_000_000
    days = ns // 86_400_000_000_000
    out = np.where(has_time, hours, -1 - days)
    return np.where(pd.isna(when).to_numpy(), np.iinfo(np.int64).min, out)


def _looks_dms(text: pd.Series) -> np.ndarray:
    """Rows written in degrees-minutes-seconds (degree/minute marks, colons or spaced numbers).

    One RE2 pass over Arrow strings (whatever pandas' string storage): Python's ``re``
    costs a second per million rows here.
    """
    values = pa.array(text.astype("str").array, from_pandas=True)
    return pc.match_substring_regex(values, _DMS_HINT).fill_null(False).to_numpy(zero_copy_only=False)


def _flag_text(flags: _Codes, n: int) -> np.ndarray:
    """Comma-separated flags per row (None for most rows, which carry none)."""
    out = np.full(n, None, dtype=object)
    flagged = np.flatnonzero(flags.any())
    for i, codes in zip(flagged, flags.lists(flagged), strict=True):
        out[i] = ",".join(codes)
    return out
