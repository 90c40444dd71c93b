"""Metric coordinate systems for Guinea: the UTM zone that holds an area.

Guinea straddles UTM zones 28N (west of 12° W: Conakry, Boké, Labé, Kindia)
and 29N (east: Kankan, Faranah, Nzérékoré). Distances, bandwidths and scale
bars are computed in the zone of the area's centre; across the whole country
the distortion at the far edge stays under 0.1 %, well below what a display
or a bandwidth in metres needs.
"""

from __future__ import annotations

from functools import cache

from pyproj import Transformer

WGS84 = 4326
WEB_MERCATOR = 3857
UTM_28N = 32628
UTM_29N = 32629


def utm_epsg(lon: float, lat: float = 10.0) -> int:
    """EPSG code of the northern-hemisphere UTM zone holding longitude ``lon``."""
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude out of range: {lon}")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def utm_epsg_for(west: float, south: float, east: float, north: float) -> int:
    """EPSG code of the UTM zone of a lon/lat box's centre (28N or 29N inside Guinea)."""
    return utm_epsg((west + east) / 2.0, (south + north) / 2.0)


@cache
def transformer(src: int, dst: int) -> Transformer:
    """A cached, always-xy (lon, lat order) transformer between two EPSG codes."""
    return Transformer.from_crs(src, dst, always_xy=True)
