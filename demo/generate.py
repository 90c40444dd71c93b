"""Deterministic synthetic demo data for every table of the Proximité store.

:func:`generate` is pure: no database, no Streamlit, no global random state and
no wall clock (``today`` defaults to :data:`DEFAULT_TODAY`). It returns one
DataFrame per table with *local* ``id`` keys 1..n and foreign keys pointing at
them; the store remaps them on insert and sets is_demo/batch_id/created_at/version.

Spatial design: incidents are weighted by 2014 prefecture population with a
strong urban bias and carry the clusters of :data:`PLANTED_HOTSPOTS`; crashes
follow national corridors (also the demo road network) with the black spots of
:data:`PLANTED_BLACKSPOTS`;
the programme tables reproduce :data:`PROGRAMME_FIGURES` exactly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.taxonomy import default_taxonomy

from .common import DEFAULT_TODAY, Window
from .crashes import PLANTED_BLACKSPOTS, make_crashes
from .incidents import PLANTED_HOTSPOTS, make_incidents
from .institutions import make_councils, make_schools, make_stations
from .places import load_geo
from .programme import (
    PROGRAMME_FIGURES,
    TRAINING_COMMUNITIES,
    WOMEN_DAY_PLACES,
    make_outreach,
    make_trainings,
    make_women_days,
    summary,
)
from .roads import make_roads

#: Incidents and crashes fall within this many months before ``today``.
HISTORY_MONTHS = 24

#: Tables in insert (foreign-key) order.
TABLES = ("station", "incident", "road_crash", "road", "council", "council_meeting", "school",
          "outreach_officer", "school_visit", "women_visit_day", "instructor", "training",
          "training_instructor")

#: One independent random stream per part, so changing one part leaves the others intact.
_STREAMS = ("station", "incident", "road_crash", "council", "school", "outreach", "women",
            "training")

__all__ = [
    "DEFAULT_TODAY", "HISTORY_MONTHS", "PLANTED_BLACKSPOTS", "PLANTED_HOTSPOTS",
    "PROGRAMME_FIGURES", "TABLES", "TRAINING_COMMUNITIES", "WOMEN_DAY_PLACES", "generate",
    "summary",
]


def generate(seed: int = 2014, *, n_incidents: int = 8000, n_crashes: int = 1200,
             today: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """Synthetic frames keyed by table name (see :data:`TABLES`); same seed, same frames."""
    if n_incidents < 0 or n_crashes < 0:
        raise ValueError("n_incidents and n_crashes must be >= 0")
    today = DEFAULT_TODAY if today is None else today
    if isinstance(today, dt.datetime):
        today = today.date()
    rng = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)), strict=True))
    geo = load_geo()
    window = Window.months_before(today, HISTORY_MONTHS)

    station = make_stations(rng["station"], geo)
    school = make_schools(rng["school"], geo)
    council, council_meeting = make_councils(rng["council"], geo, today)
    officer, visit = make_outreach(rng["outreach"], geo, station, school, today)
    instructor, training, training_instructor = make_trainings(rng["training"], geo)
    frames = {
        "station": station,
        "incident": make_incidents(rng["incident"], geo, default_taxonomy(), window, n_incidents),
        "road_crash": make_crashes(rng["road_crash"], window, n_crashes),
        "road": make_roads(),
        "council": council,
        "council_meeting": council_meeting,
        "school": school,
        "outreach_officer": officer,
        "school_visit": visit,
        "women_visit_day": make_women_days(rng["women"], geo, station, today),
        "instructor": instructor,
        "training": training,
        "training_instructor": training_instructor,
    }
    return {name: frames[name] for name in TABLES}
