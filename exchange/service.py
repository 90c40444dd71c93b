"""One import, end to end: read the file, map its columns, check it against the store, write it.

The CLI calls :func:`import_incidents`; the import page calls :func:`plan_file`
to show the check, then stores that same plan once the user confirms. Both go
through the same validation, so a file gives the same result whichever way it
comes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from exchange.columns import ColumnMapping, detect_mapping
from exchange.incidents import ImportPlan, plan_incidents, time_buckets
from exchange.readers import RawTable, read_table
from geo.gazetteer import Gazetteer
from storage import Store

KIND = "incidents"


class MappingError(ValueError):
    """The mapping lacks required fields, or a saved mapping name is unknown."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class ImportResult:
    batch_id: int | None
    plan: ImportPlan
    raw: RawTable
    mapping: ColumnMapping


def resolve_mapping(store: Store, raw: RawTable, mapping_name: str | None = None) -> ColumnMapping:
    """The saved mapping ``mapping_name``, or one detected from the headers; missing fields refused."""
    if mapping_name:
        saved = store.mappings(KIND)
        if mapping_name not in saved:
            raise MappingError("mapping_unknown", f"no saved mapping named {mapping_name!r}; saved: {sorted(saved)}")
        mapping = ColumnMapping.from_json(saved[mapping_name])
        absent = sorted(c for c in mapping.fields.values() if c not in raw.frame.columns)
        if absent:
            raise MappingError("mapping_columns_absent",
                               f"columns {absent} of mapping {mapping_name!r} are not in the file")
    else:
        mapping = detect_mapping(list(raw.frame.columns), raw.frame.head(50))
    missing = mapping.missing_required()
    if missing and not (raw.geometry_lonlat and set(missing) <= {"latitude", "longitude", "location"}):
        raise MappingError("mapping_incomplete", f"no column found for: {', '.join(missing)}")
    return mapping


def stored_keys(store: Store) -> Callable[[pd.Timestamp, pd.Timestamp], pd.DataFrame]:
    """Duplicate keys (category, resolution-9 cell, time bucket) of incidents stored in a period."""

    def fetch(start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        keys = store.incident_keys(start.to_pydatetime(), end.to_pydatetime())
        at = keys["occurred_at"]
        has_time = ((at.dt.hour != 0) | (at.dt.minute != 0)).to_numpy(dtype=bool)  # midnight: a date only
        return pd.DataFrame({"category": keys["category"], "cell": keys["h3_r9"],
                             "bucket": time_buckets(at, has_time)})

    return fetch


def plan_file(store: Store, raw: RawTable, mapping: ColumnMapping, *, today: date) -> ImportPlan:
    """Validate ``raw`` against the store (no write)."""
    column = mapping.fields.get("source_id")
    source_ids = []
    if column in raw.frame.columns:  # one C-level conversion: iterating Arrow strings in Python costs seconds
        source_ids = raw.frame[column].dropna().astype("str").str.strip().to_numpy(dtype=object)
    known_ids = store.existing_values("incident", "source_id", source_ids)
    # rows placed by name may name a stored neighbourhood: one query of names and points, no geometry
    gazetteer = Gazetteer.default().with_places(store.neighbourhood_places())
    return plan_incidents(raw, mapping, today=today, gazetteer=gazetteer, known_source_ids=known_ids,
                          known_keys=stored_keys(store))


def import_incidents(store: Store, data: bytes | Path, file_name: str | None = None, *, mapping_name: str | None = None,
                     mapping: ColumnMapping | None = None, created_by: str | None = None, user: object = None,
                     today: date | None = None,
                     dry_run: bool = False) -> ImportResult:
    """Read, map, validate and (unless ``dry_run``) store one file as one batch; returns what happened."""
    raw = read_table(data, file_name)
    mapping = mapping or resolve_mapping(store, raw, mapping_name)
    plan = plan_file(store, raw, mapping, today=today or date.today())
    batch_id = None
    if not dry_run:
        batch_id = store.import_records("incident", plan.records, plan.review, kind=KIND, file_name=raw.file_name,
                                        file_sha256=raw.sha256, file_format=raw.format, mapping=mapping.to_json(),
                                        created_by=created_by, user=user)
    return ImportResult(batch_id, plan, raw, mapping)
