"""The role matrix at the storage level: for each role, which incidents come back as points, which counts
are suppressed, and which writes are refused, in and out of scope; on SQLite and PostGIS.

Expected reads are computed by a naive reference (plain Python over the fixture rows), not by the code
under test.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pandas as pd
import pytest

import geopandas as gpd
import shapely

from geo import cells
from storage import Store
from storage.queries import POINT_COLUMNS, IncidentFilter
from storage.roles import ROLES, PermissionDenied, Viewer, acting
from storage.users import User

TODAY = dt.date(2026, 6, 1)
KALOUM = {"lon": -13.7105, "lat": 9.5149}  # inside GN-C-KALOUM
KANKAN = {"lon": -9.2682, "lat": 10.3714}  # inside GN-KA-KANKAN-CENTRE
UNITS = {"GN-KA": ("GN-K", "GN-KA", "GN-KA-KANKAN-CENTRE"), "GN-C": ("GN-C", "GN-C", "GN-C-KALOUM"),
         "GN-C-MATAM": ("GN-C", "GN-C", "GN-C-MATAM"), "GN-C-DIXINN": ("GN-C", "GN-C", "GN-C-DIXINN")}
#: (unit key, sensitive, how many, lon, lat): Kankan 10 + 3 sensitive; Kaloum 4 + 7 sensitive; Matam 2
#: sensitive only (a cell of nothing but sensitive reports); Dixinn exactly 5 (the threshold: shown).
GROUPS = [("GN-KA", False, 10, -9.2682, 10.3714), ("GN-KA", True, 3, -9.2690, 10.3720),
          ("GN-C", False, 4, -13.7105, 9.5149), ("GN-C", True, 7, -13.7110, 9.5150),
          ("GN-C-MATAM", True, 2, -13.6530, 9.5450), ("GN-C-DIXINN", True, 5, -13.6720, 9.5400)]


def _incidents() -> pd.DataFrame:
    rows = []
    for key, sensitive, n, lon, lat in GROUPS:
        region, prefecture, sub = UNITS[key]
        for i in range(n):
            rows.append({"source_id": f"{sub}-{sensitive}-{i}", "category": "viol" if sensitive else "vol",
                         "sensitive": sensitive, "lon": lon + 1e-5 * i, "lat": lat, "region_id": region,
                         "prefecture_id": prefecture, "subprefecture_id": sub})
    frame = pd.DataFrame(rows)
    frame["occurred_at"] = pd.date_range("2026-01-01", periods=len(frame), freq="h", tz="UTC")
    frame["precision"] = "point"
    frame["description"] = "<script>alert(1)</script>"
    for res in (8, 9):
        frame[f"h3_r{res}"] = pd.array(cells.to_db(cells.points_to_cells(frame["lon"], frame["lat"], res)),
                                       dtype="Int64")
    return frame


def _review() -> pd.DataFrame:
    return pd.DataFrame({"source_row": [], "data": [], "reasons": []})


ADMIN = Viewer(name="admin", role="administrator")
PLANNER = Viewer(name="planner", role="planner")
KANKAN_CHIEF = Viewer(name="chef.kankan", role="commander", scopes=(("prefecture", "GN-KA"),))
NATIONAL_CHIEF = Viewer(name="chef.national", role="commander")
KALOUM_COUNCIL = Viewer(name="conseil.kaloum", role="council_member", scopes=(("subprefecture", "GN-C-KALOUM"),))
PUBLIC = Viewer(name="public", role="viewer")
DEFAULT = Viewer()
EVERYONE = [ADMIN, PLANNER, KANKAN_CHIEF, NATIONAL_CHIEF, KALOUM_COUNCIL, PUBLIC, DEFAULT]


def _may_see(viewer: Viewer, row: pd.Series) -> bool:
    """Naive reference: may ``viewer`` see this incident as a point?"""
    if viewer.role == "viewer":
        return False
    if not row["sensitive"]:
        return True
    if viewer.role in ("administrator",) or (viewer.role == "commander" and not viewer.scopes):
        return True
    return viewer.role == "commander" and ("prefecture", row["prefecture_id"]) in viewer.scopes


def _expected_counts(viewer: Viewer, frame: pd.DataFrame, by: str) -> dict[str, tuple[int, int, bool]]:
    """Naive reference of incident_counts: key -> (count, sensitive, suppressed)."""
    out = {}
    for key, rows in frame.groupby(by):
        visible = [_may_see(viewer if viewer.role != "viewer" else DEFAULT, r) for _, r in rows.iterrows()]
        hidden = sum(1 for v in visible if not v)
        count, sens = len(rows), int(rows["sensitive"].sum())
        left_out = hidden - (hidden // 5) * 5  # hidden reports count in whole fives
        suppressed = left_out > 0
        count, sens = count - left_out, sens - left_out
        if count:
            out[key] = (count, sens, suppressed)
    return out


@pytest.fixture
def loaded(store: Store) -> tuple[Store, pd.DataFrame]:
    frame = _incidents()
    store.import_records("incident", frame, _review(), kind="incidents", file_name="f.csv", file_sha256=None)
    return store, frame


def test_viewer_defaults_and_role_derived_permissions() -> None:
    assert Viewer() == Viewer(name="default", can_see_sensitive=False, suppression_threshold=5)
    assert Viewer().can_see_points and not Viewer().can_see_sensitive and not Viewer().can_write
    assert Viewer(can_see_sensitive=True).sees_sensitive_everywhere  # the pre-accounts "allowed" viewer
    table = {  # role: (sensitive, points, export, admin, writes)
        "administrator": (True, True, True, True, True), "planner": (False, True, True, False, True),
        "commander": (True, True, True, False, True), "council_member": (False, True, True, False, True),
        "viewer": (False, False, False, False, False),
    }
    for role in ROLES:
        scopes = (("subprefecture", "GN-C-KALOUM"),) if role == "council_member" else ()
        v = Viewer(name=role, role=role, scopes=scopes)
        assert (v.can_see_sensitive, v.can_see_points, v.can_export, v.can_admin, v.can_write) == table[role], role
    assert not KANKAN_CHIEF.sees_sensitive_everywhere and NATIONAL_CHIEF.sees_sensitive_everywhere
    with pytest.raises(ValueError, match="may not see sensitive"):
        Viewer(role="planner", can_see_sensitive=True)
    assert not Viewer(role="administrator", can_see_sensitive=False).can_see_sensitive  # narrowing is allowed
    with pytest.raises(ValueError, match="scopes only apply"):
        Viewer(role="planner", scopes=(("prefecture", "GN-KA"),))
    with pytest.raises(ValueError, match="unknown role"):
        Viewer(role="chef")
    assert acting(None).role == "system" and acting(None, name="agent").name == "agent"
    assert acting(User(1, "a.b", None, "viewer")) == Viewer(name="a.b", role="viewer")


def test_can_edit_matrix() -> None:
    kankan = {"region": "GN-K", "prefecture": "GN-KA", "subprefecture": "GN-KA-KANKAN-CENTRE"}
    kaloum = {"region_id": "GN-C", "prefecture_id": "GN-C", "subprefecture_id": "GN-C-KALOUM"}
    cases = [  # (viewer, table, unit, allowed)
        (ADMIN, "council", None, True), (ADMIN, "incident", kankan, True), (ADMIN, "road", None, True),
        (PLANNER, "council", kaloum, True), (PLANNER, "incident", kankan, True), (PLANNER, "road", None, True),
        (KANKAN_CHIEF, "incident", kankan, True), (KANKAN_CHIEF, "incident", kaloum, False),
        (KANKAN_CHIEF, "road_crash", kankan, True), (KANKAN_CHIEF, "council", kankan, False),
        (KANKAN_CHIEF, "incident", None, False), (KANKAN_CHIEF, "road", None, False),
        (NATIONAL_CHIEF, "incident", kaloum, True), (NATIONAL_CHIEF, "road_crash", None, True),
        (NATIONAL_CHIEF, "school", kaloum, False),
        (KALOUM_COUNCIL, "council", kaloum, True), (KALOUM_COUNCIL, "school", ("subprefecture", "GN-C-KALOUM"), True),
        (KALOUM_COUNCIL, "council", kankan, False), (KALOUM_COUNCIL, "council", ("prefecture", "GN-C"), False),
        (KALOUM_COUNCIL, "instructor", None, False), (KALOUM_COUNCIL, "road", None, False),
        (PUBLIC, "council", kaloum, False), (PUBLIC, "incident", None, False), (DEFAULT, "council", kaloum, False),
    ]
    got = [(v.name, table, str(unit), v.can_edit(table, unit)) for v, table, unit, _ in cases]
    assert got == [(v.name, table, str(unit), allowed) for v, table, unit, allowed in cases]
    with pytest.raises(TypeError):
        KALOUM_COUNCIL.can_edit("council", "GN-C-KALOUM")


def test_reads_per_role_match_the_reference(loaded: tuple[Store, pd.DataFrame]) -> None:
    store, frame = loaded
    keyed = frame.assign(h3_r8=frame["h3_r8"].astype("int64"))
    for viewer in EVERYONE:
        got = store.incident_points(IncidentFilter(), viewer)
        assert list(got.columns) == list(POINT_COLUMNS)
        expected = sorted(frame.loc[[_may_see(viewer, r) for _, r in frame.iterrows()], "source_id"])
        assert sorted(got["source_id"]) == expected, viewer.name
        assert got.empty == (viewer.role == "viewer")
        # A filter on the sensitive category or on another unit never widens what comes back.
        viol = store.incident_points(IncidentFilter(categories=("viol",), units=(("prefecture", "GN-C"),)), viewer)
        assert set(viol["source_id"]) <= set(expected)
        assert (viewer is ADMIN or viewer is NATIONAL_CHIEF) == (len(viol) == 14), viewer.name  # 7 + 2 + 5
        for by in ("prefecture_id", "subprefecture_id", "h3_r8"):
            counts = store.incident_counts(IncidentFilter(), viewer, by=by)
            assert {k: (c, s, bool(p)) for k, c, s, p in counts[["key", "count", "sensitive", "suppressed"]]
                    .itertuples(index=False)} == _expected_counts(viewer, keyed, by), (viewer.name, by)


def test_scoped_commander_figures(loaded: tuple[Store, pd.DataFrame]) -> None:
    """The known answer, spelled out: Kankan's chief sees Kankan's 3 sensitive reports, Kaloum's 7 and Dixinn's
    5 only as counts in whole fives (Kaloum: 5, two left out), Matam's 2 not at all; the public sees Kankan with
    its 3 suppressed."""
    store, _ = loaded
    chief = store.incident_counts(IncidentFilter(), KANKAN_CHIEF, by="subprefecture_id").set_index("key")
    assert chief[["count", "sensitive", "suppressed"]].to_dict("index") == {
        "GN-C-DIXINN": {"count": 5, "sensitive": 5, "suppressed": False},
        "GN-C-KALOUM": {"count": 9, "sensitive": 5, "suppressed": True},
        "GN-KA-KANKAN-CENTRE": {"count": 13, "sensitive": 3, "suppressed": False}}
    public = store.incident_counts(IncidentFilter(), PUBLIC, by="subprefecture_id").set_index("key")
    assert public.loc["GN-KA-KANKAN-CENTRE", ["count", "sensitive", "suppressed"]].tolist() == [10, 0, True]
    assert "GN-C-MATAM" not in public.index
    points = store.incident_points(IncidentFilter(), KANKAN_CHIEF)
    assert set(points.loc[points["sensitive"], "subprefecture_id"]) == {"GN-KA-KANKAN-CENTRE"}


# -- writes -----------------------------------------------------------------------------------


def _council(sub: str, name: str) -> dict:
    return {"name": name, "unit": sub, "members_total": 12, "members_women": 5}


def _try(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    """``"ok"`` or the code of the ``PermissionDenied`` the write raised."""
    try:
        call(*args, **kwargs)
    except PermissionDenied as exc:
        return exc.code
    return "ok"


@pytest.fixture
def programme(store: Store) -> Store:
    kal, kan = ("GN-C", "GN-C", "GN-C-KALOUM"), ("GN-K", "GN-KA", "GN-KA-KANKAN-CENTRE")
    store.write({
        "council": pd.DataFrame([{"id": 1, "name": "CLSPD de Kaloum", "unit_level": "subprefecture",
                                  "unit_id": kal[2], "region_id": kal[0], "prefecture_id": kal[1],
                                  "subprefecture_id": kal[2]},
                                 {"id": 2, "name": "CLSPD de Kankan", "unit_level": "subprefecture",
                                  "unit_id": kan[2], "region_id": kan[0], "prefecture_id": kan[1],
                                  "subprefecture_id": kan[2]}]),
        "station": pd.DataFrame([{"id": 1, "name": "Poste de Kaloum", "kind": "poste", "region_id": kal[0],
                                  "prefecture_id": kal[1], "subprefecture_id": kal[2], **KALOUM}]),
    }, kind="test")
    return store


WRITERS = [ADMIN, PLANNER, KANKAN_CHIEF, NATIONAL_CHIEF, KALOUM_COUNCIL, PUBLIC, DEFAULT]
#: viewer -> outcome of: council in Kaloum, council in Kankan, meeting of Kaloum's council, meeting of
#: Kankan's council, incidents of Kankan, incidents of Kaloum, a road network.
WRITE_MATRIX = {
    "admin": ["ok"] * 7,
    "planner": ["ok"] * 7,
    "chef.kankan": ["role_cannot_edit"] * 4 + ["ok", "outside_scope", "role_cannot_edit"],
    "chef.national": ["role_cannot_edit"] * 4 + ["ok", "ok", "role_cannot_edit"],
    "conseil.kaloum": ["ok", "outside_scope", "ok", "outside_scope", "outside_scope", "ok", "outside_scope"],
    "public": ["read_only"] * 7,
    "default": ["read_only"] * 7,
}


def test_writes_per_role_and_scope(programme: Store) -> None:
    store = programme
    frame = _incidents()
    kankan = frame[frame["prefecture_id"] == "GN-KA"].reset_index(drop=True)
    kaloum = frame[frame["subprefecture_id"] == "GN-C-KALOUM"].reset_index(drop=True)
    road = gpd.GeoDataFrame({"name": ["RN1"], "length_m": [1000.0]},
                            geometry=[shapely.LineString([(-13.70, 9.51), (-13.69, 9.52)])], crs="EPSG:4326")
    for n, viewer in enumerate(WRITERS):
        day = dt.date(2026, 1, 1 + n)  # distinct records per viewer (duplicates are refused for another reason)
        before = store.counts()
        add, load = store.add_record, store.import_records
        got = [
            _try(add, "council", _council("GN-C-KALOUM", f"CLSPD {viewer.name}"), today=TODAY, user=viewer),
            _try(add, "council", _council("GN-KA-KANKAN-CENTRE", f"CLSPD {viewer.name}"), today=TODAY, user=viewer),
            _try(add, "council_meeting", {"council_id": 1, "held_on": day}, today=TODAY, user=viewer),
            _try(add, "council_meeting", {"council_id": 2, "held_on": day}, today=TODAY, user=viewer),
            _try(load, "incident", kankan, _review(), kind="incidents", file_name="k.csv", file_sha256=None,
                 user=viewer),
            _try(load, "incident", kaloum, _review(), kind="incidents", file_name="c.csv", file_sha256=None,
                 user=viewer),
            _try(store.write_roads, road, user=viewer),
        ]
        assert got == WRITE_MATRIX[viewer.name], viewer.name
        after = store.counts()
        ok = dict(zip(["council", "council2", "meeting", "meeting2", "kankan", "kaloum", "road"],
                      [g == "ok" for g in got], strict=True))
        assert after["council"] - before["council"] == ok["council"] + ok["council2"]
        assert after["council_meeting"] - before["council_meeting"] == ok["meeting"] + ok["meeting2"]
        assert after["incident"] - before["incident"] == len(kankan) * ok["kankan"] + len(kaloum) * ok["kaloum"]
        assert after["road"] - before["road"] == ok["road"]


def test_edits_and_deletes_are_checked_where_the_record_is_and_goes(programme: Store) -> None:
    store = programme
    council = KALOUM_COUNCIL
    # In scope: edit and delete are fine.
    sid = store.add_record("station", {"name": "Poste de Boulbinet", "kind": "poste", **KALOUM}, today=TODAY,
                           user=council)
    # Moving it to Kankan would take it out of the council member's units: refused, nothing changed.
    with pytest.raises(PermissionDenied) as err:
        store.update_record("station", sid, {**KANKAN}, version=1, today=TODAY, user=council)
    assert err.value.code == "outside_scope" and err.value.n_outside == 1
    assert store.read("station", where={"id": sid})["subprefecture_id"].iloc[0] == "GN-C-KALOUM"
    assert store.update_record("station", sid, {"name": "Poste de Boulbinet-Port"}, version=1, today=TODAY,
                               user=council) == 2
    # Kankan's council is not theirs to edit or delete.
    with pytest.raises(PermissionDenied):
        store.update_record("council", 2, {"members_total": 3}, version=1, today=TODAY, user=council)
    with pytest.raises(PermissionDenied):
        store.delete_record("council", 2, version=1, user=council)
    store.delete_record("station", sid, version=2, user=council)
    assert store.counts()["council"] == 2


def test_undo_needs_rights_on_every_record_of_the_batch(loaded: tuple[Store, pd.DataFrame]) -> None:
    store, frame = loaded
    batch = int(store.batches().iloc[0]["id"])  # Kankan and Conakry incidents together
    for viewer, code in ((KANKAN_CHIEF, "outside_scope"), (KALOUM_COUNCIL, "outside_scope"), (PUBLIC, "read_only")):
        with pytest.raises(PermissionDenied) as err:
            store.undo_batch(batch, user=viewer)
        assert err.value.code == code
    assert store.counts()["incident"] == len(frame)
    assert store.undo_batch(batch, user=NATIONAL_CHIEF) == len(frame)


def test_review_resolution_is_checked(store: Store) -> None:
    review = pd.DataFrame({"source_row": [3], "data": [{"lieu": "?"}], "reasons": [["place_not_found"]]})
    batch = store.import_records("incident", _incidents().iloc[:0], review, kind="incidents", file_name="r.csv",
                                 file_sha256=None)
    item = store.review_items(batch_id=batch).iloc[0]
    kaloum = _incidents().query("subprefecture_id == 'GN-C-KALOUM'").iloc[:1].reset_index(drop=True)
    with pytest.raises(PermissionDenied):
        store.resolve_review_item(int(item["id"]), version=1, table="incident", record=kaloum, user=KANKAN_CHIEF)
    with pytest.raises(PermissionDenied):
        store.update_review_item(int(item["id"]), version=1, data={}, reasons=[], user=PUBLIC)
    store.resolve_review_item(int(item["id"]), version=1, table="incident", record=kaloum, user=KALOUM_COUNCIL)
    assert store.counts()["incident"] == 1


def test_neighbourhood_writes_follow_the_sub_prefecture(store: Store) -> None:
    square = shapely.box(-13.7125, 9.5120, -13.7085, 9.5160)  # inside Kaloum
    with pytest.raises(PermissionDenied) as err:
        store.add_neighbourhood("Boulbinet", square, user=KANKAN_CHIEF)
    assert err.value.code == "role_cannot_edit"
    batch = store.add_neighbourhood("Boulbinet", square, user=KALOUM_COUNCIL)
    hood = store.neighbourhoods(batch_id=batch)
    assert hood["subprefecture_id"].tolist() == ["GN-C-KALOUM"]
    other = Viewer(name="conseil.matam", role="council_member", scopes=(("subprefecture", "GN-C-MATAM"),))
    with pytest.raises(PermissionDenied):
        store.add_neighbourhood("Boulbinet 2", shapely.box(-13.7124, 9.5121, -13.7086, 9.5159), user=other)
    # A council member of that neighbourhood may set up its council.
    unit = hood["unit_id"].iloc[0]
    mine = Viewer(name="conseil.boulbinet", role="council_member", scopes=(("neighbourhood", unit),))
    cid = store.add_record("council", {"name": "CLSPD de Boulbinet", "unit_level": "neighbourhood", "unit_id": unit},
                           today=TODAY, user=mine)
    assert store.read("council", where={"id": cid})["unit_id"].iloc[0] == unit
    with pytest.raises(PermissionDenied):
        store.add_record("council", _council("GN-C-KALOUM", "CLSPD de Kaloum-bis"), today=TODAY, user=mine)


def test_scope_values_are_parameters(loaded: tuple[Store, pd.DataFrame]) -> None:
    store, frame = loaded
    evil = Viewer(name="x", role="commander", scopes=(("prefecture", "GN-KA' OR '1'='1"),))
    got = store.incident_points(IncidentFilter(), evil)
    assert not got["sensitive"].any() and len(got) == int((~frame["sensitive"]).sum())
    counts = Counter(store.incident_counts(IncidentFilter(), evil, by="prefecture_id")["suppressed"])
    # Both prefectures lose some hidden reports to rounding: GN-KA 3 -> 0, GN-C 14 -> 10; the quote matched nothing.
    assert counts[True] == 2 and store.counts()["incident"] == len(frame)
