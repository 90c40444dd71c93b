"""SQL is built from bound parameters only: quote-laden text in every filter finds nothing and breaks nothing.

Each filter that reaches SQL gets strings made to close a quote, comment out the rest or
chain a statement (and a backslash, LIKE wildcards and NUL). The answer must be the same as
for an ordinary value that matches nothing (or a clear refusal where a name is checked against
the schema), text written with quotes must read back exactly, and every table must be intact
afterwards. Both backends (the ``store`` fixture). A static check completes it: every string
handed to ``text()``/``exec_driver_sql``/``execute`` that is built with an f-string, ``%``,
``+`` or ``.format`` is on an allow-list whose inputs are constants or identifiers the code makes.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

import geopandas as gpd
import shapely

from storage import Store
from storage.programme import ProgrammeFilter
from storage.queries import IncidentFilter, Viewer
from storage.roads import CrashFilter

ROOT = Path(__file__).resolve().parents[2]
SQL_PAYLOADS = (
    "' OR '1'='1",
    "\"; DROP TABLE incident; --",
    "'; DROP TABLE incident; --",
    "x' UNION SELECT name FROM sqlite_master --",
    "1) OR (1=1",
    "\\",
    "\\'",
    "%",
    "_",
    "ʼ OR ʼ1ʼ=ʼ1",
    "\x00",
    "vol\x00' OR '1'='1",
)
#: A value of the same type that matches nothing: the answer every payload must give.
NOTHING = "zz-nothing"
ALL = Viewer(name="tester", can_see_sensitive=True)
KALOUM = {"region_id": "GN-C", "prefecture_id": "GN-C", "subprefecture_id": "GN-C-KALOUM"}
#: What a driver may raise when it refuses a value outright (PostgreSQL refuses NUL in text).
DRIVER_REFUSALS = (sa.exc.DataError, sa.exc.StatementError, ValueError)


def _has_nul(text: str) -> bool:
    return "\x00" in text


def _fill(store: Store) -> None:
    """A little of everything, with quotes in the stored text too."""
    incidents = pd.DataFrame({
        "source_id": ["S1", "S2", "S'3"], "occurred_at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-01-04"],
                                                                       utc=True),
        "category": ["vol", "agression", "vbg"], "sensitive": [False, False, True],
        "description": ["porte forcée", "l'agresseur a fui", "--"], "place_name": ["Marché", "O'Neil", None],
        "lon": [-13.71, -13.70, -13.69], "lat": [9.51, 9.52, 9.53], "precision": ["point"] * 3,
        **{k: [v] * 3 for k, v in KALOUM.items()},
    })
    crashes = pd.DataFrame({"occurred_at": pd.to_datetime(["2026-01-05", "2026-02-01"], utc=True),
                            "severity": ["fatal", "slight"], "road_name": ["RN1", "Route d'O'Neil"],
                            "lon": [-13.6, -13.5], "lat": [9.6, 9.7], **{k: [v] * 2 for k, v in KALOUM.items()}})
    station = pd.DataFrame([{"id": 1, "name": "Poste d'Almamya", "kind": "poste", **KALOUM, "lon": -13.71,
                             "lat": 9.51}])
    council = pd.DataFrame([{"id": 1, "name": "CLSPD de Kaloum", "unit_level": "subprefecture",
                             "unit_id": "GN-C-KALOUM", **KALOUM}])
    instructor = pd.DataFrame({"id": [1], "name": ["Formateur 1"]})
    store.write({"incident": incidents, "road_crash": crashes, "station": station, "council": council,
                 "instructor": instructor}, kind="test")
    store.save_mapping("incidents", "Registre d'Almamya", '{"fields": {}}')
    road = shapely.LineString([(-13.71, 9.51), (-13.70, 9.515)])
    store.write_roads(gpd.GeoDataFrame({"name": ["Route d'O'Neil"], "length_m": [1200.0]}, geometry=[road],
                                       crs="EPSG:4326"), file_name="routes'.geojson")
    store.add_neighbourhood("Quartier d'en haut", shapely.box(-13.712, 9.508, -13.708, 9.512))


def _snapshot(store: Store) -> tuple[dict[str, int], list[str], pd.DataFrame]:
    tables = sorted(sa.inspect(store.engine).get_table_names())
    return store.counts(), tables, store.read("incident")


def _frames_equal(got: object, expected: object, what: str) -> None:
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, obj=what)
    elif isinstance(expected, dict) and expected and isinstance(next(iter(expected.values())), pd.DataFrame):
        assert got.keys() == expected.keys(), what
        for key in expected:
            pd.testing.assert_frame_equal(got[key], expected[key], obj=f"{what}[{key}]")
    else:
        assert got == expected, what


#: Filters whose text reaches SQL as a value: ``call(store, text)``; the payload must answer like NOTHING.
VALUE_FILTERS: dict[str, Callable[[Store, str], object]] = {
    "IncidentFilter.categories points": lambda s, v: s.incident_points(IncidentFilter(categories=(v,)), ALL),
    "IncidentFilter.categories counts": lambda s, v: s.incident_counts(IncidentFilter(categories=(v, "vol")), ALL,
                                                                       by="subprefecture_id"),
    "IncidentFilter.units": lambda s, v: s.incident_points(IncidentFilter(units=(("region", v),
                                                                                 ("subprefecture", v))), ALL),
    "ProgrammeFilter.units": lambda s, v: s.programme_frames(ProgrammeFilter(units=(("prefecture", v),))),
    "CrashFilter.units": lambda s, v: s.crashes(CrashFilter(units=(("subprefecture", v),))),
    "Store.read where": lambda s, v: s.read("station", where={"name": v, "kind": [v, "poste"]}),
    "Store.read where (incident)": lambda s, v: s.read("incident", where={"description": v}),
    "existing_values": lambda s, v: s.existing_values("incident", "source_id", [v, "S1", f"S{v}"]),
    "mappings": lambda s, v: s.mappings(v),
    "batches": lambda s, v: s.batches(v),
    "review_items": lambda s, v: s.review_items(status=v, kind=v),
    "neighbourhoods": lambda s, v: s.neighbourhoods(subprefecture_id=[v, "GN-X"]),
    "road_network batch": lambda s, v: s.road_network(batch_id=s.road_network_batch(), bbox=(-13.72, 9.5, -13.69,
                                                                                            9.52)),
    "neighbourhood_names_taken": lambda s, v: s.neighbourhood_names_taken([(v, "GN-C-KALOUM"),
                                                                          (f"Quartier{v}", v)]),
    "get_user": lambda s, v: s.get_user(v) if hasattr(s, "get_user") else None,
}
#: Arguments that name schema objects or fixed vocabularies: a payload must be refused before any SQL.
REFUSED: dict[str, Callable[[Store, str], object]] = {
    "Store.read table": lambda s, v: s.read(v),
    "Store.read columns": lambda s, v: s.read("incident", columns=["id", v]),
    "Store.read where column": lambda s, v: s.read("incident", where={v: 1}),
    "incident_counts by": lambda s, v: s.incident_counts(IncidentFilter(), ALL, by=v),
    "incident_points columns": lambda s, v: s.incident_points(IncidentFilter(), ALL, columns=("id", v)),
    "IncidentFilter unit level": lambda s, v: s.incident_points(IncidentFilter(units=((v, "GN-C"),)), ALL),
    "ProgrammeFilter unit level": lambda s, v: s.programme_frames(ProgrammeFilter(units=((v, "GN-C"),))),
    "CrashFilter severity": lambda s, v: s.crashes(CrashFilter(severities=(v,))),
    "CrashFilter unit level": lambda s, v: s.crashes(CrashFilter(units=((v, "GN-C"),))),
    "crashes columns": lambda s, v: s.crashes(columns=["id", v]),
    "neighbourhoods bbox": lambda s, v: s.neighbourhoods(bbox=(v, 0, 1, 1)),
    "road_network bbox": lambda s, v: s.road_network(bbox=(0, v, 1, 1)),
    "existing_values table": lambda s, v: s.existing_values(v, "source_id", ["S1"]),
    "existing_values column": lambda s, v: s.existing_values("incident", v, ["S1"]),
    "programme_refs table": lambda s, v: s.programme_refs(v),
}


#: Numbers given as text: bound as parameters too, so the answer is empty or the value is refused (by the
#: code, or by PostgreSQL's type check), never a wider result. (The map page turns the extent it gets from
#: the browser into floats first, so text never reaches these today.)
NUMBERS: dict[str, Callable[[Store, str], object]] = {
    "IncidentFilter bbox": lambda s, v: s.incident_points(IncidentFilter(bbox=(v, v, v, v)), ALL),
    "IncidentFilter bbox counts": lambda s, v: s.incident_counts(IncidentFilter(bbox=(-20, v, 0, v)), ALL,
                                                                 by="region_id"),
}


def test_filters_answer_quote_laden_text_like_any_unknown_value(store: Store):
    _fill(store)
    before = _snapshot(store)
    # The filters do find data for a matching value, so an answer like NOTHING's means "no match".
    assert len(store.incident_points(IncidentFilter(categories=("vol",)), ALL)) == 1
    assert len(store.incident_points(IncidentFilter(units=(("subprefecture", "GN-C-KALOUM"),)), ALL)) == 3
    assert len(store.crashes(CrashFilter(units=(("subprefecture", "GN-C-KALOUM"),)))) == 2
    assert len(store.programme_frames(ProgrammeFilter(units=(("prefecture", "GN-C"),)))["station"]) == 1
    assert store.existing_values("incident", "source_id", ["S'3", "S1", "S9"]) == {"S'3", "S1"}
    assert store.read("station", where={"name": "Poste d'Almamya"})["name"].tolist() == ["Poste d'Almamya"]
    assert store.neighbourhood_names_taken([("Quartier d'en haut", "GN-C-KALOUM")])
    assert len(store.road_network(bbox=(-13.72, 9.5, -13.69, 9.52))) == 1
    failures = []
    for name, call in VALUE_FILTERS.items():
        expected = call(store, NOTHING)
        for payload in SQL_PAYLOADS:
            try:
                got = call(store, payload)
            except DRIVER_REFUSALS as exc:
                if not _has_nul(payload):
                    failures.append(f"{name} with {payload!r}: {type(exc).__name__}: {exc}")
                continue
            try:
                _frames_equal(got, expected, f"{name} with {payload!r}")
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)
    after = _snapshot(store)
    assert after[:2] == before[:2], "tables or row counts changed"
    pd.testing.assert_frame_equal(after[2], before[2])


def test_names_of_schema_objects_are_refused_and_numbers_find_nothing(store: Store):
    _fill(store)
    before = _snapshot(store)
    accepted = []
    for name, call in REFUSED.items():
        for payload in SQL_PAYLOADS:
            try:
                call(store, payload)
            except (ValueError, KeyError, TypeError):
                continue
            accepted.append(f"{name} accepted {payload!r}")
    for name, call in NUMBERS.items():
        for payload in SQL_PAYLOADS:
            try:
                got = call(store, payload)
            except (ValueError, TypeError, sa.exc.DBAPIError, sa.exc.StatementError):
                continue
            if len(got):
                accepted.append(f"{name} with {payload!r} returned {len(got)} rows")
    assert not accepted, "\n".join(accepted)
    after = _snapshot(store)
    assert after[:2] == before[:2]
    pd.testing.assert_frame_equal(after[2], before[2])


def test_quote_laden_text_is_stored_and_read_back_exactly(store: Store):
    """Text goes in as a parameter, so it comes back unchanged (NUL only where the database takes it)."""
    texts = [p for p in SQL_PAYLOADS if store.dialect == "sqlite" or not _has_nul(p)]
    n = len(texts)
    frame = pd.DataFrame({"source_id": texts, "occurred_at": pd.Timestamp("2026-03-01", tz="UTC"),
                          "category": ["vol"] * n, "description": texts, "place_name": texts,
                          "lon": -13.7, "lat": 9.5, **KALOUM})
    store.write({"incident": frame}, kind="test", file_name=texts[0])
    stored = store.read("incident", columns=["source_id", "description", "place_name"])
    assert stored["description"].tolist() == texts and stored["place_name"].tolist() == texts
    # SQLite's json_each cuts a string at NUL (ids with NUL cannot come from a file: the readers refuse them).
    plain = [t for t in texts if not _has_nul(t)]
    assert store.existing_values("incident", "source_id", plain) == set(plain)
    for text in texts:
        store.save_mapping("incidents", text, text)
    assert store.mappings("incidents") == {t: t for t in texts}
    assert store.batches("test")["file_name"].tolist() == [texts[0]]
    sid = store.add_record("station", {"name": f"Poste {texts[1]}", "kind": "poste", "contact": texts[0],
                                       "lon": -13.7105, "lat": 9.5149}, today=dt.date(2026, 6, 1))
    row = store.read("station", where={"id": sid}).iloc[0]
    assert (row["name"], row["contact"]) == (f"Poste {texts[1]}", texts[0])
    assert set(sa.inspect(store.engine).get_table_names()) >= {"incident", "station", "column_mapping"}


def test_user_names_reach_sql_as_parameters(store: Store):
    """Log-in with a quote-laden user name finds no account (and does not raise) when accounts exist."""
    if not hasattr(store, "authenticate"):
        pytest.skip("no accounts in this version of the store")
    from argon2 import PasswordHasher

    store.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # speed, not strength
    for payload in SQL_PAYLOADS:
        if _has_nul(payload) and store.dialect != "sqlite":
            continue
        assert store.authenticate(payload, "' OR '1'='1 password") is None
        assert store.get_user(payload) is None


# --- static check ---------------------------------------------------------------------------------

#: Calls whose first argument is SQL text.
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "executescript", "copy"}
#: Every place SQL text is built from pieces: (file, enclosing function) -> the interpolated expressions,
#: each of which is a constant or an identifier the code itself makes (never a value from a user).
ALLOWED: dict[tuple[str, str], dict[str, str]] = {
    ("storage/store.py", "_sqlite_pragmas"): {
        "SQLITE_BUSY_TIMEOUT_MS": "module constant (int, formatted with :d)",
        "SQLITE_CACHE_KB": "module constant (int, formatted with :d)"},
    ("storage/bulk.py", "stage"): {"alias": "'stage_' + uuid4 hex"},
    ("storage/bulk.py", "_insert_select"): {
        "table.name": "a Table of storage.schema.metadata", "target": "column names quoted by the dialect",
        "picked": "quoted column names and '?' placeholders", "source": "attached alias or temp table name"},
    ("storage/bulk.py", "_via_temp_table"): {
        "temp": "'_stage_' + uuid4 hex", "_quoted(conn, names)": "column names quoted by the dialect",
        "marks": "'?' placeholders"},
    ("storage/bulk.py", "_copy"): {
        "table.name": "a Table of storage.schema.metadata",
        "_quoted(conn, names)": "column names quoted by the dialect",
        "_quoted(conn, [*names, *constants])": "column names (checked against the table) quoted by the dialect"},
    ("storage/bulk.py", "_page_cache_for"): {
        "int(wanted)": "int computed from module constants and a row count",
        "int(usual)": "int read back from PRAGMA cache_size"},
    ("storage/migrations/versions/0001_initial.py", "upgrade"): {"table": "loop over the constant POINT_TABLES"},
    ("storage/backup.py", "_begin_restore"): {
        "PG_LOCK_TIMEOUT": "module constant ('30s')",
        "names": "Table names of the metadata, each quoted by the dialect's identifier preparer"},
}
_SKIP_DIRS = {".venv", "venv", "node_modules", "tests", ".git", "static", "vendor", "build", "dist"}


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _pieces(node: ast.AST) -> list[str] | None:
    """The interpolated expressions of SQL built from pieces, or None for a plain literal/variable."""
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        parts = [_pieces(node.left), _pieces(node.right)]
        found = [p for side in parts if side is not None for p in side]
        sides = (node.left, node.right)
        literal = any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in sides)
        if found or literal:
            others = [ast.unparse(side) for side in sides
                      if not isinstance(side, (ast.Constant, ast.JoinedStr, ast.BinOp))]
            return found + others
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return [ast.unparse(a) for a in node.args] + [ast.unparse(k.value) for k in node.keywords]
    return None


def built_sql(path: Path, root: Path = ROOT) -> list[tuple[str, str, int, list[str]]]:
    """(file, enclosing function, line, interpolated expressions) of SQL calls whose text is built from pieces."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Call) and _called_name(child) in SQL_CALLS and child.args:
                pieces = _pieces(child.args[0])
                if pieces is not None:
                    found.append((path.relative_to(root).as_posix(), function, child.lineno, pieces))
            visit(child, name)

    visit(tree, "<module>")
    return found


def _sources(root: Path = ROOT) -> list[Path]:
    return [p for p in root.rglob("*.py") if not _SKIP_DIRS & set(p.relative_to(root).parts[:-1])]


def test_the_static_check_finds_sql_built_from_pieces(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(conn, sa, name, kind):\n"
        "    conn.exec_driver_sql(f\"SELECT * FROM incident WHERE category = '{name}'\")\n"
        "    conn.execute(sa.text(\"SELECT * FROM t WHERE a = '%s'\" % kind))\n"
        "    conn.execute(sa.text('SELECT 1 WHERE x = ' + name))\n"
        "    conn.execute(sa.text('SELECT {} FROM t'.format(kind)))\n"
        "    conn.execute(sa.text('SELECT :a').bindparams(a=name))\n", encoding="utf-8")
    found = built_sql(sample, tmp_path)
    assert [(line, pieces) for _, _, line, pieces in found] == [(2, ["name"]), (3, ["kind"]), (4, ["name"]),
                                                                (5, ["kind"])]


def test_sql_text_is_built_only_from_constants_and_generated_identifiers():
    unexpected = []
    for path in _sources():
        for file, function, line, pieces in built_sql(path):
            allowed = ALLOWED.get((file, function), {})
            strange = [p for p in pieces if p not in allowed]
            if strange:
                unexpected.append(f"{file}:{line} in {function}(): SQL built from {strange}")
    assert not unexpected, ("SQL built from pieces that are not on the allow-list (use bound parameters, or "
                            "add the place to ALLOWED with why its inputs are safe):\n" + "\n".join(unexpected))
