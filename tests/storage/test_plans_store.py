"""Local security plans in the store, on SQLite and PostGIS: the draft → adopted → new version cycle and
its rules, conflicts between two editors, who may write which plan, and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest

import shapely

from exchange.plans import plan_unit
from storage import Store
from storage.imports import StaleVersionError
from storage.plans import PlanError
from storage.roles import PermissionDenied, Viewer

MATAM_MEMBER = Viewer(name="awa", role="council_member", scopes=(("subprefecture", "GN-C-MATAM"),))
DIXINN_MEMBER = Viewer(name="ibrahima", role="council_member", scopes=(("subprefecture", "GN-C-DIXINN"),))
COMMANDER = Viewer(name="cdt", role="commander")
PUBLIC = Viewer(name="public", role="viewer")
SQUARE = shapely.box(-13.664, 9.542, -13.662, 9.544)  # inside Matam


def _plan(store: Store, unit: str = "GN-C-MATAM", user: object = None) -> int:
    return store.create_plan(plan_unit("subprefecture", unit), title=f"Plan {unit}",
                             period_start=dt.date(2027, 1, 1), period_end=dt.date(2029, 12, 31), user=user)


def _fill(store: Store, plan_id: int, user: object = None) -> tuple[int, int]:
    pid = store.add_priority(plan_id, {"title": "Marché", "category": "vol", "raised_by": "women"}, SQUARE,
                             kind="area", user=user)
    aid = store.add_action(plan_id, {"priority_id": pid, "title": "Patrouilles", "responsible": "Commissariat",
                                     "start_on": "2027-01-01", "end_on": "2027-12-31", "budget_gnf": 1_000_000,
                                     "indicator": "Vols par mois", "baseline": 20, "target": 10}, user=user)
    return pid, aid


def _adopt(store: Store, plan_id: int, user: object = None) -> None:
    store.adopt_plan(plan_id, version=store.plan(plan_id)["version"], adopted_on=dt.date(2026, 12, 1),
                     signatories=[{"name": "Maire", "role": "Président"}], diagnosis={"incidents": {"total": 3}},
                     user=user)


def test_a_plan_goes_from_draft_to_adopted_and_is_then_frozen(store):
    plan_id = _plan(store)
    plan = store.plan(plan_id)
    assert plan["status"] == "draft" and plan["series_id"] == plan_id and plan["version_no"] == 1
    assert plan["unit_name"] == "Matam" and plan["prefecture_id"] == "GN-C"
    version = store.update_plan(plan_id, {"notes": {"perceived_insecurity": "Vols à l'arraché au marché"}},
                                version=plan["version"])
    with pytest.raises(PlanError) as empty:
        _adopt(store, plan_id)
    assert empty.value.code == "plan_incomplete"
    pid, aid = _fill(store, plan_id)
    with pytest.raises(PlanError) as unsigned:
        store.adopt_plan(plan_id, version=version, adopted_on=dt.date(2026, 12, 1), signatories=[{"name": " "}])
    assert unsigned.value.code == "signatories_missing"
    _adopt(store, plan_id)
    plan = store.plan(plan_id)
    assert plan["status"] == "adopted" and plan["adopted_on"] == dt.date(2026, 12, 1)
    assert plan["diagnosis"] == {"incidents": {"total": 3}}
    assert plan["notes"]["perceived_insecurity"] == "Vols à l'arraché au marché"
    for change in (lambda: store.update_plan(plan_id, {"title": "x"}, version=plan["version"]),
                   lambda: store.add_priority(plan_id, {"title": "y"}, SQUARE, kind="area"),
                   lambda: store.update_action(aid, {"title": "z"}, version=1),
                   lambda: store.delete_priority(pid, version=1),
                   lambda: store.delete_plan(plan_id, version=plan["version"])):
        with pytest.raises(PlanError) as frozen:
            change()
        assert frozen.value.code == "plan_frozen"
    assert store.plan_actions(plan_id)["title"].tolist() == ["Patrouilles"]


def test_a_new_version_copies_the_adopted_one_and_takes_over_its_follow_up(store):
    plan_id = _plan(store)
    pid, aid = _fill(store, plan_id)
    with pytest.raises(PlanError) as not_adopted:
        store.record_followup(aid, recorded_on=dt.date(2027, 2, 1), status="in_progress")
    assert not_adopted.value.code == "plan_not_adopted"
    with pytest.raises(PlanError) as draft:
        store.new_plan_version(plan_id)
    assert draft.value.code == "already_draft"
    _adopt(store, plan_id)
    store.record_followup(aid, recorded_on=dt.date(2027, 2, 1), status="in_progress", indicator_value=17)
    with pytest.raises(PlanError) as nothing:
        store.record_followup(aid, recorded_on=dt.date(2027, 3, 1))
    assert nothing.value.code == "followup_empty"

    v2 = store.new_plan_version(plan_id)
    with pytest.raises(PlanError) as twice:
        store.new_plan_version(plan_id)
    assert twice.value.code == "draft_exists"
    draft = store.plan(v2)
    assert (draft["status"], draft["series_id"], draft["version_no"]) == ("draft", plan_id, 2)
    priorities, actions = store.plan_priorities(v2), store.plan_actions(v2)
    assert priorities["origin_id"].tolist() == [pid] and actions["origin_id"].tolist() == [aid]
    assert actions["priority_id"].tolist() == priorities["id"].tolist()  # the link follows the copy
    assert priorities.geometry.iloc[0].equals(SQUARE)
    store.update_action(int(actions["id"].iloc[0]), {"target": 8}, version=int(actions["version"].iloc[0]))
    store.record_followup(aid, recorded_on=dt.date(2027, 4, 1), indicator_value=14)  # still on the adopted v1
    _adopt(store, v2)
    assert store.plan(plan_id)["status"] == "superseded" and store.plan(v2)["status"] == "adopted"
    with pytest.raises(PlanError):
        store.record_followup(aid, recorded_on=dt.date(2027, 5, 1), indicator_value=12)
    carried = store.plan_followups(v2)
    assert carried["indicator_value"].tolist() == [17.0, 14.0]
    assert set(carried["action_id"]) == {int(actions["id"].iloc[0])}
    assert store.plan_followups(plan_id)["indicator_value"].tolist() == [17.0, 14.0]  # history stays


def test_the_second_of_two_editors_gets_a_conflict_and_the_first_text_stays(store):
    plan_id = _plan(store)
    read_at = store.plan(plan_id)["version"]
    store.update_plan(plan_id, {"notes": {"consultations": "Marche exploratoire du 3 mars"}}, version=read_at)
    with pytest.raises(StaleVersionError):
        store.update_plan(plan_id, {"notes": {"consultations": "Texte de la deuxième personne"}}, version=read_at)
    assert store.plan(plan_id)["notes"]["consultations"] == "Marche exploratoire du 3 mars"
    _, aid = _fill(store, plan_id)
    store.update_action(aid, {"budget_gnf": 2_000_000}, version=1)
    with pytest.raises(StaleVersionError):
        store.update_action(aid, {"budget_gnf": 5}, version=1)
    assert store.plan_actions(plan_id)["budget_gnf"].tolist() == [2_000_000.0]
    # Items and the plan's own text do not conflict with each other: adding a priority keeps the plan's version.
    assert store.plan(plan_id)["version"] == read_at + 1


def test_adoption_is_refused_when_the_items_changed_since_the_council_saw_them(store):
    plan_id = _plan(store)
    pid, aid = _fill(store, plan_id)
    shown = store.plan_content(plan_id)
    assert store.plan_content(plan_id) == shown  # a fingerprint, stable while nothing changes
    store.update_action(aid, {"budget_gnf": 9_000_000}, version=1)  # someone else, meanwhile
    with pytest.raises(StaleVersionError):
        store.adopt_plan(plan_id, version=store.plan(plan_id)["version"], adopted_on=dt.date(2026, 12, 1),
                         signatories=[{"name": "Maire"}], content=shown)
    assert store.plan(plan_id)["status"] == "draft"
    seen = store.plan_content(plan_id)
    extra = store.add_priority(plan_id, {"title": "Gare routière"}, SQUARE.centroid, kind="point")
    assert store.plan_content(plan_id) != seen  # an added item counts
    store.delete_priority(extra, version=1)
    assert store.plan_content(plan_id) == seen  # the same items as were shown
    store.adopt_plan(plan_id, version=store.plan(plan_id)["version"], adopted_on=dt.date(2026, 12, 1),
                     signatories=[{"name": "Maire"}], content=seen)
    assert store.plan(plan_id)["status"] == "adopted"
    assert store.plan_actions(plan_id)["budget_gnf"].tolist() == [9_000_000.0]


@pytest.mark.postgis
def test_an_item_edit_waits_for_an_adoption_in_progress_and_then_finds_the_plan_frozen(postgis_store):
    """PostgreSQL runs writers side by side: without the plan row lock an action could change between the
    adoption's checks and its commit, and the adopted version would not be what was adopted."""
    import threading

    import sqlalchemy as sa

    from storage.schema import metadata

    store = postgis_store
    plan_id = _plan(store)
    _, aid = _fill(store, plan_id)
    plans = metadata.tables["security_plan"]
    outcome: list[object] = []
    with store.engine.connect() as adopting:
        adopting.begin()
        adopting.execute(sa.select(plans.c.id).where(plans.c.id == plan_id).with_for_update())  # as adopt_plan
        editor = threading.Thread(target=lambda: outcome.append(_try(
            lambda: store.update_action(aid, {"budget_gnf": 5}, version=1))))
        editor.start()
        editor.join(timeout=1.5)
        assert editor.is_alive() and not outcome  # the edit waits for the adoption
        adopting.execute(plans.update().where(plans.c.id == plan_id).values(status="adopted"))
        adopting.commit()
    editor.join(timeout=30)
    assert isinstance(outcome[0], PlanError) and outcome[0].code == "plan_frozen"
    assert store.plan_actions(plan_id)["budget_gnf"].tolist() == [1_000_000.0]


@pytest.mark.postgis
def test_two_people_asking_for_a_new_version_at_once_get_one_draft(postgis_store):
    import threading

    store = postgis_store
    plan_id = _plan(store)
    _fill(store, plan_id)
    _adopt(store, plan_id)
    start = threading.Barrier(4)
    outcome: list[object] = []

    def ask() -> None:
        start.wait()
        outcome.append(_try(lambda: store.new_plan_version(plan_id)))

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join(timeout=60)
    drafts = [o for o in outcome if isinstance(o, int)]
    refused = [o for o in outcome if isinstance(o, PlanError)]
    assert len(drafts) == 1 and len(refused) == 3, outcome
    assert {e.code for e in refused} == {"draft_exists"}
    assert store.plan(drafts[0])["version_no"] == 2


def _try(call):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - the test inspects what the writer got
        return exc


def test_council_members_write_only_the_plans_of_their_own_unit(store):
    mine = _plan(store, user=MATAM_MEMBER)
    other = _plan(store, "GN-C-DIXINN")
    with pytest.raises(PermissionDenied):
        _plan(store, "GN-C-KALOUM", user=MATAM_MEMBER)
    _fill(store, mine, user=MATAM_MEMBER)
    for user in (MATAM_MEMBER, COMMANDER, PUBLIC):
        with pytest.raises(PermissionDenied):
            store.update_plan(other, {"title": "pris"}, version=store.plan(other)["version"], user=user)
        with pytest.raises(PermissionDenied):
            store.add_priority(other, {"title": "pris"}, SQUARE, kind="area", user=user)
    with pytest.raises(PermissionDenied):
        _fill(store, mine, user=DIXINN_MEMBER)
    listed = store.plans(MATAM_MEMBER).set_index("id")
    assert listed.loc[mine, "editable"] and not listed.loc[other, "editable"]  # both readable
    assert store.plans(MATAM_MEMBER, mine=True)["id"].tolist() == [mine]
    _adopt(store, mine, user=MATAM_MEMBER)
    aid = int(store.plan_actions(mine)["id"].iloc[0])
    with pytest.raises(PermissionDenied):
        store.record_followup(aid, recorded_on=dt.date(2027, 2, 1), status="done", user=DIXINN_MEMBER)
    store.record_followup(aid, recorded_on=dt.date(2027, 2, 1), status="done", user=MATAM_MEMBER)
    # The public sees adopted plans only, never drafts.
    assert store.plans(PUBLIC)["id"].tolist() == [mine]
    with pytest.raises(KeyError):
        store.plan(other, PUBLIC)


def test_a_neighbourhood_council_writes_its_neighbourhood_plan(store):
    store.add_neighbourhood("Madina Marché", shapely.box(-13.664, 9.540, -13.660, 9.546))
    hood = store.neighbourhoods()
    unit = plan_unit("neighbourhood", hood["unit_id"].iloc[0], store)
    assert unit["subprefecture_id"] == hood["subprefecture_id"].iloc[0]
    member = Viewer(name="kadi", role="council_member", scopes=(("neighbourhood", unit["unit_id"]),))
    plan_id = store.create_plan(unit, title="Plan du quartier", period_start=dt.date(2027, 1, 1),
                                period_end=dt.date(2027, 12, 31), user=member)
    store.add_priority(plan_id, {"title": "Ruelle sombre"}, shapely.Point(-13.662, 9.543), kind="point", user=member)
    with pytest.raises(PermissionDenied):
        _plan(store, unit["subprefecture_id"], user=member)  # the commune's plan is not theirs


def test_bad_values_are_refused_with_their_reason(store):
    plan_id = _plan(store)
    other = _plan(store, "GN-C-DIXINN")
    other_priority = store.add_priority(other, {"title": "Ailleurs"}, SQUARE, kind="area")
    cases = [({"title": "a", "responsible": "b", "start_on": "2027-05-01", "end_on": "2027-01-01"}, "dates_reversed"),
             ({"title": "a", "responsible": "b", "start_on": "2027-01-01", "end_on": "2027-02-01", "budget_gnf": -1},
              "budget_negative"),
             ({"title": "a", "start_on": "2027-01-01", "end_on": "2027-02-01"}, "responsible_missing"),
             ({"title": "a", "responsible": "b", "start_on": "01/02/2027", "end_on": "2027-02-01"}, "date_invalid"),
             ({"title": "a", "responsible": "b", "start_on": "2027-01-01", "end_on": "2027-02-01",
               "priority_id": other_priority}, "priority_not_in_plan")]
    for values, code in cases:
        with pytest.raises(PlanError) as refused:
            store.add_action(plan_id, values)
        assert refused.value.code == code
    with pytest.raises(PlanError) as raised:
        store.add_priority(plan_id, {"title": "x", "raised_by": "aliens"}, SQUARE, kind="area")
    assert raised.value.code == "raised_by_invalid"
    with pytest.raises(PlanError) as period:
        store.create_plan(plan_unit("subprefecture", "GN-C-MATAM"), title="x", period_start=dt.date(2028, 1, 1),
                          period_end=dt.date(2027, 1, 1))
    assert period.value.code == "period_reversed"
    assert store.plan_actions(plan_id).empty


def test_every_plan_change_is_in_the_audit_log(store):
    plan_id = _plan(store, user=MATAM_MEMBER)
    pid, aid = _fill(store, plan_id, user=MATAM_MEMBER)
    _adopt(store, plan_id, user=MATAM_MEMBER)
    log = store.audit_log()
    log = log[log["table_name"].isin(["security_plan", "plan_priority", "plan_action"])]
    assert set(log["username"]) == {"awa"}
    kinds = list(zip(log["action"], log["table_name"], strict=True))
    assert ("create", "security_plan") in kinds and ("create", "plan_priority") in kinds
    assert ("create", "plan_action") in kinds
    adopt = log[(log["table_name"] == "security_plan") & (log["detail"] == "adopt")]
    assert len(adopt) == 1 and '"adopted"' in adopt["after"].iloc[0]
