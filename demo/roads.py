"""The demo road network: the crash corridors of :mod:`demo.crashes`, one polyline per road.

Stored like an imported network (table ``road``: WKB in EPSG:4326, bounding box,
length in metres), so the black-spot analysis by road segment works on the demo
without any file.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import shapely

from geo.blackspots import line_lengths_m

from .crashes import corridor_lines

COLUMNS = ["id", "name", "ref", "road_class", "length_m", "wkb", "min_lon", "min_lat", "max_lon", "max_lat"]
_NATIONAL = re.compile(r"^RN\d+$")


def make_roads() -> pd.DataFrame:
    """One row per demo road (local ids 1..n); national roads carry their number as ``ref``."""
    lines = corridor_lines()
    names = list(lines)
    geoms = np.array(list(lines.values()), dtype=object)
    bounds = shapely.bounds(geoms)
    national = [bool(_NATIONAL.match(n)) for n in names]
    return pd.DataFrame({
        "id": np.arange(1, len(names) + 1, dtype=np.int64),
        "name": names,
        "ref": [n if nat else None for n, nat in zip(names, national, strict=True)],
        "road_class": ["trunk" if nat else "primary" for nat in national],
        "length_m": line_lengths_m(geoms),
        "wkb": list(shapely.to_wkb(geoms)),
        "min_lon": bounds[:, 0], "min_lat": bounds[:, 1], "max_lon": bounds[:, 2], "max_lat": bounds[:, 3],
    }, columns=COLUMNS)
