"""The demo local security plan: adopted, followed up, labelled as demo, replaced, never touching real plans."""

from __future__ import annotations

import datetime as dt

from demo.generate import generate
from demo.plans import add_demo_plan
from exchange.plans import plan_unit, plans_overview, unit_shape
from storage.roles import Viewer


def test_the_demo_plan_is_adopted_labelled_and_replaced(sqlite_store):
    store = sqlite_store
    store.replace_demo(generate(n_incidents=2000), kind="demo")
    real = store.create_plan(plan_unit("subprefecture", "GN-C-MATAM"), title="Plan de Matam",
                             period_start=dt.date(2027, 1, 1), period_end=dt.date(2027, 12, 31))
    first = add_demo_plan(store)
    plan = store.plan(first)
    assert plan["status"] == "adopted" and plan["is_demo"] and plan["title"].startswith("[Démo]")
    assert plan["diagnosis"]["demo"] is True and plan["diagnosis"]["unit"]["unit_id"] == "GN-C-KALOUM"
    priorities, actions = store.plan_priorities(first), store.plan_actions(first)
    assert priorities["kind"].tolist() == ["area", "line", "point"]
    assert priorities.geometry.intersects(unit_shape(plan)).all()
    assert all(title.startswith("[Démo]") for title in [*priorities["title"], *actions["title"]])
    overview = plans_overview(store, Viewer(role="planner"), today=dt.date(2026, 11, 1)).set_index("plan_id")
    assert overview.loc[first, "actions"] == 4 and overview.loc[first, "in_progress"] == 2
    second = add_demo_plan(store)
    assert set(store.plans()["id"]) == {second, real}
    assert store.plan(real)["title"] == "Plan de Matam"
    assert store.plan_followups(second)["note"].eq("[Démo]").all()
