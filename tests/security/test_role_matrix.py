"""Every role against every route by which incident data leaves the server, on SQLite and PostGIS.

One sensitive report (rape, category ``viol``) is planted in Dixinn (Conakry) at a coordinate
nothing else shares, with six thefts in the same H3 cell, plus sensitive reports in Kankan: five
in one cell (the suppression threshold: shown as a count) and two alone in another (hidden).
For each role the test reads what each route hands out -- store queries, the map layer's HTML,
the incident exports (CSV, GeoJSON, GeoPackage), the hot-spot tables and files, the PDF brief,
the command line -- and checks that the planted coordinate (to 4 decimals, with a point or a
French comma), its description and its id reach only the roles allowed to see it as a point,
and that everyone else gets the cell's count without it. The pages are checked with AppTest:
the menu of each role, and the administration page refusing whoever reaches it without the role.

Expected answers are written out here (who may see what), not derived from ``storage.roles``.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pypdf
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import folium

from exchange import hotspots as hs
from exchange.export import export
from exchange.service import import_incidents
from geo import cells
from geo.taxonomy import default_taxonomy
from i18n import t_for
from layers import incidents as incident_layer
from storage import Store, open_store
from storage.queries import IncidentFilter
from storage.roles import SUPPRESSION_THRESHOLD, PermissionDenied, Viewer
from storage.users import User
from tests.conftest import postgres_admin_url
from tests.security.conftest import app_store

TODAY = date(2026, 6, 1)
PLANTED_LAT, PLANTED_LON = 9.53771, -13.68113  # in GN-C-DIXINN
SECRET_ID, SECRET_TEXT = "VBG-PLANTE-0001", "Temoin protege rue 7 XJ42"  # ASCII: escaping cannot hide it
#: How the planted coordinate could be written anywhere: 4 decimals, point or comma (the sign aside).
LEAK_MARKERS = ("9.5377", "9,5377", "13.6811", "13,6811", SECRET_ID, SECRET_TEXT)
DIXINN, KANKAN = "GN-C-DIXINN", "GN-KA-KANKAN-CENTRE"
PASSWORD = "Conakry-2026-mot-de-passe"


def _rows() -> list[dict[str, object]]:
    """The planted report, six thefts in its cell, Kankan: 5 sensitive + 3 thefts in one cell, 2 sensitive alone."""
    out = [{"id": SECRET_ID, "date": "2026-05-10", "categorie": "viol", "latitude": PLANTED_LAT,
            "longitude": PLANTED_LON, "description": SECRET_TEXT}]
    out += [{"id": f"VOL-DX-{i}", "date": "2026-05-11", "categorie": "vol", "latitude": round(9.53801 + 2e-5 * i, 5),
             "longitude": round(-13.68073 - 2e-5 * i, 5), "description": "Vol de téléphone"} for i in range(6)]
    out += [{"id": f"VBG-KA-{i}", "date": "2026-05-12", "categorie": "viol", "latitude": round(10.37140 + 2e-5 * i, 5),
             "longitude": round(-9.26820 - 2e-5 * i, 5), "description": "Signalement Kankan"} for i in range(5)]
    out += [{"id": f"VOL-KA-{i}", "date": "2026-05-12", "categorie": "vol", "latitude": round(10.37150 + 2e-5 * i, 5),
             "longitude": round(-9.26830 - 2e-5 * i, 5), "description": "Vol à l'étalage"} for i in range(3)]
    out += [{"id": f"VBG-KB-{i}", "date": "2026-05-13", "categorie": "viol", "latitude": round(10.39500 + 2e-5 * i, 5),
             "longitude": round(-9.30500 - 2e-5 * i, 5), "description": "Signalement isolé"} for i in range(2)]
    return out


def _cell(lat: float, lon: float, res: int = 9) -> int:
    return int(cells.to_db(cells.points_to_cells(np.array([lon]), np.array([lat]), res))[0])


PLANTED_CELL = _cell(PLANTED_LAT, PLANTED_LON)
KANKAN_FIVE_CELL = _cell(10.37140, -9.26820)
KANKAN_TWO_CELL = _cell(10.39500, -9.30500)


@dataclass(frozen=True)
class Role:
    """A way into the app: the viewer reads take, the account behind it (None: no login), what it may see."""

    key: str
    viewer: Viewer
    user: User | None
    sees_planted: bool  # the planted report as a point (coordinates, text)
    sees_kankan: bool  # the Kankan sensitive reports as points
    menu_has: frozenset[str]
    menu_lacks: frozenset[str]


def _account(uid: int, name: str, role: str, scopes: tuple = ()) -> User:
    return User(uid, name, None, role, scopes)


ADMIN_PAGES = frozenset({"administration"})
WRITER_PAGES = frozenset({"importer", "verification"})
ACCOUNTS = {
    "administrator": _account(1, "admin", "administrator"),
    "planner": _account(2, "planif", "planner"),
    "commander_national": _account(3, "chef.national", "commander"),
    "commander_conakry": _account(4, "chef.conakry", "commander", (("prefecture", "GN-C"),)),
    "commander_kankan": _account(5, "chef.kankan", "commander", (("prefecture", "GN-KA"),)),
    "council_a": _account(6, "conseil.dixinn", "council_member", (("subprefecture", DIXINN),)),
    "council_b": _account(7, "conseil.kankan", "council_member", (("subprefecture", KANKAN),)),
    "viewer": _account(8, "public", "viewer"),
}
PUBLIC_MENU = frozenset({"", "carte", "programme", "plan-local", "a-propos"})  # "" is the home page
ROLES = {r.key: r for r in [
    Role("administrator", ACCOUNTS["administrator"].viewer(), ACCOUNTS["administrator"], True, True,
         PUBLIC_MENU | ADMIN_PAGES | WRITER_PAGES | {"points-chauds"}, frozenset({"connexion"})),
    Role("planner", ACCOUNTS["planner"].viewer(), ACCOUNTS["planner"], False, False,
         PUBLIC_MENU | {"points-chauds", "activites"}, ADMIN_PAGES | {"connexion"}),
    Role("commander_national", ACCOUNTS["commander_national"].viewer(), ACCOUNTS["commander_national"], True, True,
         PUBLIC_MENU | {"points-chauds"} | WRITER_PAGES, ADMIN_PAGES | {"activites", "connexion"}),
    Role("commander_conakry", ACCOUNTS["commander_conakry"].viewer(), ACCOUNTS["commander_conakry"], True, False,
         PUBLIC_MENU | {"points-chauds"} | WRITER_PAGES, ADMIN_PAGES | {"activites", "connexion"}),
    Role("commander_kankan", ACCOUNTS["commander_kankan"].viewer(), ACCOUNTS["commander_kankan"], False, True,
         PUBLIC_MENU | {"points-chauds"} | WRITER_PAGES, ADMIN_PAGES | {"activites", "connexion"}),
    Role("council_a", ACCOUNTS["council_a"].viewer(), ACCOUNTS["council_a"], False, False,
         PUBLIC_MENU | {"activites"}, ADMIN_PAGES | WRITER_PAGES | {"points-chauds", "connexion"}),
    Role("council_b", ACCOUNTS["council_b"].viewer(), ACCOUNTS["council_b"], False, False,
         PUBLIC_MENU | {"activites"}, ADMIN_PAGES | WRITER_PAGES | {"points-chauds", "connexion"}),
    Role("viewer", ACCOUNTS["viewer"].viewer(), ACCOUNTS["viewer"], False, False,
         PUBLIC_MENU, ADMIN_PAGES | WRITER_PAGES | {"points-chauds", "activites", "planification", "connexion"}),
    # Accounts exist and nobody logged in: public figures, and the login page.
    Role("anonymous", Viewer(name="anonymous", role="viewer"), None, False, False,
         PUBLIC_MENU | {"connexion"}, ADMIN_PAGES | WRITER_PAGES | {"points-chauds", "activites", "planification"}),
    # No account yet, on the machine itself: records and exports, never a sensitive point.
    Role("local", Viewer(name="local", role="planner"), None, False, False,
         PUBLIC_MENU | {"connexion", "activites", "points-chauds"}, ADMIN_PAGES),
]}
ROLE_KEYS = list(ROLES)
NO_POINTS = {"viewer", "anonymous"}


def _leaks(text: str) -> list[str]:
    return [m for m in LEAK_MARKERS if m in text]


def _populate(store: Store, folder: Path) -> None:
    path = folder / "signalements.csv"
    pd.DataFrame(_rows()).to_csv(path, index=False)
    result = import_incidents(store, path, path.name, today=TODAY, created_by="agent")
    assert result.plan.summary()["imported"] == len(_rows()), result.plan.summary()
    for account in ACCOUNTS.values():
        store.create_user(account.username, PASSWORD, account.role, scopes=account.scopes)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One populated store per backend for the whole module (every test only reads it)."""
    folder = tmp_path_factory.mktemp(f"matrix-{request.param}")
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{folder / 'matrix.db'}")
        _populate(store, folder)
        yield store
        store.dispose()
        return
    admin_url = postgres_admin_url()
    name = f"proximite_matrix_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        store = open_store(admin_url.set(database=name).render_as_string(hide_password=False))
        try:
            _populate(store, folder)
            yield store
        finally:
            store.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _cell_count(frame: pd.DataFrame, key: int) -> tuple[int, bool] | None:
    hit = frame[frame["key"].astype("int64") == key]
    return None if hit.empty else (int(hit["count"].iloc[0]), bool(hit["suppressed"].iloc[0]))


# -- storage queries (what every page reads) ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_store_reads(world: Store, key: str) -> None:
    role = ROLES[key]
    points = world.incident_points(IncidentFilter(), role.viewer)
    assert (SECRET_ID in set(points["source_id"])) == role.sees_planted
    assert points["source_id"].str.startswith("VBG-KA").any() == role.sees_kankan
    if key in NO_POINTS:
        assert points.empty
    else:
        assert set(points["source_id"]) >= {f"VOL-DX-{i}" for i in range(6)}
    if not role.sees_planted:
        near = np.isclose(points["lat"].astype(float), PLANTED_LAT, atol=5e-5) & \
            np.isclose(points["lon"].astype(float), PLANTED_LON, atol=5e-5)
        assert not near.any() and SECRET_TEXT not in set(points["description"].dropna())
    # A filter on the sensitive category, the planted unit or its extent never widens the answer.
    narrow = world.incident_points(IncidentFilter(categories=("viol",), units=(("subprefecture", DIXINN),),
                                                  bbox=(-13.69, 9.53, -13.67, 9.54)), role.viewer)
    assert len(narrow) == (1 if role.sees_planted else 0)

    counts = world.incident_counts(IncidentFilter(), role.viewer, by="h3_r9")
    assert _cell_count(counts, PLANTED_CELL) == ((7, False) if role.sees_planted else (6, True))
    assert _cell_count(counts, KANKAN_FIVE_CELL) == (8, False)  # 5 sensitive: at the threshold, counted
    assert _cell_count(counts, KANKAN_TWO_CELL) == ((2, False) if role.sees_kankan else None)
    units = world.incident_counts(IncidentFilter(), role.viewer, by="subprefecture_id").set_index("key")
    assert int(units.loc[DIXINN, "count"]) == (7 if role.sees_planted else 6)
    assert int(units.loc[DIXINN, "sensitive"]) == (1 if role.sees_planted else 0)


def test_differencing_two_extents_reveals_no_small_sensitive_count(world: Store) -> None:
    """A differencing attack on the map's extent: counts per region for an extent holding both Kankan cells
    (7 hidden reports) and for one holding only the cell of five must not differ by the two reports that are
    suppressed everywhere else, or moving the extent's edge would place them. Hidden reports count in whole
    multiples of the threshold, so any two figures differ by a multiple of it."""
    viewer = ROLES["viewer"].viewer
    both = IncidentFilter(bbox=(-9.32, 10.36, -9.25, 10.40))
    five_only = IncidentFilter(bbox=(-9.28, 10.36, -9.25, 10.38))
    a = world.incident_counts(both, viewer, by="region_id").set_index("key")
    b = world.incident_counts(five_only, viewer, by="region_id").set_index("key")
    assert int(a.loc["GN-K", "sensitive"]) - int(b.loc["GN-K", "sensitive"]) not in range(1, 5)


@pytest.mark.parametrize("key", ["viewer", "council_b", "planner"])
def test_no_extent_period_or_category_cut_gives_a_small_sensitive_count(world: Store, key: str) -> None:
    """The same attack over many cuts (extents, periods, categories, levels): every figure of sensitive
    reports a role may not see is a multiple of the threshold, so no subtraction gives one to four."""
    viewer = ROLES[key].viewer
    rng = np.random.default_rng(11)
    cuts = [IncidentFilter(), IncidentFilter(bbox=(-9.32, 10.36, -9.25, 10.40)),
            IncidentFilter(bbox=(-9.28, 10.36, -9.25, 10.38)), IncidentFilter(categories=("viol",))]
    for _ in range(40):  # random extents around Kankan's planted reports, random periods and categories
        west, south = rng.uniform(-9.40, -9.26), rng.uniform(10.30, 10.39)
        cuts.append(IncidentFilter(bbox=(west, south, west + rng.uniform(0.005, 0.2), south + rng.uniform(0.005, 0.2)),
                                   start=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=int(rng.integers(0, 600))),
                                   categories=("viol", "vol")[: int(rng.integers(1, 3))]))
    for cut in cuts:
        for by in ("region_id", "prefecture_id", "subprefecture_id", "h3_r7", "h3_r8", "h3_r9"):
            figures = world.incident_counts(cut, viewer, by=by)
            assert (figures["sensitive"] % SUPPRESSION_THRESHOLD == 0).all(), (cut, by, figures)


# -- the map layer, as the map page builds it -------------------------------------------------------------------


def _layer_html(store: Store, viewer: Viewer, mode: str, res: int = 9) -> str:
    """The incidents layer's HTML for ``viewer``, assembled the way ``views.map`` assembles it."""
    tax, t = default_taxonomy(), t_for("fr")
    flt = IncidentFilter(bbox=(-13.72, 9.50, -13.64, 9.58))
    points = store.incident_points(flt, viewer, limit=1001) if mode == "points" else pd.DataFrame()
    counts = store.incident_counts(flt, viewer, by=f"h3_r{res}") if mode != "points" or points.empty \
        else pd.DataFrame()
    sensitive = pd.DataFrame()
    if mode == "points" and not viewer.can_see_sensitive:
        sensitive = store.incident_counts(replace(flt, categories=tax.sensitive_codes), viewer, by=f"h3_r{res}")
    data = incident_layer.IncidentLayerData(mode=mode, res=res, points=points, cells=counts,
                                            sensitive_cells=sensitive)
    m = incident_layer.prepare_map(folium.Map(location=[9.54, -13.68], zoom_start=13, tiles=None))
    incident_layer.build(data, t=t, taxonomy=tax).add_to(m)
    return m.get_root().render()


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_map_layer_html(world: Store, key: str) -> None:
    role = ROLES[key]
    for mode in incident_layer.MODES:
        html = _layer_html(world, role.viewer, mode)
        if role.sees_planted and mode == "points":
            assert f"{PLANTED_LAT:.5f}" in html and SECRET_TEXT in html  # the check can see a leak
        else:
            assert _leaks(html) == [], (key, mode)


# -- incident exports (map page) ----------------------------------------------------------------------------------


def _gpkg_points(data: bytes) -> pd.DataFrame:
    import geopandas as gpd

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.gpkg"
        path.write_bytes(data)
        frame = gpd.read_file(path, engine="pyogrio")
    return pd.DataFrame({"lon": frame.geometry.x, "lat": frame.geometry.y, "source_id": frame["source_id"]})


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_incident_exports(world: Store, key: str) -> None:
    role = ROLES[key]
    frame = world.incident_points(IncidentFilter(), role.viewer)
    for fmt in ("csv", "geojson"):
        text = export(frame, fmt)[0].decode("utf-8-sig")
        assert (not _leaks(text)) != role.sees_planted, (key, fmt, _leaks(text))
    if key in NO_POINTS:
        return  # an empty GeoPackage holds nothing to read back
    got = _gpkg_points(export(frame, "gpkg")[0])
    near = np.isclose(got["lat"], PLANTED_LAT, atol=5e-5) & np.isclose(got["lon"], PLANTED_LON, atol=5e-5)
    assert near.any() == role.sees_planted and (SECRET_ID in set(got["source_id"])) == role.sees_planted


# -- hot spots: table, files, PDF brief -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ROLE_KEYS)
def test_hotspot_table_and_files(world: Store, key: str) -> None:
    role = ROLES[key]
    flt = IncidentFilter(units=(("subprefecture", DIXINN),))
    result = hs.run_hotspots(world, flt, resolution=9, k=1, viewer=role.viewer)
    planted = result.table[result.table["cell"] == f"{PLANTED_CELL:x}"]
    assert planted["count"].tolist() == [7 if role.sees_planted else 6]
    assert int(result.table["count"].sum()) == (7 if role.sees_planted else 6)
    table = result.table.drop(columns=["lon", "lat"])  # as the page's downloads
    for fmt in ("csv", "geojson"):
        assert _leaks(hs.to_bytes(table, fmt)[0].decode("utf-8-sig")) == [], (key, fmt)
    # The density surface (map page) is made of cell counts too.
    surface = hs.density(world, flt, role.viewer, bandwidth_m=300)
    assert surface is not None


def _brief_text(store: Store, viewer: Viewer) -> tuple[str, pd.DataFrame]:
    from reports.hotspot_brief import hotspot_brief

    t = t_for("fr")
    flt = IncidentFilter(units=(("subprefecture", DIXINN),))
    result = hs.run_hotspots(store, flt, resolution=9, k=1, viewer=viewer)
    top = hs.top_hotspots(result)
    # A lone cluster over a commune's worth of cells is hot at least at 90 %: the brief has a table.
    cells_frame = hs.hexagons(result.table[result.table["count"] > 0])
    pdf = hotspot_brief(cells=cells_frame, top=top, parameters=[("Commune", "Dixinn")], caveats=[], t=t,
                        generated_at=datetime(2026, 6, 1, tzinfo=UTC), demo=False)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), top


@pytest.mark.parametrize("key", ["administrator", "planner", "council_b", "viewer"])
def test_hotspot_pdf_brief(world: Store, key: str) -> None:
    role = ROLES[key]
    text, top = _brief_text(world, role.viewer)
    assert _leaks(text) == [], _leaks(text)
    row = top[top["cell"] == f"{PLANTED_CELL:x}"]
    if len(row):
        assert row["count"].tolist() == [7 if role.sees_planted else 6]


# -- command line ---------------------------------------------------------------------------------------------------


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_cli_exports(world: Store, tmp_path: Path) -> None:
    """``hotspots`` answers as the restricted default viewer; ``audit export`` and ``backup`` are the operator's
    (whoever can open the database): audited, the audit log without incident text, the backup complete."""
    from cli.main import app

    runner, env = CliRunner(), {"PROXIMITE_DATABASE_URL": _url(world), "PROXIMITE_LANG": "en", "USER": "ops"}
    done = runner.invoke(app, ["hotspots", "--out", str(tmp_path / "hot.csv"), "--unit", DIXINN, "--resolution", "9",
                               "--k", "1"], env=env)
    assert done.exit_code == 0, done.output
    text = (tmp_path / "hot.csv").read_text(encoding="utf-8")
    assert _leaks(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["count"]) for r in rows if r["cell"] == f"{PLANTED_CELL:x}"] == [6]

    done = runner.invoke(app, ["audit", "export", str(tmp_path / "audit.csv")], env=env)
    assert done.exit_code == 0, done.output
    assert _leaks((tmp_path / "audit.csv").read_text(encoding="utf-8-sig")) == []

    refused = runner.invoke(app, ["backup", str(tmp_path / "b.zip"), "--user", "chef.national"], env=env)
    assert refused.exit_code == 2 and not (tmp_path / "b.zip").exists()
    done = runner.invoke(app, ["backup", str(tmp_path / "b.zip"), "--user", "admin"], env=env)
    assert done.exit_code == 0, done.output
    from storage.backup import read_manifest

    assert read_manifest(tmp_path / "b.zip", verify=True).rows()["incident"] == len(_rows())  # complete, by design
    logged = world.audit_log(action="export", limit=1)
    assert logged["username"].tolist() == ["admin"] and json.loads(logged["detail"].iloc[0])["backup"] == "b.zip"


def test_accounts_and_audit_are_administrators_only(world: Store) -> None:
    for key, role in ROLES.items():
        if key == "administrator":
            assert len(world.users(by=role.viewer)) == len(ACCOUNTS)
            continue
        with pytest.raises(PermissionDenied):
            world.users(by=role.viewer)
        with pytest.raises(PermissionDenied):
            world.audit_log(viewer=role.viewer)


# -- pages (AppTest): the menu of each role, and a forbidden page reached anyway --------------------------------------


def _app_menu(session: dict) -> None:
    """Run ``app.main`` and keep the url paths it hands to ``st.navigation`` (self-contained: AppTest runs it)."""
    import streamlit as st

    import app

    real = st.navigation

    def recording(pages, **kwargs):
        st.session_state["_menu"] = sorted(p.url_path for p in pages)
        return real(pages, **kwargs)

    for name, value in session.items():
        st.session_state.setdefault(name, value)
    st.navigation = recording
    try:
        app.main()
    finally:
        st.navigation = real


def _admin_page(session: dict) -> None:
    import streamlit as st

    from views import admin

    for name, value in session.items():
        st.session_state.setdefault(name, value)
    admin.render()


def _session(role: Role) -> dict:
    if role.user is None:
        return {"lang": "en"}
    now = datetime.now(UTC)
    return {"lang": "en", "auth_user": role.user, "auth_since": now, "auth_seen": now}


@pytest.fixture(scope="module")
def app_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Two small SQLite files for the app: with accounts, and without any (local mode)."""
    folder = tmp_path_factory.mktemp("matrix-app")
    with app_store(folder / "accounts.db") as store:
        _populate(store, folder)
    with app_store(folder / "local.db") as store:
        path = folder / "one.csv"
        pd.DataFrame(_rows()[:1]).to_csv(path, index=False)
        import_incidents(store, path, path.name, today=TODAY)
    yield {"accounts": folder / "accounts.db", "local": folder / "local.db"}


def test_pages_follow_the_role(app_stores: dict[str, Path]) -> None:
    with app_store(app_stores["accounts"]):
        for key, role in ROLES.items():
            if key == "local":
                continue
            _check_pages(key, role)
    with app_store(app_stores["local"]):
        _check_pages("local", ROLES["local"])


def _check_pages(key: str, role: Role) -> None:
    at = AppTest.from_function(_app_menu, args=(_session(role),), default_timeout=60).run()
    assert not at.exception, (key, at.exception)
    menu = set(at.session_state["_menu"])
    assert role.menu_has <= menu, (key, sorted(role.menu_has - menu))
    assert not (role.menu_lacks & menu), (key, sorted(role.menu_lacks & menu))
    import app

    for page, allowed in app.ACCESS.items():  # whatever else the menu lists, it follows the access table
        if page not in ("accueil",):
            assert (page in menu) == (role.viewer.role in allowed), (key, page)
    page = AppTest.from_function(_admin_page, args=(_session(role),), default_timeout=60).run()
    assert not page.exception, (key, page.exception)
    refused = "This page is for administrators." in [w.value for w in page.warning]
    assert refused == (key != "administrator"), key
    assert (len(page.dataframe) > 0) == (key == "administrator"), key


def _page_text(at: AppTest) -> str:
    """Everything a page shows as text: messages, captions, metrics and every table cell."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "metric", "code", "json"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    parts += [e.value.to_csv() for e in at.dataframe] + [e.value.to_csv() for e in at.table]
    return "\n".join(parts)


def _run_page(module: str, session: dict) -> None:
    import importlib

    import streamlit as st

    for name, value in session.items():
        st.session_state.setdefault(name, value)
    importlib.import_module(module).render()


def test_no_sensitive_text_in_the_pages_of_restricted_roles(app_stores: dict[str, Path]) -> None:
    """The map and hot-spot pages, run for a council member of another unit and a viewer, show no trace of it;
    the viewer gets no download at all."""
    with app_store(app_stores["accounts"]):
        for key in ("council_b", "viewer"):
            for module in ("views.map", "views.hotspots"):
                at = AppTest.from_function(_run_page, args=(module, _session(ROLES[key])), default_timeout=90).run()
                assert not at.exception, (key, module, at.exception)
                assert _leaks(_page_text(at)) == [], (key, module)
                if key == "viewer":
                    assert len(at.get("download_button")) == 0, module
