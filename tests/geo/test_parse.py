from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.parse import (
    COORD_ERRORS,
    DATE_ERRORS,
    _parse_coord_text,
    _parse_date_text,
    parse_coordinate,
    parse_coordinates,
    parse_dates,
    parse_geopoint,
)

TODAY = dt.date(2025, 6, 30)
PROPS = settings(max_examples=200, deadline=None)


def one_coord(text, axis="lat"):
    row = parse_coordinate([text], axis=axis).iloc[0]
    return row["value"], row["error"]


def one_date(text, dayfirst=True):
    row = parse_dates([text], today=TODAY, dayfirst=dayfirst).iloc[0]
    return row["value"], row["error"], row["has_time"]


def utc(text):
    return pd.Timestamp(text, tz="UTC")


# ---------------------------------------------------------------------------------------------
# Coordinates: examples
# ---------------------------------------------------------------------------------------------

DMS = 9 + 30 / 60 + 45 / 3600  # 9°30'45"

COORD_GOOD = [
    # decimals
    ("9.5123", "lat", 9.5123, 1e-9),
    ("9,5123", "lat", 9.5123, 1e-9),  # French Excel decimal comma
    ("-13,7123", "lon", -13.7123, 1e-9),
    ("  9.5123  ", "lat", 9.5123, 1e-9),
    ("9.5123°", "lat", 9.5123, 1e-9),
    ("9.5123 °", "lat", 9.5123, 1e-9),
    ("9,5123°", "lat", 9.5123, 1e-9),
    ("+9.5", "lat", 9.5, 1e-9),
    ("-13.7", "lon", -13.7, 1e-9),
    ("−13.7", "lon", -13.7, 1e-9),  # Unicode minus sign
    (".5", "lat", 0.5, 1e-9),
    ("9", "lat", 9.0, 1e-9),
    ("1e1", "lat", 10.0, 1e-9),
    ("90", "lat", 90.0, 1e-9),
    ("-180", "lon", -180.0, 1e-9),
    # hemisphere letters and words, before or after
    ("N 9.51", "lat", 9.51, 1e-9),
    ("9.51N", "lat", 9.51, 1e-9),
    ("9.51 n", "lat", 9.51, 1e-9),
    ("9.51 Nord", "lat", 9.51, 1e-9),
    ("S 9.51", "lat", -9.51, 1e-9),
    ("9.51 Sud", "lat", -9.51, 1e-9),
    ("13.7 W", "lon", -13.7, 1e-9),
    ("13.7 O", "lon", -13.7, 1e-9),
    ("13.7 Ouest", "lon", -13.7, 1e-9),
    ("O 13.7", "lon", -13.7, 1e-9),
    ("13,7 O", "lon", -13.7, 1e-9),
    ("13.7E", "lon", 13.7, 1e-9),
    ("13.7 Est", "lon", 13.7, 1e-9),
    ("-13.7 W", "lon", -13.7, 1e-9),  # redundant sign agreeing with the hemisphere
    ("13.7° W", "lon", -13.7, 1e-9),
    # degrees, minutes, seconds
    ("9°30'45\"N", "lat", DMS, 1e-6),
    ("9° 30' 45.5\" N", "lat", 9 + 30 / 60 + 45.5 / 3600, 1e-6),
    ("9 30 45 N", "lat", DMS, 1e-6),
    ("9:30:45N", "lat", DMS, 1e-6),
    ("9°30′45″N", "lat", DMS, 1e-6),
    ("9°30’45”N", "lat", DMS, 1e-6),
    ("9°30'45''N", "lat", DMS, 1e-6),
    ("9º30'45\"N", "lat", DMS, 1e-6),  # masculine ordinal typed for a degree sign
    ("N 9°30'45\"", "lat", DMS, 1e-6),
    ("9°30'45,5\"N", "lat", 9 + 30 / 60 + 45.5 / 3600, 1e-6),
    ("13°42'30\"O", "lon", -(13 + 42 / 60 + 30 / 3600), 1e-6),
    ("13°42'30\" Ouest", "lon", -(13 + 42 / 60 + 30 / 3600), 1e-6),
    ("-13°42'30\"", "lon", -(13 + 42 / 60 + 30 / 3600), 1e-6),
    # degrees and decimal minutes
    ("9°30.75'N", "lat", DMS, 1e-6),
    ("9° 30,75' N", "lat", DMS, 1e-6),
    ("9 30.75 N", "lat", DMS, 1e-6),
    # numbers pass through
    (9.5123, "lat", 9.5123, 1e-9),
    (-13, "lon", -13.0, 1e-9),
    (np.float32(9.5), "lat", 9.5, 1e-9),
]


@pytest.mark.parametrize("text,axis,expected,tol", COORD_GOOD)
def test_coordinate_formats(text, axis, expected, tol):
    value, error = one_coord(text, axis)
    assert error is None
    assert abs(value - expected) <= tol


COORD_BAD = [
    ("", "lat", "coord_missing"),
    ("   ", "lat", "coord_missing"),
    (None, "lat", "coord_missing"),
    (float("nan"), "lat", "coord_missing"),
    ("NA", "lat", "coord_missing"),
    ("n/a", "lat", "coord_missing"),
    ("-", "lat", "coord_missing"),
    ("nan", "lat", "coord_missing"),
    ("13.7 E", "lat", "coord_hemisphere_mismatch"),
    ("13.7 O", "lat", "coord_hemisphere_mismatch"),
    ("9.5 N", "lon", "coord_hemisphere_mismatch"),
    ("9°30'45\"S", "lon", "coord_hemisphere_mismatch"),
    ("91", "lat", "coord_out_of_range"),
    ("-90.0001", "lat", "coord_out_of_range"),
    ("180.5", "lon", "coord_out_of_range"),
    ("95°N", "lat", "coord_out_of_range"),
    (200, "lon", "coord_out_of_range"),
    (float("inf"), "lon", "coord_out_of_range"),
    ("9°60'N", "lat", "coord_unparseable"),
    ("9°30'60\"N", "lat", "coord_unparseable"),
    ("9°75.5'N", "lat", "coord_unparseable"),
    ("9,5,3", "lat", "coord_unparseable"),
    ("1.234,5", "lat", "coord_unparseable"),
    ("9.5.3", "lat", "coord_unparseable"),
    ("abc", "lat", "coord_unparseable"),
    ("N 9.5 N", "lat", "coord_unparseable"),
    ("-9.5 N", "lat", "coord_unparseable"),  # sign contradicts hemisphere
    ("9.5 X", "lat", "coord_unparseable"),
    ("inf", "lat", "coord_unparseable"),
    ("9.5°30'", "lat", "coord_unparseable"),
    (True, "lat", "coord_unparseable"),
    ("9 " * 100, "lat", "coord_unparseable"),
    ("9" * 400, "lat", "coord_out_of_range"),  # a (huge) plain number
]


@pytest.mark.parametrize("text,axis,code", COORD_BAD)
def test_coordinate_errors(text, axis, code):
    value, error = one_coord(text, axis)
    assert error == code
    assert math.isnan(value)


def test_coordinate_frame_shape_and_dtypes():
    s = pd.Series(["9.5", None, "x"], index=[10, 20, 30])
    out = parse_coordinate(s, axis="lat")
    assert list(out.columns) == ["value", "error"]
    assert out["value"].dtype == np.float64
    assert out["error"].dtype == object
    assert isinstance(out.index, pd.RangeIndex)
    assert out["error"].tolist() == [None, "coord_missing", "coord_unparseable"]
    assert parse_coordinate([], axis="lon").shape == (0, 2)


def test_coordinate_mixed_series_fast_path_does_not_swallow_fallback_rows():
    cells = ["9,5", "9.5", "9°30'N", "N 9.5", 9.5, "9 30 N", None, "9,5,3", "10,25", "10.25"]
    expected = [9.5, 9.5, 9.5, 9.5, 9.5, 9.5, np.nan, np.nan, 10.25, 10.25]
    for values in (cells, pd.Series(cells, dtype=object)):
        out = parse_coordinate(values, axis="lat")
        np.testing.assert_allclose(out["value"], expected, atol=1e-9)
        assert (
            out["error"].tolist()
            == [None] * 6 + ["coord_missing", "coord_unparseable"] + [None] * 2
        )
    # A whole French Excel column (decimal comma) and a pandas "str" column.
    out = parse_coordinate(pd.Series(["9,5", "10,25", "-0,5"]), axis="lat")
    assert out["value"].tolist() == [9.5, 10.25, -0.5]
    out = parse_coordinate(pd.Series(["9.5", None, "1e1"], dtype="str"), axis="lat")
    assert out["error"].tolist() == [None, "coord_missing", None]


def test_numeric_columns_pass_through():
    out = parse_coordinate(pd.Series([9.5, np.nan, 100.0]), axis="lat")
    assert out["value"].tolist()[0] == 9.5
    assert out["error"].tolist() == [None, "coord_missing", "coord_out_of_range"]
    out = parse_coordinate(pd.Series([9, None], dtype="Int64"), axis="lat")
    assert out["error"].tolist() == [None, "coord_missing"]


def test_parse_coordinates_pairs():
    out = parse_coordinates(["9.5", "x", "9.5", "9°30'N"], ["-13.7", "200", "999", "13°42'W"])
    assert list(out.columns) == ["lat", "lon", "error"]
    assert out["error"].tolist() == [None, "coord_unparseable", "coord_out_of_range", None]
    assert out["lat"].iloc[0] == 9.5 and out["lon"].iloc[0] == -13.7
    assert math.isnan(out["lat"].iloc[1]) and math.isnan(out["lon"].iloc[2])
    assert abs(out["lon"].iloc[3] + 13.7) < 1e-9


@pytest.mark.parametrize(
    "call",
    [
        lambda: parse_coordinates(["9.5"], ["1", "2"]),
        lambda: parse_coordinate(["9.5"], axis="x"),
        lambda: parse_coordinate("9.5", axis="lat"),
        lambda: parse_coordinate(9.5, axis="lat"),
        lambda: parse_coordinate(np.zeros((2, 2)), axis="lat"),
        lambda: parse_dates(["2024-01-01"], today="2025-01-01"),
        lambda: parse_geopoint("9.5 -13.7"),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------------------------------------
# Geopoints
# ---------------------------------------------------------------------------------------------

GEOPOINT_GOOD = [
    ("9.5123 -13.7123 12.5 5", (9.5123, -13.7123, 12.5, 5.0)),
    ("9.5123 -13.7123 0 0", (9.5123, -13.7123, 0.0, 0.0)),
    ("9.5123 -13.7123 12.5", (9.5123, -13.7123, 12.5, None)),
    ("9.5123 -13.7123", (9.5123, -13.7123, None, None)),
    ("  9.5123   -13.7123 ", (9.5123, -13.7123, None, None)),
    ("9.5123,-13.7123", (9.5123, -13.7123, None, None)),
    ("9.5123, -13.7123", (9.5123, -13.7123, None, None)),
    ("9.5123;-13.7123", (9.5123, -13.7123, None, None)),
    ("9,5123;-13,7123", (9.5123, -13.7123, None, None)),
    ("9,5123 -13,7123 0 0", (9.5123, -13.7123, 0.0, 0.0)),
]


@pytest.mark.parametrize("text,expected", GEOPOINT_GOOD)
def test_geopoint_formats(text, expected):
    row = parse_geopoint([text]).iloc[0]
    assert row["error"] is None
    for name, want in zip(("lat", "lon", "alt", "accuracy"), expected, strict=True):
        if want is None:
            assert math.isnan(row[name])
        else:
            assert abs(row[name] - want) <= 1e-9


@pytest.mark.parametrize(
    "text,code",
    [
        ("", "coord_missing"),
        (None, "coord_missing"),
        ("9.5", "coord_unparseable"),
        (9.5, "coord_unparseable"),
        ("9,5,-13,7", "coord_unparseable"),
        ("9,5", "coord_unparseable"),  # one decimal-comma number, not "lat,lon"
        ("9.5 -13.7 0 0 0", "coord_unparseable"),
        ("9.5 -13.7 0 0;9.6 -13.8 0 0", "coord_unparseable"),  # a geotrace, not a point
        ("9.5 abc", "coord_unparseable"),
        ("95 -13.7", "coord_out_of_range"),
        ("9.5 -190", "coord_out_of_range"),
    ],
)
def test_geopoint_errors(text, code):
    row = parse_geopoint([text]).iloc[0]
    assert row["error"] == code
    assert row[["lat", "lon", "alt", "accuracy"]].isna().all()


def test_geopoint_frame():
    out = parse_geopoint(pd.Series(["9.5 -13.7 1 2", "9,5;-13,7", None, "x"]))
    assert list(out.columns) == ["lat", "lon", "alt", "accuracy", "error"]
    assert out["error"].tolist() == [None, None, "coord_missing", "coord_unparseable"]
    assert out["lat"].tolist()[:2] == [9.5, 9.5]


# ---------------------------------------------------------------------------------------------
# Dates: examples
# ---------------------------------------------------------------------------------------------

DATE_GOOD = [
    # ISO and Kobo
    ("2024-03-12", "2024-03-12", False),
    ("2024-03-12 14:30", "2024-03-12 14:30", True),
    ("2024-03-12T14:30:00Z", "2024-03-12 14:30", True),
    ("2024-03-12T14:30:00+00:00", "2024-03-12 14:30", True),
    ("2024-03-12T14:30:00.123+00:00", "2024-03-12 14:30:00.123", True),
    ("2024-03-12T14:30:00+01:00", "2024-03-12 13:30", True),  # offsets are converted to UTC
    ("2024-03-12T00:00:00Z", "2024-03-12", True),
    (" 2024-03-12 ", "2024-03-12", False),
    ("2024/03/12", "2024-03-12", False),
    # day first, separators, 2-digit years
    ("12/03/2024", "2024-03-12", False),
    ("12-03-2024", "2024-03-12", False),
    ("12.03.2024", "2024-03-12", False),
    ("3/4/2024", "2024-04-03", False),
    ("03/04/2024", "2024-04-03", False),
    ("3/4/24", "2024-04-03", False),
    ("1/1/00", "2000-01-01", False),
    ("1/1/70", "1970-01-01", False),
    ("31/12/99", "1999-12-31", False),
    ("12/03/2024 14:30", "2024-03-12 14:30", True),
    ("12/03/2024 14:30:15", "2024-03-12 14:30:15", True),
    ("12/03/2024 14h30", "2024-03-12 14:30", True),
    # Excel serials (origin 1899-12-30)
    (45363, "2024-03-12", False),
    (45363.0, "2024-03-12", False),
    ("45363", "2024-03-12", False),
    (45363.5, "2024-03-12 12:00", True),
    (45363.604166666664, "2024-03-12 14:30", True),
    ("45363,5", "2024-03-12 12:00", True),
    # French month names
    ("12 mars 2024", "2024-03-12", False),
    ("12 MARS 2024", "2024-03-12", False),
    ("1er janvier 2023", "2023-01-01", False),
    ("3 Févr. 2024", "2024-02-03", False),
    ("3 fevrier 2024", "2024-02-03", False),
    ("15 août 2023", "2023-08-15", False),
    ("15 aout 2023", "2023-08-15", False),
    ("15 AOÛT 2023", "2023-08-15", False),
    ("25 décembre 2023", "2023-12-25", False),
    ("25 decembre 2023", "2023-12-25", False),
    ("5 juil. 2021", "2021-07-05", False),
    ("mardi 12 mars 2024", "2024-03-12", False),
    ("12 mars 2024 à 14h30", "2024-03-12 14:30", True),
    ("12-mars-24", "2024-03-12", False),
    # English month names
    ("12 March 2024", "2024-03-12", False),
    ("March 12, 2024", "2024-03-12", False),
    ("12 Mar 2024", "2024-03-12", False),
    ("12-Mar-2024", "2024-03-12", False),
    ("Sept 1st 2023", "2023-09-01", False),
    ("March 12, 2024, 2:30 pm", "2024-03-12 14:30", True),
    # objects
    (dt.date(2024, 3, 12), "2024-03-12", False),
    (dt.datetime(2024, 3, 12, 14, 30), "2024-03-12 14:30", True),
    (pd.Timestamp("2024-03-12 14:30", tz="Africa/Conakry"), "2024-03-12 14:30", True),
    # bounds
    ("1950-01-01", "1950-01-01", False),
    ("2025-06-30 23:59", "2025-06-30 23:59", True),
    ("29/02/2024", "2024-02-29", False),
]


@pytest.mark.parametrize("text,expected,has_time", DATE_GOOD)
def test_date_formats(text, expected, has_time):
    value, error, got_time = one_date(text)
    assert error is None
    assert value == utc(expected)
    assert got_time is has_time or got_time == has_time


def test_month_first_when_dayfirst_false():
    assert one_date("03/04/2024", dayfirst=False)[0] == utc("2024-03-04")
    assert one_date("03/04/2024", dayfirst=True)[0] == utc("2024-04-03")
    assert one_date("12/25/2024", dayfirst=False)[0] == utc("2024-12-25")
    assert one_date("12/25/2024", dayfirst=True)[1] == "date_impossible"


DATE_BAD = [
    ("", "date_missing"),
    ("  ", "date_missing"),
    (None, "date_missing"),
    (float("nan"), "date_missing"),
    (pd.NaT, "date_missing"),
    ("NA", "date_missing"),
    ("-", "date_missing"),
    ("31/02/2024", "date_impossible"),
    ("2024-13-01", "date_impossible"),
    ("29/02/2023", "date_impossible"),
    ("2024-02-30", "date_impossible"),
    ("31 avril 2024", "date_impossible"),
    ("00/01/2024", "date_impossible"),
    ("12/03/2024 25:00", "date_impossible"),
    ("2024-03-12T14:60:00Z", "date_impossible"),
    ("2024-03-12T14:30:00+01:75", "date_impossible"),
    ("2025-07-01", "date_future"),
    ("2025-06-30T23:30:00-01:00", "date_future"),  # 2025-07-01 00:30 UTC = Guinea time
    ("1/1/69", "date_future"),  # 2069
    ("80000", "date_future"),
    ("31/12/1949", "date_too_old"),
    ("1949-12-31T23:59:59Z", "date_too_old"),
    (1, "date_too_old"),
    ("2024", "date_too_old"),  # a bare number is an Excel serial: 1905-07-16
    (0, "date_unparseable"),
    (-5, "date_unparseable"),
    (80001, "date_unparseable"),
    (float("inf"), "date_unparseable"),
    (True, "date_unparseable"),
    ("garbage", "date_unparseable"),
    ("12 foo 2024", "date_unparseable"),
    ("mars 2024", "date_unparseable"),
    ("12/03-2024", "date_unparseable"),
    ("2024-03", "date_unparseable"),
    ("12/03/202", "date_unparseable"),
    ("2024-03-12 garbage", "date_unparseable"),
]


@pytest.mark.parametrize("text,code", DATE_BAD)
def test_date_errors(text, code):
    value, error, has_time = one_date(text)
    assert error == code
    assert value is pd.NaT
    assert has_time is False or has_time == False  # noqa: E712 (numpy bool)


def test_date_frame_shape_and_dtypes():
    out = parse_dates(pd.Series(["2024-03-12", None], index=[7, 8]), today=TODAY)
    assert list(out.columns) == ["value", "error", "has_time"]
    assert str(out["value"].dtype) == "datetime64[ns, UTC]"
    assert out["error"].dtype == object and out["has_time"].dtype == bool
    assert isinstance(out.index, pd.RangeIndex)
    assert parse_dates([], today=TODAY).shape == (0, 3)


def test_date_mixed_series():
    cells = [
        "2024-03-12",
        "12/03/2024",
        "12 mars 2024",
        45363,
        "45363",
        "March 12, 2024",
        "12.03.2024",
        "31/02/2024",
        None,
        "2024-03-12T14:30:00Z",
        "12/03/24",
    ]
    for values in (cells, pd.Series(cells, dtype=object)):
        out = parse_dates(values, today=TODAY)
        assert out["error"].tolist() == [None] * 7 + ["date_impossible", "date_missing", None, None]
        days = out["value"].dt.strftime("%Y-%m-%d").tolist()
        assert days[:7] == ["2024-03-12"] * 7 and days[9:] == ["2024-03-12"] * 2
        assert out["has_time"].tolist() == [False] * 9 + [True, False]


def test_datetime64_columns():
    naive = pd.Series(
        [pd.Timestamp("2024-03-12 10:00"), pd.NaT, pd.Timestamp("1965-05-05 12:00:00.5")]
    )
    out = parse_dates(naive, today=TODAY)
    assert out["value"].tolist()[0] == utc("2024-03-12 10:00")
    assert out["value"].tolist()[2] == utc("1965-05-05 12:00:00.5")
    assert out["error"].tolist() == [None, "date_missing", None]
    aware = pd.Series(pd.to_datetime(["2024-03-12 10:00+01:00"]))
    assert parse_dates(aware, today=TODAY)["value"].iloc[0] == utc("2024-03-12 09:00")


# ---------------------------------------------------------------------------------------------
# Fast path and per-value fallback implement the same grammar
# ---------------------------------------------------------------------------------------------


@PROPS
@given(st.floats(-200, 200, allow_nan=False), st.integers(0, 12), st.booleans())
def test_fast_and_fallback_agree_on_decimals(x, decimals, comma):
    text = f"{x:.{decimals}f}"
    if comma:
        text = text.replace(".", ",")
    value, error, _ = _parse_coord_text(text)
    assert error == 0
    assert parse_coordinate([text], axis="lon")["value"].iloc[0] == value or abs(value) > 180


def _fallback_timestamp(text):
    parts = _parse_date_text(text, True)
    assert isinstance(parts, tuple), parts
    y, m, d, hh, mm, ss, ns, off, _ = parts
    base = pd.Timestamp(dt.datetime(y, m, d, hh, mm, ss), tz="UTC")
    return base + pd.Timedelta(nanoseconds=ns) - pd.Timedelta(minutes=off)


@PROPS
@given(
    st.datetimes(dt.datetime(1950, 1, 2), dt.datetime(2025, 6, 29)),
    st.sampled_from(["iso", "dmy"]),
    st.sampled_from(["", "T", " "]),
    st.sampled_from(["", ":%S", ":%S.%f"]),
    st.sampled_from(["", "Z", "+01:00", "-0230", "+03"]),
    st.sampled_from(["/", "-", "."]),
)
def test_fast_and_fallback_agree_on_iso_and_dmy(moment, shape, sep, secs, tz, dmy_sep):
    if shape == "iso":
        text = moment.strftime("%Y-%m-%d")
        if sep:
            text += sep + moment.strftime("%H:%M" + secs) + tz
    else:
        text = f"{moment.day}{dmy_sep}{moment.month}{dmy_sep}{moment.year}"
        if sep == " ":
            text += moment.strftime(" %H:%M" + secs)
    value, error, _ = one_date(text)
    assert error is None
    assert value == _fallback_timestamp(text)


# ---------------------------------------------------------------------------------------------
# Property: formatted coordinates parse back
# ---------------------------------------------------------------------------------------------

HEMISPHERES = {
    ("lat", False): ["N", "n", "Nord", "NORD"],
    ("lat", True): ["S", "s", "Sud"],
    ("lon", False): ["E", "Est", "est"],
    ("lon", True): ["W", "O", "Ouest", "OUEST"],
}
DMS_SPELLINGS = [
    "{d}°{m}'{s}\"{h}",
    "{d}° {m}' {s}\" {h}",
    "{d} {m} {s} {h}",
    "{d}:{m}:{s}{h}",
    "{d}°{m}′{s}″{h}",
    "{d}°{m}’{s}”{h}",
    "{d}°{m}'{s}''{h}",
    "{h} {d}°{m}'{s}\"",
    "{h}{d} {m} {s}",
]
DDM_SPELLINGS = ["{d}°{m}'{h}", "{d}° {m}' {h}", "{d} {m} {h}", "{d}:{m}{h}", "{h} {d}°{m}′"]


@st.composite
def formatted_coordinates(draw):
    """(text, axis, expected value, tolerance) for a random coordinate in a random spelling."""
    axis = draw(st.sampled_from(["lat", "lon"]))
    limit = 90.0 if axis == "lat" else 180.0
    x = draw(st.floats(-limit, limit, allow_nan=False))
    style = draw(st.sampled_from(["decimal", "dms", "ddm"]))
    if style == "decimal":
        decimals = draw(st.integers(0, 10))
        text = f"{x:.{decimals}f}"
        expected = float(text)
        assert abs(expected - x) <= 0.5 * 10.0**-decimals + 1e-9
        if draw(st.booleans()):
            text = text.replace(".", ",")
        return text, axis, expected, 1e-9
    negative = math.copysign(1.0, x) < 0
    hemi = draw(st.sampled_from(HEMISPHERES[axis, negative]))
    a = abs(x)
    d = int(a)
    if style == "dms":
        m = int((a - d) * 60)
        s = round(((a - d) * 60 - m) * 60, 2)
        if s >= 60:
            s, m = s - 60, m + 1
        if m >= 60:
            m, d = m - 60, d + 1
        s_text = f"{s:.2f}" if draw(st.booleans()) else f"{s:g}"
        if draw(st.booleans()):
            s_text = s_text.replace(".", ",")
        text = draw(st.sampled_from(DMS_SPELLINGS)).format(d=d, m=m, s=s_text, h=hemi)
        magnitude = d + m / 60 + float(s_text.replace(",", ".")) / 3600
        rounding = 0.005 / 3600
    else:
        m = round((a - d) * 60, 4)
        if m >= 60:
            m, d = m - 60, d + 1
        text = draw(st.sampled_from(DDM_SPELLINGS)).format(d=d, m=f"{m:.4f}", h=hemi)
        magnitude = d + m / 60
        rounding = 0.00005 / 60
    assert abs(magnitude - a) <= rounding + 1e-9
    return text, axis, -magnitude if negative else magnitude, 1e-6


@PROPS
@given(formatted_coordinates())
def test_formatted_coordinates_parse_back(case):
    text, axis, expected, tol = case
    value, error = one_coord(text, axis)
    assert error is None, text
    assert abs(value - expected) <= tol, text


# ---------------------------------------------------------------------------------------------
# Property: formatted dates parse back
# ---------------------------------------------------------------------------------------------

FRENCH_MONTHS = {
    1: ["janvier", "Janvier", "JANVIER", "janv.", "janv"],
    2: ["février", "fevrier", "Février", "févr.", "fév.", "FÉVRIER"],
    3: ["mars", "Mars", "MARS"],
    4: ["avril", "avr.", "Avril"],
    5: ["mai", "Mai", "MAI"],
    6: ["juin", "Juin"],
    7: ["juillet", "juil.", "Juillet"],
    8: ["août", "aout", "Août", "AOÛT"],
    9: ["septembre", "sept.", "Septembre"],
    10: ["octobre", "oct.", "Octobre"],
    11: ["novembre", "nov.", "Novembre"],
    12: ["décembre", "decembre", "déc.", "DÉCEMBRE"],
}
ENGLISH_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
EXCEL_ORIGIN = dt.date(1899, 12, 30)


@st.composite
def formatted_dates(draw):
    day = draw(st.dates(dt.date(1950, 1, 1), TODAY))
    style = draw(
        st.sampled_from(["iso", "dmy", "french", "english", "english_us", "serial", "serial_str"])
    )
    if style == "iso":
        return day, day.isoformat()
    if style == "dmy":
        return day, f"{day.day:02d}/{day.month:02d}/{day.year}"
    if style == "french":
        first = "1er" if day.day == 1 and draw(st.booleans()) else str(day.day)
        return day, f"{first} {draw(st.sampled_from(FRENCH_MONTHS[day.month]))} {day.year}"
    name = ENGLISH_MONTHS[day.month - 1]
    if draw(st.booleans()):
        name = name[:3]
    if style == "english":
        return day, f"{day.day} {name} {day.year}"
    if style == "english_us":
        return day, f"{name} {day.day}, {day.year}"
    serial = (day - EXCEL_ORIGIN).days
    return day, serial if style == "serial" else str(serial)


@PROPS
@given(formatted_dates())
def test_formatted_dates_parse_back(case):
    day, text = case
    value, error, has_time = one_date(text)
    assert error is None, text
    assert value.date() == day, text
    assert not has_time


# ---------------------------------------------------------------------------------------------
# Property: arbitrary input never raises and yields a value or a documented code
# ---------------------------------------------------------------------------------------------

ANY_CELL = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 .,:;/-+°'\"NSEWOnsewo′″’”", max_size=20),
    st.none(),
    st.floats(),
    st.integers(),
    st.booleans(),
)


def check_coordinate_frame(out, value_columns, *, pair=False):
    for _, row in out.iterrows():
        if row["error"] is None:
            assert all(np.isfinite(row[c]) for c in value_columns[:2])
        elif pair:  # only the failing axis of a pair is NaN
            assert row["error"] in COORD_ERRORS
            assert math.isnan(row["lat"]) or math.isnan(row["lon"])
        else:
            assert row["error"] in COORD_ERRORS
            assert all(math.isnan(row[c]) for c in value_columns)


@PROPS
@given(st.lists(ANY_CELL, max_size=6))
def test_arbitrary_cells_never_raise(cells):
    for axis in ("lat", "lon"):
        check_coordinate_frame(parse_coordinate(cells, axis=axis), ["value"])
    check_coordinate_frame(parse_coordinates(cells, cells), ["lat", "lon"], pair=True)
    check_coordinate_frame(parse_geopoint(cells), ["lat", "lon", "alt", "accuracy"])
    out = parse_dates(cells, today=TODAY)
    for _, row in out.iterrows():
        if row["error"] is None:
            assert row["value"] is not pd.NaT
        else:
            assert row["error"] in DATE_ERRORS
            assert row["value"] is pd.NaT and not row["has_time"]


@PROPS
@given(st.text())
def test_arbitrary_text_never_raises(text):
    value, error = one_coord(text)
    assert (error is None and np.isfinite(value)) or error in COORD_ERRORS
    value, error, _ = one_date(text)
    assert (error is None and value is not pd.NaT) or error in DATE_ERRORS


# ---------------------------------------------------------------------------------------------
# Property: a column parses like its cells one by one
# ---------------------------------------------------------------------------------------------

PLAIN_DECIMALS = st.floats(-100, 100, allow_nan=False).map(lambda x: f"{x:.5f}")
COORD_CELLS = st.one_of(
    PLAIN_DECIMALS,
    PLAIN_DECIMALS.map(lambda t: t.replace(".", ",")),
    formatted_coordinates().map(lambda c: c[0]),
    st.text(max_size=12),
    st.none(),
    st.floats(-200, 200),
)
DATE_CELLS = st.one_of(
    formatted_dates().map(lambda c: c[1]),
    st.datetimes(dt.datetime(1940, 1, 1), dt.datetime(2030, 1, 1)).map(
        lambda m: m.isoformat(timespec="milliseconds") + "Z"
    ),
    st.datetimes(dt.datetime(1940, 1, 1), dt.datetime(2030, 1, 1)).map(
        lambda m: m.strftime("%d/%m/%Y %H:%M")
    ),
    st.text(max_size=12),
    st.none(),
    st.floats(-10, 90000),
)


@PROPS
@given(st.lists(COORD_CELLS, max_size=6), st.sampled_from(["lat", "lon"]))
def test_coordinate_column_equals_cells(cells, axis):
    whole = parse_coordinate(cells, axis=axis)
    for i, cell in enumerate(cells):
        value, error = one_coord(cell, axis)
        assert whole["error"].iloc[i] == error
        assert (math.isnan(value) and math.isnan(whole["value"].iloc[i])) or whole["value"].iloc[
            i
        ] == value
    geo_whole = parse_geopoint(cells)
    for i, cell in enumerate(cells):
        assert geo_whole["error"].iloc[i] == parse_geopoint([cell])["error"].iloc[0]


@PROPS
@given(st.lists(DATE_CELLS, max_size=6), st.booleans())
def test_date_column_equals_cells(cells, dayfirst):
    whole = parse_dates(cells, today=TODAY, dayfirst=dayfirst)
    for i, cell in enumerate(cells):
        value, error, has_time = one_date(cell, dayfirst)
        assert whole["error"].iloc[i] == error
        assert whole["value"].iloc[i] is value or whole["value"].iloc[i] == value
        assert whole["has_time"].iloc[i] == has_time
