"""Helpers shared by the demo generators: time windows, exact partitions, synthetic names.

Everything here draws from a ``numpy.random.Generator`` handed in by the caller;
nothing reads the global random state or the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Reference "today" of the demo, so the default output never depends on the wall clock.
DEFAULT_TODAY = dt.date(2026, 11, 1)

#: Relative likelihood of an incident or crash in each hour of the day (00h..23h, UTC = local).
INCIDENT_HOURS = np.array([3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 6, 7, 8, 8, 8, 7, 6, 4],
                          dtype=float)
CRASH_HOURS = np.array([2, 1, 1, 1, 1, 2, 4, 7, 8, 6, 5, 5, 5, 5, 5, 6, 7, 8, 8, 7, 6, 4, 3, 2],
                       dtype=float)

#: Datetime dtype the store returns (microseconds, UTC).
DATETIME_DTYPE = "datetime64[us, UTC]"


@dataclass(frozen=True)
class Window:
    """A half-open span of whole days ``[start, end)`` ending at midnight UTC of ``today``."""

    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def months_before(cls, today: dt.date, months: int) -> Window:
        end = pd.Timestamp(today, tz="UTC")
        return cls(start=end - pd.DateOffset(months=months), end=end)

    @property
    def days(self) -> int:
        return int((self.end - self.start) / pd.Timedelta(days=1))

    def timestamps(self, rng: np.random.Generator, day_pos: np.ndarray,
                   hours: np.ndarray = INCIDENT_HOURS) -> pd.Series:
        """UTC timestamps for fractional day positions in ``[0, days)``; the time of day
        follows ``hours`` (the fraction of ``day_pos`` is ignored)."""
        day = np.clip(np.floor(day_pos).astype(np.int64), 0, self.days - 1)
        hour = rng.choice(24, size=len(day), p=hours / hours.sum())
        second = hour * 3600 + rng.integers(0, 3600, size=len(day))
        offset = pd.to_timedelta(day * 86400 + second, unit="s")
        return pd.Series(self.start + offset).astype(DATETIME_DTYPE)

    def month_start(self, months_back: int) -> float:
        """Day position where the calendar month ``months_back`` before ``end`` begins."""
        return float((self.end - pd.DateOffset(months=months_back) - self.start)
                     / pd.Timedelta(days=1))


def partition(rng: np.random.Generator, total: int, parts: int, *, minimum: int = 0,
              weights: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """``parts`` non-negative integers, each ``>= minimum``, summing to exactly ``total``."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    if parts * minimum > total:
        raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
    p = np.ones(parts) if weights is None else np.asarray(weights, dtype=float)
    return minimum + rng.multinomial(total - parts * minimum, p / p.sum())


def day_range(start: dt.date, end: dt.date, *, weekdays: bool = False,
              months: Sequence[int] | None = None) -> np.ndarray:
    """Proleptic ordinals of the days in ``[start, end)``, optionally only Mon-Fri and/or
    only the given calendar months."""
    days = np.arange(start.toordinal(), end.toordinal(), dtype=np.int64)
    keep = np.ones(len(days), dtype=bool)
    if weekdays:
        keep &= (days - 1) % 7 < 5  # ordinal 1 (0001-01-01) was a Monday
    if months is not None:
        month = pd.to_datetime(
            pd.Series(days - dt.date(1970, 1, 1).toordinal()), unit="D").dt.month.to_numpy()
        keep &= np.isin(month, list(months))
    return days[keep]


def to_dates(ordinals: np.ndarray) -> list[dt.date]:
    return [dt.date.fromordinal(int(o)) for o in ordinals]


def pick_dates(rng: np.random.Generator, pool: np.ndarray, n: int) -> list[dt.date]:
    """``n`` sorted dates drawn (with replacement) from a pool of ordinals."""
    return to_dates(np.sort(rng.choice(pool, size=n)))


def join_choices(rng: np.random.Generator, options: Sequence[str], n: int, low: int, high: int,
                 sep: str = ", ") -> list[str]:
    """``n`` strings, each ``low..high`` distinct options joined by ``sep``."""
    k = rng.integers(low, high + 1, size=n)
    return [sep.join(rng.choice(options, size=int(m), replace=False)) for m in k]


GIVEN_NAMES = (
    "Mamadou", "Alpha", "Ibrahima", "Ousmane", "Sekou", "Moussa", "Lansana", "Abdoulaye",
    "Fodé", "Mohamed", "Aissatou", "Mariama", "Fatoumata", "Kadiatou", "Hawa", "Djenabou",
    "Mafoudia", "Aminata", "Nènè", "Saran",
)
SURNAMES = (
    "Diallo", "Camara", "Bah", "Barry", "Condé", "Sylla", "Touré", "Keïta", "Soumah", "Kourouma",
    "Traoré", "Sow", "Baldé", "Cissé", "Fofana", "Kaba", "Haba", "Loua", "Guilavogui", "Kamano",
)


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Synthetic "Prénom Nom" pairs from common Guinean names (marked as demo data)."""
    first = rng.choice(GIVEN_NAMES, size=n)
    last = rng.choice(SURNAMES, size=n)
    return [f"{a} {b} (démo)" for a, b in zip(first, last, strict=True)]


def numbered(prefix: str, n: int) -> list[str]:
    """``"Agent 01 (démo)"``-style names, zero-padded to the width of ``n``."""
    width = max(2, len(str(n)))
    return [f"{prefix} {i:0{width}d} (démo)" for i in range(1, n + 1)]


def with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Prepend the local ``id`` key 1..n."""
    frame = frame.reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame
