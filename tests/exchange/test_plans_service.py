"""The diagnosis of a plan's unit on a hand-made store whose answers are known, and the plan's exports."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest

import shapely

from exchange.plans import actions_bytes, diagnosis, plan_unit, plans_overview, priorities_geojson
from geo import cells
from geo.population import population
from i18n import Translator
from storage import Store
from storage.roles import Viewer

MATAM = ("GN-C", "GN-C", "GN-C-MATAM")
DIXINN = ("GN-C", "GN-C", "GN-C-DIXINN")
MARKET = (-13.6625, 9.5430)  # inside Matam: every theft happens here
#: Quarters of the diagnosis when the newest report is in October 2026: Nov-Jan, Feb-Apr, May-Jul, Aug-Oct.
QUARTERS = ["2025-12-10", "2026-03-10", "2026-06-10", "2026-09-10"]
ADMIN = Viewer(name="admin", role="administrator")
MEMBER = Viewer(name="awa", role="council_member", scopes=(("subprefecture", "GN-C-MATAM"),))


def _incidents() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(3)

    def add(category: str, when: str, units: tuple[str, str, str], lon: float, lat: float, sensitive=False):
        rows.append({"category": category, "occurred_at": pd.Timestamp(when, tz="UTC"), "sensitive": sensitive,
                     "lon": lon, "lat": lat, "region_id": units[0], "prefecture_id": units[1],
                     "subprefecture_id": units[2]})

    for quarter, n in zip(QUARTERS, (1, 2, 3, 4), strict=True):  # thefts rising 1, 2, 3, 4
        for i in range(n):
            add("vol", quarter, MATAM, MARKET[0] + 1e-5 * i, MARKET[1])
    for quarter, n in zip(QUARTERS, (2, 3, 2, 3), strict=True):  # burglaries at the market too: 20 reports there
        for i in range(n):
            add("cambriolage", quarter, MATAM, MARKET[0] - 1e-5 * i, MARKET[1])
    for quarter in QUARTERS:  # assaults flat, scattered over the commune
        for _ in range(3):
            add("agression", quarter, MATAM, -13.655 + rng.uniform(-0.004, 0.004), 9.548 + rng.uniform(-0.003, 0.003))
    add("viol", "2026-10-01", MATAM, -13.66, 9.55, sensitive=True)  # 2 sensitive reports: below the threshold
    add("viol", "2026-10-02", MATAM, -13.66, 9.55, sensitive=True)
    add("vol", "2026-10-15", DIXINN, -13.672, 9.540)  # next door: not in Matam's figures
    add("vol", "2024-01-10", MATAM, *MARKET)  # before the twelve months
    frame = pd.DataFrame(rows)
    frame["precision"] = "point"
    frame["source_id"] = [f"t{i}" for i in range(len(frame))]
    for res in (6, 7, 8, 9):
        frame[f"h3_r{res}"] = pd.array(cells.to_db(cells.points_to_cells(frame["lon"], frame["lat"], res)),
                                       dtype="Int64")
    return frame


def _crashes() -> pd.DataFrame:
    severity = ["fatal", "fatal", "serious", "slight", "slight", "slight"]
    frame = pd.DataFrame({"severity": severity, "killed": [1, 1, 0, 0, 0, 0], "injured": [0, 2, 3, 1, 0, 1],
                          "occurred_at": pd.date_range("2026-02-01", periods=6, freq="20D", tz="UTC"),
                          "lon": [-13.650] * 6, "lat": [9.546] * 6, "region_id": "GN-C", "prefecture_id": "GN-C",
                          "subprefecture_id": "GN-C-MATAM"})
    for res in (7, 8, 9):
        frame[f"h3_r{res}"] = pd.array(cells.to_db(cells.points_to_cells(frame["lon"], frame["lat"], res)),
                                       dtype="Int64")
    return frame


@pytest.fixture
def filled(store: Store) -> Store:
    store.write({"incident": _incidents(), "road_crash": _crashes()}, kind="test")
    council = store.add_record("council", {"name": "CLSPD de Matam", "unit_level": "subprefecture",
                                           "unit_id": "GN-C-MATAM", "established_on": "2025-01-15"},
                               today=dt.date(2026, 10, 20))
    for day in ("2026-02-03", "2026-06-04"):
        store.add_record("council_meeting", {"council_id": council, "held_on": day, "attendance": 12},
                         today=dt.date(2026, 10, 20))
    return store


def _plan(store: Store) -> dict:
    plan_id = store.create_plan(plan_unit("subprefecture", "GN-C-MATAM"), title="Plan de Matam",
                                period_start=dt.date(2027, 1, 1), period_end=dt.date(2029, 12, 31))
    return store.plan(plan_id)


def test_diagnosis_figures_match_the_records(filled):
    plan = _plan(filled)
    dg = diagnosis(filled, plan, ADMIN, as_of=dt.date(2026, 10, 20), lang="fr")
    assert (dg["start"], dg["end"]) == ("2025-11-01", "2026-10-31")
    assert [p[0] for p in dg["periods"]] == ["2025-11-01", "2026-02-01", "2026-05-01", "2026-08-01"]
    by = {c["category"]: c for c in dg["incidents"]["by_category"]}
    assert by["vol"]["counts"] == [1, 2, 3, 4] and by["vol"]["trend"] == "rising" and by["vol"]["change"] == 1
    assert by["vol"]["label"] == "Vol simple"
    assert by["agression"]["counts"] == [3, 3, 3, 3] and by["agression"]["trend"] == "stable"
    assert by["viol"]["counts"] == [0, 0, 0, 2]
    assert by["cambriolage"]["counts"] == [2, 3, 2, 3] and by["cambriolage"]["trend"] == "stable"
    assert dg["incidents"]["total"] == 10 + 10 + 12 + 2 and dg["incidents"]["sensitive"] == 2
    matam_pop = population("subprefecture").set_index("unit_id").loc["GN-C-MATAM", "population"]
    assert dg["population"] == pytest.approx(matam_pop)
    assert dg["incidents"]["per_10000"] == pytest.approx(34 / matam_pop * 10_000)
    crashes = dg["crashes"]
    assert (crashes["total"], crashes["fatal"], crashes["serious"], crashes["slight"]) == (6, 2, 1, 3)
    assert (crashes["killed"], crashes["injured"]) == (2, 7)
    assert crashes["blackspots"][0]["crashes"] == 6 and crashes["blackspots"][0]["epdo"] == 2 * 10 + 5 + 3
    market_cell = cells.to_str(cells.points_to_cells([MARKET[0]], [MARKET[1]], dg["hotspots"]["resolution"]))[0]
    assert dg["hotspots"]["resolution"] == 9  # Matam is a small commune: fine cells
    top = {h["cell"]: h for h in dg["hotspots"]["top"]}
    assert market_cell in top and top[market_cell]["count"] == 20  # the market is hot (Gi*, FDR)
    assert top[market_cell]["place"].startswith("Matam")
    assert dg["programme"]["councils"] == 1 and dg["programme"]["meetings"] == 2
    json.dumps(dg)  # frozen with the plan as JSON


def test_a_neighbourhood_diagnosis_counts_what_happened_inside_it(filled):
    """The market quarter holds the 20 thefts and burglaries, none of the scattered assaults, the crashes
    or the sensitive reports; a report placed there by name only is left out."""
    by_name = _incidents().iloc[[0]].assign(precision="subprefecture", source_id="by-name",
                                            occurred_at=pd.Timestamp("2026-09-12", tz="UTC"))
    filled.write({"incident": by_name}, kind="test")
    filled.add_neighbourhood("Marché de Matam", shapely.box(MARKET[0] - 0.002, MARKET[1] - 0.002,
                                                            MARKET[0] + 0.002, MARKET[1] + 0.002))
    hood = filled.neighbourhoods()
    plan_id = filled.create_plan(plan_unit("neighbourhood", hood["unit_id"].iloc[0], filled), title="Plan du marché",
                                 period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31))
    dg = diagnosis(filled, filled.plan(plan_id), ADMIN, as_of=dt.date(2026, 10, 20))
    by = {c["category"]: c["counts"] for c in dg["incidents"]["by_category"]}
    assert by == {"vol": [1, 2, 3, 4], "cambriolage": [2, 3, 2, 3]}
    assert dg["incidents"]["total"] == 20 and dg["incidents"]["sensitive"] == 0
    assert dg["crashes"]["total"] == 0 and dg["crashes"]["blackspots"] == []
    market_cell = cells.to_str(cells.points_to_cells([MARKET[0]], [MARKET[1]], dg["hotspots"]["resolution"]))[0]
    assert [h["cell"] for h in dg["hotspots"]["top"]] == [market_cell]  # Gi* of Matam, reported inside only
    assert dg["population"] is None and dg["incidents"]["per_10000"] is None  # not known for a neighbourhood
    assert dg["scope_note"] == "neighbourhood" and dg["programme"]["councils"] == 1  # Matam's programme
    whole = diagnosis(filled, _plan(filled), ADMIN, as_of=dt.date(2026, 10, 20))
    assert whole["incidents"]["total"] == 10 + 10 + 12 + 2 + 1  # the commune counts the report placed by name


def test_a_council_member_gets_counts_without_small_sensitive_ones(filled):
    plan = _plan(filled)
    dg = diagnosis(filled, plan, MEMBER, as_of=dt.date(2026, 10, 20))
    assert dg["incidents"]["suppressed"] is True
    assert "viol" not in {c["category"] for c in dg["incidents"]["by_category"]}
    assert dg["incidents"]["total"] == 32 and dg["incidents"]["sensitive"] == 0
    text = json.dumps(dg)
    assert "-13.66," not in text and "9.55," not in text  # no sensitive point travels in the diagnosis
    sensitive_cell = cells.to_str(cells.points_to_cells([-13.66], [9.55], dg["hotspots"]["resolution"]))[0]
    assert sensitive_cell not in text


def test_the_diagnosis_window_ends_at_the_newest_report_up_to_the_day_asked(filled):
    plan = _plan(filled)
    early = diagnosis(filled, plan, ADMIN, as_of=dt.date(2026, 7, 1))
    assert early["end"] == "2026-06-30"  # newest report by then: 10 June
    by = {c["category"]: c for c in early["incidents"]["by_category"]}
    assert sum(by["vol"]["counts"]) == 1 + 2 + 3


def test_exports_of_a_plan(filled):
    plan = _plan(filled)
    xss = "=HYPERLINK(\"http://x\")<img src=x onerror=alert(1)>"
    pid = filled.add_priority(plan["id"], {"title": xss, "raised_by": "youth"}, shapely.Point(*MARKET), kind="point")
    filled.add_action(plan["id"], {"priority_id": pid, "title": xss, "responsible": "Mairie",
                                   "start_on": "2027-01-01", "end_on": "2027-06-30", "budget_gnf": 5_000_000},
                      user=None)
    t = Translator("fr")
    geo = json.loads(priorities_geojson(filled.plan(plan["id"]), filled.plan_priorities(plan["id"]), t))
    feature = geo["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": list(MARKET)}
    assert feature["properties"]["title"] == xss and feature["properties"]["raised_by"] == "Jeunes"
    assert feature["properties"]["plan_status"] == "draft"
    csv, _ = actions_bytes(filled.plan_actions(plan["id"]), filled.plan_priorities(plan["id"]), "csv", t)
    table = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert table["Action"].iloc[0] == "'" + xss  # formula neutralized
    assert table["Priorité"].iloc[0] == "1. " + xss  # does not start with a formula character
    xlsx, _ = actions_bytes(filled.plan_actions(plan["id"]), filled.plan_priorities(plan["id"]), "xlsx", t)
    sheet = pd.read_excel(io.BytesIO(xlsx))
    assert sheet["Budget (GNF)"].iloc[0] == 5_000_000 and str(sheet["Action"].iloc[0]).startswith("'=")


def test_overview_of_adopted_plans(filled):
    plan = _plan(filled)
    pid = filled.add_priority(plan["id"], {"title": "Marché"}, shapely.Point(*MARKET), kind="point")
    aid = filled.add_action(plan["id"], {"priority_id": pid, "title": "Patrouilles", "responsible": "Police",
                                         "start_on": "2027-01-01", "end_on": "2027-03-31", "budget_gnf": 10,
                                         "indicator": "vols", "baseline": 10, "target": 0})
    filled.add_action(plan["id"], {"title": "Lampadaires", "responsible": "Mairie", "start_on": "2027-01-01",
                                   "end_on": "2027-12-31", "budget_gnf": 30})
    assert plans_overview(filled, ADMIN, today=dt.date(2027, 6, 1)).empty  # drafts are not followed up
    filled.adopt_plan(plan["id"], version=filled.plan(plan["id"])["version"], adopted_on=dt.date(2026, 12, 1),
                      signatories=[{"name": "Maire"}])
    filled.record_followup(aid, recorded_on=dt.date(2027, 2, 1), indicator_value=4)
    row = plans_overview(filled, ADMIN, today=dt.date(2027, 6, 1)).iloc[0]
    assert (row["actions"], row["done"], row["late"]) == (2, 0, 1)  # the patrols ended in March, not done
    assert row["mean_progress"] == pytest.approx(0.6) and row["budget_gnf"] == 40
