import pytest

from geo.crs import UTM_28N, UTM_29N, transformer, utm_epsg, utm_epsg_for


@pytest.mark.parametrize(("lon", "expected"), [(-13.7, UTM_28N), (-12.01, UTM_28N), (-11.99, UTM_29N),
                                               (-9.3, UTM_29N), (-8.8, UTM_29N)])
def test_guinea_zones(lon, expected):
    assert utm_epsg(lon, 9.5) == expected


def test_box_uses_its_centre():
    assert utm_epsg_for(-13.8, 9.4, -13.5, 9.7) == UTM_28N  # Conakry
    assert utm_epsg_for(-15.1, 7.2, -7.6, 12.7) == UTM_29N  # all Guinea: centre at -11.35°


def test_out_of_range_longitude():
    with pytest.raises(ValueError):
        utm_epsg(200.0)


def test_transformer_is_cached_and_metric():
    assert transformer(4326, UTM_28N) is transformer(4326, UTM_28N)
    x0, _ = transformer(4326, UTM_28N).transform(-13.0, 9.5)
    x1, _ = transformer(4326, UTM_28N).transform(-12.99, 9.5)
    assert 1090 < x1 - x0 < 1110  # 0.01° of longitude at 9.5° N is about 1.1 km
