"""Place rows that have no GPS by their names: region, prefecture, commune and place columns.

The broad columns narrow the search (a prefecture column settles which
"Touba" is meant), the most specific name that matches wins, and the row is
placed at that unit's representative point with the unit's level as its
precision, so analyses can tell a true point from a unit centroid. A name that
fits several unrelated units is reported as ambiguous rather than guessed.

A place name can also be a neighbourhood users added (when the gazetteer holds
them, see :meth:`geo.gazetteer.Gazetteer.with_places`): the row goes to the
neighbourhood's point, with the sub-prefecture's precision (:data:`PRECISION_OF_LEVEL`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.gazetteer import PLACE_LEVELS, Gazetteer, Match, PlaceLevel

#: Below this score a name is not taken as a match.
MIN_SCORE = 85.0
#: Columns read, broadest first.
NAME_FIELDS = ("region", "prefecture", "commune", "place")
_LEVEL_OF_FIELD: dict[str, PlaceLevel | None] = {"region": "region", "prefecture": "prefecture",
                                                 "commune": "subprefecture", "place": None}
#: The stored precision of a row placed at a unit of each level. The incident table's precisions
#: (``storage.schema.PRECISIONS``) stop at the sub-prefecture, so a row placed at a neighbourhood's
#: point keeps the precision of the sub-prefecture that holds it: it is still a stand-in point, not
#: a GPS fix, and hot spot analyses leave it out like any other row placed by name.
PRECISION_OF_LEVEL: dict[str, str] = {"region": "region", "prefecture": "prefecture",
                                      "subprefecture": "subprefecture", "neighbourhood": "subprefecture"}
#: Columns of :meth:`Geocoder.place_many`.
PLACED_COLUMNS = ("unit_id", "level", "score", "error", "precision", "lon", "lat", "region_id", "prefecture_id",
                  "subprefecture_id")
_NA_KEY = "\x00"
_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Placement:
    """Outcome for one combination of names: a unit, or an error code."""

    unit_id: str | None = None
    level: PlaceLevel | None = None
    score: float = 0.0
    error: str | None = None  # "place_not_found", "place_ambiguous", "no_location"


def _on_one_chain(matches: list[Match]) -> Match | None:
    """The most specific match if all the others are its ancestors (e.g. Kankan region > prefecture > centre)."""
    deepest = max(matches, key=lambda m: PLACE_LEVELS.index(m.level))
    ids = {"region": deepest.region_id, "prefecture": deepest.prefecture_id,
           "subprefecture": deepest.subprefecture_id, deepest.level: deepest.unit_id}
    if all(ids.get(m.level) == m.unit_id for m in matches):
        return deepest
    return None


class Geocoder:
    """Resolves name combinations to units with a :class:`~geo.gazetteer.Gazetteer`."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def _best(self, text: str, level: PlaceLevel | None, within: str | None) -> Placement | None:
        hits = self.gazetteer.search(text, level=level, within=within, min_score=MIN_SCORE)
        if not hits:
            return None
        top = [h for h in hits if h.score >= hits[0].score - 1e-9]
        pick = top[0] if len(top) == 1 else _on_one_chain(top)
        if pick is None:
            return Placement(score=top[0].score, error="place_ambiguous")
        return Placement(pick.unit_id, pick.level, pick.score)

    def _inside(self, child: Placement, parent: Placement) -> bool:
        return parent.unit_id in self.gazetteer.lineage(child.level, child.unit_id).values()

    def place(self, names: dict[str, str | None]) -> Placement:
        """Resolve one row's names (keys from :data:`NAME_FIELDS`; missing or empty are ignored)."""
        given = {f: str(v).strip() for f, v in names.items() if f in NAME_FIELDS and v is not None
                 and not pd.isna(v) and str(v).strip()}
        if not given:
            return Placement(error="no_location")
        resolved: Placement | None = None
        for field in NAME_FIELDS:
            if field not in given:
                continue
            within = resolved.unit_id if resolved is not None else None
            found = self._best(given[field], _LEVEL_OF_FIELD[field], within)
            if found is None and within is not None and field == "place":
                found = self._best(given[field], None, None)  # a place may sit outside a mistyped parent
                if found is not None and found.error is None and not self._inside(found, resolved):
                    found = Placement(score=found.score, error="place_ambiguous")
            if found is None:
                if field == "place" and resolved is not None:
                    continue  # unknown village in a known commune/prefecture: keep the broader unit
                return Placement(error="place_not_found")
            if found.error:
                return found
            resolved = found
        return resolved if resolved is not None else Placement(error="place_not_found")

    def place_many(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Placements for every row of ``frame`` (columns among :data:`NAME_FIELDS`), one lookup per combination.

        Columns :data:`PLACED_COLUMNS`, aligned with ``frame``: the unit and its level,
        score and error code, the precision to store, the point to place the row at
        (the unit's representative point) and the ids of the units holding it
        (``prefecture_id`` is empty for a region, ``subprefecture_id`` above the
        sub-prefecture).
        """
        fields = [f for f in NAME_FIELDS if f in frame.columns]
        n = len(frame)
        if not fields:
            placements = [Placement(error="no_location")]
            codes = np.zeros(n, dtype=np.int64)
        else:
            keys = frame[fields].astype(object).where(frame[fields].notna(), None)
            joined = keys[fields[0]].map(_key_text)
            for f in fields[1:]:
                joined = joined + _SEPARATOR + keys[f].map(_key_text)
            codes, uniques = pd.factorize(joined.to_numpy(dtype=object))
            _, first = np.unique(codes, return_index=True)
            combos = keys.iloc[first]
            placements = [self.place(dict(zip(fields, row, strict=True)))
                          for row in combos.itertuples(index=False, name=None)]
        per_combo = self._describe(placements)
        out = per_combo.iloc[codes].reset_index(drop=True)
        out.index = frame.index
        return out

    def _describe(self, placements: list[Placement]) -> pd.DataFrame:
        """One row per placement with :data:`PLACED_COLUMNS` (points and parents looked up in one go)."""
        m = len(placements)
        level = np.array([p.level for p in placements], dtype=object)
        out = pd.DataFrame({
            "unit_id": np.array([p.unit_id for p in placements], dtype=object), "level": level,
            "score": np.array([p.score for p in placements], dtype=float),
            "error": np.array([p.error for p in placements], dtype=object),
            "precision": np.array([PRECISION_OF_LEVEL.get(lvl) if lvl else None for lvl in level], dtype=object),
            "lon": np.full(m, np.nan), "lat": np.full(m, np.nan),
            "region_id": np.full(m, None, dtype=object), "prefecture_id": np.full(m, None, dtype=object),
            "subprefecture_id": np.full(m, None, dtype=object),
        })
        ok = np.flatnonzero(pd.notna(out["unit_id"]).to_numpy() & pd.isna(out["error"]).to_numpy())
        if len(ok):
            found = self.gazetteer.lookup(level[ok], out["unit_id"].to_numpy(dtype=object)[ok])
            depth = np.array([PLACE_LEVELS.index(lvl) for lvl in level[ok]])
            out.loc[ok, "lon"] = found["label_lon"].to_numpy(dtype=float)
            out.loc[ok, "lat"] = found["label_lat"].to_numpy(dtype=float)
            out.loc[ok, "region_id"] = found["region_id"].to_numpy(dtype=object)
            out.loc[ok, "prefecture_id"] = np.where(depth >= 1, found["prefecture_id"].to_numpy(dtype=object), None)
            out.loc[ok, "subprefecture_id"] = np.where(depth >= 2, found["subprefecture_id"].to_numpy(dtype=object),
                                                       None)
        return out


def _key_text(value: object) -> str:
    return _NA_KEY if value is None else str(value)
