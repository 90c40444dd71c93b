"""Place rows that have no GPS by their names: region, prefecture, commune and place columns.

The broad columns narrow the search (a prefecture column settles which
"Touba" is meant), the most specific name that matches wins, and the row is
placed at that unit's representative point with the unit's level as its
precision, so analyses can tell a true point from a unit centroid. A name that
fits several unrelated units is reported as ambiguous rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geo.boundaries import LEVELS, Level, get_unit
from geo.gazetteer import Gazetteer, Match

#: Below this score a name is not taken as a match.
MIN_SCORE = 85.0
#: Columns read, broadest first.
NAME_FIELDS = ("region", "prefecture", "commune", "place")
_LEVEL_OF_FIELD: dict[str, Level | None] = {"region": "region", "prefecture": "prefecture",
                                            "commune": "subprefecture", "place": None}


@dataclass(frozen=True)
class Placement:
    """Outcome for one combination of names: a unit, or an error code."""

    unit_id: str | None = None
    level: Level | None = None
    score: float = 0.0
    error: str | None = None  # "place_not_found", "place_ambiguous", "no_location"


def _on_one_chain(matches: list[Match]) -> Match | None:
    """The most specific match if all the others are its ancestors (e.g. Kankan region > prefecture > centre)."""
    deepest = max(matches, key=lambda m: LEVELS.index(m.level))
    ids = {"region": deepest.region_id, "prefecture": deepest.prefecture_id, "subprefecture": deepest.unit_id}
    if all(ids[m.level] == m.unit_id for m in matches):
        return deepest
    return None


class Geocoder:
    """Resolves name combinations to units with a :class:`~geo.gazetteer.Gazetteer`."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def _best(self, text: str, level: Level | None, within: str | None) -> Placement | None:
        hits = [h for h in self.gazetteer.search(text, level=level, within=within, min_score=MIN_SCORE)]
        if not hits:
            return None
        top = [h for h in hits if h.score >= hits[0].score - 1e-9]
        pick = top[0] if len(top) == 1 else _on_one_chain(top)
        if pick is None:
            return Placement(score=top[0].score, error="place_ambiguous")
        return Placement(pick.unit_id, pick.level, pick.score)

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
                if found is not None and found.error is None and not _inside(found, resolved):
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
        """Placements for every row of ``frame`` (columns among :data:`NAME_FIELDS`), one lookup per combination."""
        fields = [f for f in NAME_FIELDS if f in frame.columns]
        if not fields:
            return pd.DataFrame({"unit_id": [None] * len(frame), "level": None, "score": 0.0,
                                 "error": "no_location"}, index=frame.index)
        keys = frame[fields].astype(object).where(frame[fields].notna(), None)
        combos = keys.drop_duplicates()
        results = {tuple(row): self.place(dict(zip(fields, row, strict=True)))
                   for row in combos.itertuples(index=False, name=None)}
        placed = [results[tuple(row)] for row in keys.itertuples(index=False, name=None)]
        return pd.DataFrame({"unit_id": [p.unit_id for p in placed], "level": [p.level for p in placed],
                             "score": [p.score for p in placed], "error": [p.error for p in placed]},
                            index=frame.index)


def _inside(child: Placement, parent: Placement) -> bool:
    unit = get_unit(child.unit_id, child.level)
    return parent.unit_id in {unit["region_id"], unit["prefecture_id"], unit["unit_id"]}
