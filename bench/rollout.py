"""Benchmark: national rollout plan over all 340 sub-prefectures, 3 phases, typical limits.

    .venv/bin/python bench/rollout.py
    .venv/bin/python bench/rollout.py --trials 50 --no-demo

Assumptions (stated, not measured facts about the programme):

* 51 instructors, each training 25 officers per phase: 1,275 officers per phase;
* 3 phases (e.g. three years), a budget of 1.5 billion GNF per phase (4.5 billion in all);
* a community costs 50 million GNF plus 1 million GNF per officer trained;
* officers to train per sub-prefecture: one per 1,000 inhabitants (2014 census shared
  out by area), at least 10, at most 250 (:class:`geo.rollout.Limits` defaults).

Stages, each timed: (1) the demo store (seed 2014, 8,000 incidents) in a temporary
SQLite file; (2) the candidate table from it (``exchange.rollout.candidate_table``);
(3) scoring with the default scenario and 500 weight draws of ±20 %; (4) the optimal
phased selection (target: under 10 s); (5) the same selection for ``--trials`` random
score vectors on the real populations, with the budget per phase, with a total budget
only, with a budget so large that the instructors are the binding limit, and with the
15 km covering variant, to show the time does not hinge on one
lucky instance. Every plan must come back ``optimal`` and within its limits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo import rollout as ro  # noqa: E402
from geo.population import population  # noqa: E402

TARGET_S = 10.0
LIMITS = ro.Limits(instructors=51, officers_per_instructor=25, phases=3, budget_per_phase=1.5e9,
                   cost_fixed=50e6, cost_per_officer=1e6)


def check(plan: ro.Plan, limits: ro.Limits) -> None:
    """Every limit holds exactly and the plan is proven optimal."""
    chosen = plan.units[plan.units["selected"]]
    per_phase = chosen.groupby("phase")[["officers", "cost"]].sum()
    assert plan.status == "optimal", plan.status
    assert (per_phase["officers"] <= limits.capacity).all()
    if limits.budget_per_phase is not None:
        assert (per_phase["cost"] <= limits.budget_per_phase).all()
    if limits.budget_total is not None:
        assert per_phase["cost"].sum() <= limits.budget_total
    assert chosen["unit_id"].is_unique


def demo_plan(draws: int) -> None:
    from demo.generate import generate
    from exchange.rollout import candidate_table
    from storage import open_store

    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        store.replace_demo(generate(2014, n_incidents=8000))
        t1 = time.perf_counter()
        table = candidate_table(store, "subprefecture", start="2025-11-01", end="2026-10-31")
        t2 = time.perf_counter()
        store.dispose()
    scenario = ro.Scenario.default()
    scores = scenario.score(table)
    t3 = time.perf_counter()
    spread = ro.sensitivity(scores, draws=draws, seed=1)
    t4 = time.perf_counter()
    plan = ro.select(scores, LIMITS)
    t5 = time.perf_counter()
    check(plan, LIMITS)
    print(f"(1) demo store (8,000 incidents)        {t1 - t0:7.2f} s")
    print(f"(2) candidate table, 340 units          {t2 - t1:7.2f} s   notes: {table.attrs.get('notes') or 'none'}")
    print(f"(3) score                               {t3 - t2:7.3f} s")
    print(f"    sensitivity, {draws} draws ±20 %      {t4 - t3:7.3f} s   "
          f"median rank range {float((spread['rank_max'] - spread['rank_min']).median()):.0f}")
    wall = t5 - t4
    print(f"(4) optimal phased selection            {wall:7.3f} s   status {plan.status}, cuts {plan.cuts}, "
          f"solver {plan.solver}  [{'PASS' if wall < TARGET_S else 'FAIL'}: target < {TARGET_S:.0f} s]")
    for row in plan.phases.itertuples(index=False):
        print(f"    phase {row.phase}: {row.units:3d} units, {row.officers:6.0f} officers "
              f"({row.capacity_used:.0%} of capacity), {row.cost / 1e9:.3f} bn GNF, "
              f"{row.population:9,.0f} inhabitants, {row.incident_share:.1%} of incidents")
    print(f"    total: {plan.totals['units']} units, {plan.totals['cost'] / 1e9:.3f} bn GNF, "
          f"objective {plan.objective:.4f}")


def trials(n: int) -> None:
    pop = population("subprefecture")
    rng = np.random.default_rng(7)
    from geo.boundaries import load_units

    units = load_units("subprefecture").set_index("unit_id").reindex(pop["unit_id"])
    lon_lat = units["label_lon"].to_numpy(float), units["label_lat"].to_numpy(float)
    variants = {
        "budget per phase": (LIMITS, None),
        "total budget only": (ro.Limits(instructors=51, phases=3, budget_total=4.5e9), None),
        "instructors bind": (ro.Limits(instructors=51, phases=3, budget_per_phase=6e9), None),
        "covering 15 km": (LIMITS, 15.0),
    }
    for label, (limits, km) in variants.items():
        times = []
        for _ in range(n):
            table = pd.DataFrame({"unit_id": pop["unit_id"], "score": rng.random(len(pop)),
                                  "population": pop["population"], "lon": lon_lat[0], "lat": lon_lat[1]})
            plan = ro.select(table, limits, coverage_km=km)
            check(plan, limits)
            times.append(plan.seconds)
        t = np.array(times)
        print(f"(5) {label:<18} {n:3d} random instances: median {np.median(t):6.3f} s, "
              f"max {t.max():6.3f} s, all optimal  [{'PASS' if t.max() < TARGET_S else 'FAIL'}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="random score vectors per variant")
    parser.add_argument("--draws", type=int, default=500, help="weight draws for the sensitivity analysis")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo store and candidate table")
    args = parser.parse_args()
    print(f"limits: {LIMITS.instructors} instructors × {LIMITS.officers_per_instructor} officers = "
          f"{LIMITS.capacity} officers per phase, {LIMITS.phases} phases, {LIMITS.budget_per_phase / 1e9:.1f} bn GNF "
          f"per phase; cost {LIMITS.cost_fixed / 1e6:.0f} M + {LIMITS.cost_per_officer / 1e6:.0f} M GNF per officer")
    if not args.no_demo:
        demo_plan(args.draws)
    if args.trials:
        trials(args.trials)


if __name__ == "__main__":
    main()
