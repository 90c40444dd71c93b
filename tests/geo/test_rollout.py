"""Rollout planner: rankings with known answers, normalization and missing-value rules, sensitivity against a
naive loop, scenarios as JSON, and the optimizer against brute-force enumeration of every phased plan."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from pyproj import Geod

from geo import rollout as ro

GEOD = Geod(ellps="WGS84")
INCIDENTS = ro.Criterion("incidents", "Incidents", "need", 1.0, "high")
TRAINED = ro.Criterion("trained", "Officers trained", "need", 1.0, "low")


def _table() -> pd.DataFrame:
    #           A   B   C   D
    # incidents 10  0   5   5   (need when high)
    # trained    0  0  10  20   (need when low)
    return pd.DataFrame({"unit_id": list("ABCD"), "name": ["Alpha", "Bravo", "Charlie", "Delta"],
                         "incidents": [10.0, 0.0, 5.0, 5.0], "trained": [0.0, 0.0, 10.0, 20.0]})


def _by_id(result: ro.ScoreResult, column: str) -> dict:
    return dict(zip(result.table["unit_id"], result.table[column], strict=True))


# --- ranking ------------------------------------------------------------------------------------------


def test_ranking_on_a_hand_made_table_has_the_known_order_and_breakdown():
    result = ro.score(_table(), [INCIDENTS, TRAINED])
    # min-max: incidents [1, 0, .5, .5]; trained, low = need: [1, 1, .5, 0]; equal weights
    assert _by_id(result, "score") == pytest.approx({"A": 1.0, "B": 0.5, "C": 0.5, "D": 0.25})
    assert _by_id(result, "rank") == {"A": 1, "B": 2, "C": 2, "D": 4}  # B and C tie
    assert result.table["unit_id"].tolist() == ["A", "B", "C", "D"]
    parts = result.table[["contrib_incidents", "contrib_trained"]].sum(axis=1)
    np.testing.assert_allclose(parts, result.table["score"])
    explained = result.breakdown("C").set_index("key")
    assert explained.loc["incidents", "normalized"] == pytest.approx(0.5)
    assert explained.loc["trained", "contribution"] == pytest.approx(0.25)
    assert explained["weight"].sum() == pytest.approx(1.0)


def test_weight_changes_move_ranks_as_expected():
    heavier = ro.score(_table(), [INCIDENTS, ro.Criterion("trained", "Officers trained", "need", 3.0, "low")])
    # B: 0 × 1/4 + 1 × 3/4 = .75 ; C: .5 × 1/4 + .5 × 3/4 = .5
    assert _by_id(heavier, "rank") == {"A": 1, "B": 2, "C": 3, "D": 4}
    only_incidents = ro.score(_table(), [INCIDENTS, ro.Criterion("trained", "t", "need", 0.0, "low")])
    assert _by_id(only_incidents, "rank") == {"A": 1, "C": 2, "D": 2, "B": 4}
    assert [c.key for c in only_incidents.criteria] == ["incidents"]  # weight 0: left out


def test_readiness_reverses_a_criterion():
    ready = ro.score(_table(), [INCIDENTS, ro.Criterion("trained", "t", "readiness", 1.0, "low")])
    # trained, readiness: more trained first -> [0, 0, .5, 1]
    assert _by_id(ready, "score") == pytest.approx({"A": 0.5, "B": 0.0, "C": 0.5, "D": 0.75})
    assert ready.table["unit_id"].iloc[0] == "D"


def test_rank_method_gives_the_share_of_units_beaten_ties_counting_half():
    result = ro.score(_table(), [INCIDENTS], method="rank")
    # incidents 10, 0, 5, 5: A beats 3 of 3, B none, C beats B and half of D: 1.5 of 3
    assert _by_id(result, "norm_incidents") == pytest.approx({"A": 1.0, "B": 0.0, "C": 0.5, "D": 0.5})
    # an outlier does not flatten the others, as it does with min-max
    skewed = pd.DataFrame({"unit_id": list("ABCD"), "incidents": [1.0, 2.0, 3.0, 1000.0]})
    assert _by_id(ro.score(skewed, [INCIDENTS], method="rank"), "norm_incidents")["B"] == pytest.approx(1 / 3)
    assert _by_id(ro.score(skewed, [INCIDENTS]), "norm_incidents")["B"] == pytest.approx(1 / 999)


@pytest.mark.parametrize("method", ["minmax", "rank"])
def test_normalize_directions_and_constant_values(method):
    values = [3.0, 1.0, 2.0]
    need, _ = ro.normalize(values, method, "need", need_when="high")
    np.testing.assert_allclose(need, [1.0, 0.0, 0.5])
    ready, _ = ro.normalize(values, method, "readiness", need_when="high")
    np.testing.assert_allclose(ready, [0.0, 1.0, 0.5])
    low, _ = ro.normalize(values, method, "need", need_when="low")
    np.testing.assert_allclose(low, ready)
    flat, _ = ro.normalize([4.0, 4.0, 4.0], method)
    np.testing.assert_allclose(flat, [0.0, 0.0, 0.0])


def test_missing_values_follow_the_stated_rule_never_a_silent_zero():
    values = [10.0, None, 0.0, 4.0]
    out, rules = ro.normalize(values, missing="exclude")
    assert np.isnan(out[1]) and rules.tolist() == ["", "excluded", "", ""]
    np.testing.assert_allclose(out[[0, 2, 3]], [1.0, 0.0, 0.4])
    out, rules = ro.normalize(values, missing="impute_median")
    assert rules[1] == "median" and out[1] == pytest.approx(0.4)  # median of 10, 0, 4 is 4
    out, rules = ro.normalize(values, missing="impute_zero")
    assert rules[1] == "zero" and out[1] == 0.0
    with pytest.raises(ValueError, match="median"):
        ro.normalize([None, None], missing="impute_median")
    with pytest.raises(ValueError, match="not numbers"):
        ro.normalize(["12", "douze"])
    with pytest.raises(ValueError, match="missing must be"):
        ro.normalize([1.0], missing="zero")


def test_excluded_units_leave_the_ranking_and_do_not_stretch_the_scale():
    table = _table()
    table.loc[4] = {"unit_id": "E", "name": "Echo", "incidents": 1000.0, "trained": np.nan}
    result = ro.score(table, [INCIDENTS, TRAINED], missing="exclude")
    row = result.table.set_index("unit_id").loc["E"]
    assert row["excluded"] and np.isnan(row["score"]) and pd.isna(row["rank"])
    assert row["rule_trained"] == "excluded" and row["rule_incidents"] == ""
    assert result.table["unit_id"].iloc[-1] == "E"
    # E's 1000 incidents do not squash the others: same scores as without E
    assert _by_id(result, "score")["A"] == pytest.approx(1.0)
    per_criterion = ro.score(table, [INCIDENTS, TRAINED], missing={"trained": "impute_median"})
    row = per_criterion.table.set_index("unit_id").loc["E"]
    assert not row["excluded"] and row["imputed"] and row["rule_trained"] == "median"
    assert row["rank"] == 1


def test_a_criterion_without_any_value_is_dropped_and_reported():
    table = _table().assign(distance=np.nan)
    result = ro.score(table, [INCIDENTS, ro.Criterion("distance", "d", "need", 5.0)])
    assert result.dropped == ("distance",)
    assert [c.key for c in result.criteria] == ["incidents"]
    assert not result.table["excluded"].any()


def test_score_refuses_bad_input():
    with pytest.raises(ValueError, match="lacks the column"):
        ro.score(_table(), [ro.Criterion("nothing", "n")])
    with pytest.raises(ValueError, match="every weight is zero"):
        ro.score(_table(), [ro.Criterion("incidents", "i", weight=0)])
    with pytest.raises(ValueError, match="duplicate"):
        ro.score(pd.concat([_table(), _table()]), [INCIDENTS])
    with pytest.raises(ValueError, match="direction"):
        ro.Criterion("x", "x", "urgent")
    with pytest.raises(ValueError, match="weight of x"):
        ro.Criterion("x", "x", weight=-1)


# --- sensitivity --------------------------------------------------------------------------------------


def _random_table(n: int, seed: int) -> tuple[pd.DataFrame, list[ro.Criterion]]:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"unit_id": [f"U{i:02d}" for i in range(n)], "a": rng.random(n), "b": rng.random(n),
                          "c": rng.integers(0, 5, n).astype(float)})
    criteria = [ro.Criterion("a", "a", "need", 3.0), ro.Criterion("b", "b", "need", 2.0, "low"),
                ro.Criterion("c", "c", "readiness", 1.0)]
    return table, criteria


def test_sensitivity_matches_a_naive_loop_over_perturbed_weights():
    table, criteria = _random_table(25, seed=3)
    out = ro.sensitivity(table, criteria, perturbation=0.2, draws=40, seed=11)
    rng = np.random.default_rng(11)
    factors = rng.uniform(0.8, 1.2, size=(40, 3))
    ranks = []
    for row in factors:
        moved = [ro.Criterion(c.key, c.label_id, c.direction, c.weight * f, c.need_when)
                 for c, f in zip(criteria, row, strict=True)]
        ranks.append(_by_id(ro.score(table, moved), "rank"))
    naive = pd.DataFrame(ranks)
    got = out.set_index("unit_id")
    for unit in table["unit_id"]:
        assert got.loc[unit, "rank_min"] == naive[unit].min()
        assert got.loc[unit, "rank_max"] == naive[unit].max()
        assert got.loc[unit, "rank_median"] == naive[unit].median()
    assert (got["rank_min"] <= got["rank"]).all() and (got["rank"] <= got["rank_max"]).all()


def test_sensitivity_ranges_shrink_to_the_rank_without_perturbation_and_a_clear_leader_stays_first():
    table, criteria = _random_table(15, seed=4)
    table.loc[0, ["a", "b", "c"]] = [5.0, -1.0, 10.0]  # best on every criterion
    still = ro.sensitivity(table, criteria, perturbation=0.0, draws=20)
    assert (still["rank_min"] == still["rank"]).all() and (still["rank_max"] == still["rank"]).all()
    moved = ro.sensitivity(table, criteria, perturbation=0.2, draws=300, seed=1).set_index("unit_id")
    assert moved.loc["U00", "rank_min"] == moved.loc["U00", "rank_max"] == 1
    assert (moved["rank_max"] > moved["rank_min"]).any()
    with pytest.raises(ValueError, match="perturbation"):
        ro.sensitivity(table, criteria, perturbation=1.5)


# --- scenarios ----------------------------------------------------------------------------------------


def test_scenario_json_round_trip_and_criteria(tmp_path):
    scenario = ro.Scenario("Besoins d'abord", {"incidents_per_10000": 4, "population": 1},
                           directions={"distance_to_trained_km": "readiness"}, method="rank",
                           missing={"population": "impute_median"},
                           limits=ro.Limits(instructors=30, budget_total=2e9), coverage_km=15)
    again = ro.Scenario.from_json(scenario.to_json())
    assert again == scenario
    path = tmp_path / "scenario.json"
    scenario.save(path)
    assert ro.Scenario.load(path) == scenario
    assert json.loads(path.read_text(encoding="utf-8"))["name"] == "Besoins d'abord"
    crit = {c.key: c for c in scenario.criteria()}
    assert crit["incidents_per_10000"].weight == 4 and crit["officers_per_10000"].weight == 0
    assert crit["distance_to_trained_km"].direction == "readiness"
    assert crit["distance_to_trained_km"].priority_when == "low"  # readiness: near first
    assert crit["share_with_council"].priority_when == "high"  # default: councils make a unit ready


@pytest.mark.parametrize("data, message", [
    ({"name": "x", "weights": {"incidents": 1}}, None),
    ({"name": "x", "weights": {"incidents_per_10000": "a lot"}}, "must be a number"),
    ({"name": "", "weights": {"population": 1}}, "needs a name"),
    ({"name": "x", "weights": {"population": 1}, "colour": "red"}, "unknown scenario field"),
    ({"name": "x", "weights": {"population": 1}, "method": "zscore"}, "method must be"),
    ({"name": "x", "weights": {"population": 1}, "limits": {"instructors": -3}}, "instructors"),
])
def test_scenario_refuses_bad_json(data, message):
    if message is None:  # an unknown criterion is caught when the criteria are built
        with pytest.raises(ValueError, match="unknown criteria"):
            ro.Scenario.from_dict(data).criteria()
        return
    with pytest.raises(ValueError, match=message):
        ro.Scenario.from_dict(data)


def test_limits_size_the_training_from_population_with_floor_and_ceiling():
    limits = ro.Limits(officers_per_10000=10, min_officers=10, max_officers=100, cost_fixed=5, cost_per_officer=2)
    np.testing.assert_array_equal(limits.officers_needed([5_000, 20_001, 500_000, np.nan]), [10, 21, 100, np.nan])
    np.testing.assert_array_equal(limits.cost([10, 21]), [25, 47])
    assert ro.Limits(instructors=51, officers_per_instructor=25).capacity == 1275
    with pytest.raises(ValueError, match="max_officers"):
        ro.Limits(min_officers=50, max_officers=20)
    with pytest.raises(ValueError, match="phases"):
        ro.Limits(phases=0)


# --- optimizer against brute force --------------------------------------------------------------------


def _instance(seed: int, n: int = 9, phases: int = 2) -> tuple[pd.DataFrame, ro.Limits, dict]:
    """Units big next to a phase (3-5 fit), so packing matters and cuts get exercised."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"unit_id": [f"U{i}" for i in range(n)], "score": rng.random(n).round(3),
                          "officers_needed": rng.integers(10, 60, n).astype(float),
                          "population": rng.integers(5_000, 80_000, n).astype(float),
                          "incidents": rng.integers(0, 40, n).astype(float)})
    limits = ro.Limits(instructors=int(rng.integers(2, 5)), officers_per_instructor=25, phases=phases,
                       budget_per_phase=float(rng.choice([None, 220e6, 300e6]) or 0) or None,
                       budget_total=float(rng.choice([None, 380e6, 520e6]) or 0) or None,
                       cost_fixed=50e6, cost_per_officer=1e6)
    ids = table["unit_id"].to_numpy()
    pick = rng.permutation(n)
    sets = {"include": list(ids[pick[:rng.integers(0, 2)]]), "exclude": list(ids[pick[2:2 + rng.integers(0, 2)]]),
            "covered": list(ids[pick[4:4 + rng.integers(0, 2)]])}
    return table, limits, sets


def _brute_force(table: pd.DataFrame, limits: ro.Limits, sets: dict, within: np.ndarray | None = None
                 ) -> float | None:
    """Best objective over every assignment of units to phases 1..P or none (None: no feasible plan)."""
    ids = table["unit_id"].to_numpy()
    n, phases = len(ids), limits.phases
    grid = np.array(list(itertools.product(range(phases + 1), repeat=n)))
    officers = table["officers_needed"].to_numpy(float)
    cost = limits.cost(officers)
    ok = np.ones(len(grid), dtype=bool)
    for q in range(1, phases + 1):
        ok &= (grid == q) @ officers <= limits.capacity
        if limits.budget_per_phase is not None:
            ok &= (grid == q) @ cost <= limits.budget_per_phase
    chosen = grid > 0
    if limits.budget_total is not None:
        ok &= chosen @ cost <= limits.budget_total
    for unit in sets.get("include", ()):
        ok &= chosen[:, ids == unit][:, 0]
    for unit in [*sets.get("exclude", ()), *sets.get("covered", ())]:
        ok &= ~chosen[:, ids == unit][:, 0]
    if not ok.any():
        return None
    value = table["score"].to_numpy(float) + ro.FLOOR
    if within is None:
        return float((chosen[ok] @ value).max())
    covered = np.isin(ids, sets.get("covered", ()))
    before = (within[:, covered]).any(axis=1)
    reach = (chosen[ok].astype(int) @ within.T.astype(int)) > 0  # plans × units reached
    reach &= ~before
    return float((reach @ value + ro.FLOOR * (chosen[ok] @ value)).max())


def _assert_within_limits(plan: ro.Plan, table: pd.DataFrame, limits: ro.Limits, sets: dict) -> None:
    units = plan.units.set_index("unit_id")
    chosen = units[units["selected"]]
    assert chosen.index.is_unique  # each unit at most once
    cost = limits.cost(table.set_index("unit_id").loc[chosen.index, "officers_needed"])
    per_phase = chosen.assign(cost=np.asarray(cost)).groupby("phase")[["officers", "cost"]].sum()
    assert (per_phase["officers"] <= limits.capacity).all()
    if limits.budget_per_phase is not None:
        assert (per_phase["cost"] <= limits.budget_per_phase).all()
    if limits.budget_total is not None:
        assert per_phase["cost"].sum() <= limits.budget_total
    assert set(sets.get("include", ())) <= set(chosen.index)
    assert not (set(sets.get("exclude", ())) | set(sets.get("covered", ()))) & set(chosen.index)
    assert chosen["phase"].between(1, limits.phases).all()


@pytest.mark.parametrize("seed, phases", [(seed, 2) for seed in range(12)] + [(seed, 3) for seed in range(4)])
def test_optimizer_matches_brute_force_and_respects_every_limit(seed, phases):
    table, limits, sets = _instance(seed, n=9 if phases == 2 else 8, phases=phases)
    best = _brute_force(table, limits, sets)
    if best is None:
        with pytest.raises(ro.InfeasiblePlan):
            ro.select(table, limits, **sets)
        return
    plan = ro.select(table, limits, **sets)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, abs=1e-9)
    chosen = plan.units.loc[plan.units["selected"], "unit_id"]
    assert ro.objective_value(table, chosen) == pytest.approx(plan.objective)
    _assert_within_limits(plan, table, limits, sets)
    totals = plan.phases[["units", "officers", "cost"]].sum()
    assert totals["units"] == plan.totals["units"] == len(chosen)
    assert totals["cost"] == pytest.approx(plan.totals["cost"])


def test_packing_cuts_find_the_optimum_the_aggregated_knapsack_misses():
    # Three units of 60 officers and phases of 100: the aggregated model (200 officers) takes all three,
    # but only two fit (one per phase); the best packable plan takes the two best.
    table = pd.DataFrame({"unit_id": ["A", "B", "C", "D"], "score": [0.9, 0.8, 0.7, 0.1],
                          "officers_needed": [60.0, 60.0, 60.0, 20.0]})
    limits = ro.Limits(instructors=4, officers_per_instructor=25, phases=2)
    plan = ro.select(table, limits)
    assert plan.cuts >= 1
    assert _brute_force(table, limits, {}) == pytest.approx(plan.objective)
    got = plan.units.set_index("unit_id")
    assert got.loc["A", "phase"] == 1 and got.loc["B", "phase"] == 2
    # C outranks the small D that was chosen: the instructor capacity left in each phase is what keeps it out
    assert got.loc["D", "selected"] and got.loc["C", "reason"] == "instructor_capacity"
    assert got.loc["C", "binding"] == "instructor_capacity"


@pytest.mark.parametrize("seed", range(6))
def test_every_packing_step_keeps_the_optimum(seed, monkeypatch):
    # without the phase-by-phase fill, packing falls to the feasibility MIP over all phases
    monkeypatch.setattr(ro, "_fill_phases", lambda *args: None)
    table, limits, sets = _instance(200 + seed, n=8, phases=3)
    best = _brute_force(table, limits, sets)
    if best is None:
        return
    plan = ro.select(table, limits, **sets)
    assert plan.objective == pytest.approx(best, abs=1e-9)
    _assert_within_limits(plan, table, limits, sets)


def test_limits_filled_exactly_are_packed_phase_by_phase():
    # phases of 100 officers; the four units need 200 exactly. First fit in score order fails
    # (A 50 and B 60 -> C 40 joins A -> D 50 fits nowhere); the phase-by-phase fill puts
    # the most valuable pair that leaves a feasible rest first: A + D (1.55) before B + C (1.5).
    table = pd.DataFrame({"unit_id": list("ABCD"), "score": [0.9, 0.8, 0.7, 0.65],
                          "officers_needed": [50.0, 60.0, 40.0, 50.0]})
    limits = ro.Limits(instructors=4, officers_per_instructor=25, phases=2)
    plan = ro.select(table, limits)
    got = plan.units.set_index("unit_id")["phase"].to_dict()
    assert got == {"A": 1, "D": 1, "B": 2, "C": 2}
    assert plan.cuts == 0 and plan.status == "optimal"


def test_the_phased_model_is_the_fallback_after_too_many_cuts():
    table, limits, sets = _instance(5)
    best = _brute_force(table, limits, sets)
    plan = ro.select(table, limits, max_cuts=0, **sets)
    assert plan.objective == pytest.approx(best)
    _assert_within_limits(plan, table, limits, sets)


def test_reasons_name_the_binding_limit():
    table = pd.DataFrame({"unit_id": list("ABCDEFG"), "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, np.nan],
                          "officers_needed": [20.0, 80.0, 20.0, 20.0, 20.0, 20.0, 20.0]})
    limits = ro.Limits(instructors=2, officers_per_instructor=30, phases=2, budget_total=200e6,
                       cost_fixed=50e6, cost_per_officer=1e6)
    # costs: 70 M for 20 officers, 130 M for B (80 officers: more than a phase trains)
    plan = ro.select(table, limits, include=["D"], exclude=["C"], covered=["E"])
    got = plan.units.set_index("unit_id")
    assert got.loc["A", "reason"] == "selected" and got.loc["D", "reason"] == "must_include"
    assert got.loc["B", "reason"] == "instructor_capacity" and "instructor_capacity" in got.loc["B", "binding"]
    assert got.loc["C", "reason"] == "excluded" and got.loc["E", "reason"] == "already_covered"
    assert got.loc["G", "reason"] == "missing_data"
    # A and D cost 140 M; F (70 M) would pass the total budget of 200 M
    assert got.loc["F", "reason"] == "lower_score" and got.loc["F", "binding"] == "total_budget"
    assert plan.totals["cost"] == 140e6 and plan.totals["covered_before_units"] == 1


def test_a_high_score_unit_kept_out_by_the_budget_says_budget():
    table = pd.DataFrame({"unit_id": ["BIG", "S1", "S2", "S3"], "score": [1.0, 0.4, 0.35, 0.3],
                          "officers_needed": [100.0, 10.0, 10.0, 10.0]})
    limits = ro.Limits(instructors=10, officers_per_instructor=25, phases=1, budget_total=120e6,
                       cost_fixed=10e6, cost_per_officer=1e6)
    plan = ro.select(table, limits)  # BIG costs 110 M; the three small ones 60 M together and are worth more
    got = plan.units.set_index("unit_id")
    assert not got.loc["BIG", "selected"] and got.loc["BIG", "reason"] == "budget"
    assert got.loc["BIG", "binding"] == "total_budget"
    assert got[got["selected"]].index.tolist() == ["S1", "S2", "S3"]


@pytest.mark.parametrize("include, limits, limit", [
    (["A"], ro.Limits(instructors=1, officers_per_instructor=25, phases=2), "instructor_capacity"),
    (["B", "C"], ro.Limits(instructors=4, officers_per_instructor=25, phases=2, budget_total=150e6),
     "total_budget"),
    (["B", "C", "D"], ro.Limits(instructors=4, officers_per_instructor=25, phases=2), "instructor_capacity"),
    (["B", "C"], ro.Limits(instructors=10, phases=2, budget_per_phase=100e6), "phase_budget"),
    (["B", "C", "D"], ro.Limits(instructors=10, phases=2, budget_per_phase=200e6), "phase_budget"),
])
def test_infeasible_inputs_give_a_clear_message_naming_the_limit(include, limits, limit):
    table = pd.DataFrame({"unit_id": list("ABCD"), "score": [0.5, 0.5, 0.5, 0.5],
                          "officers_needed": [40.0, 60.0, 60.0, 60.0]})
    with pytest.raises(ro.InfeasiblePlan) as info:
        ro.select(table, limits, include=include)
    assert info.value.limit == limit
    assert set(info.value.units) <= set(include) and info.value.units
    assert str(info.value)


def test_conflicting_or_unknown_units_are_refused():
    table = pd.DataFrame({"unit_id": ["A", "B"], "score": [0.5, 0.4], "officers_needed": [10.0, 10.0]})
    with pytest.raises(ValueError, match="both included and excluded"):
        ro.select(table, ro.Limits(), include=["A"], exclude=["A"])
    with pytest.raises(ValueError, match="unknown unit"):
        ro.select(table, ro.Limits(), include=["Z"])


def test_no_capacity_selects_nothing_and_says_why():
    table = pd.DataFrame({"unit_id": ["A", "B"], "score": [0.5, 0.4], "officers_needed": [10.0, 10.0]})
    plan = ro.select(table, ro.Limits(instructors=0))
    assert not plan.units["selected"].any()
    assert set(plan.units["reason"]) == {"instructor_capacity"}


# --- covering variant ---------------------------------------------------------------------------------


def _points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return -13.7 + rng.random(n) * 0.5, 9.5 + rng.random(n) * 0.5  # around Conakry, ~55 km square


def test_neighbours_within_matches_geodesic_brute_force():
    lon, lat = _points(60, seed=2)
    src, dst = ro.neighbours_within(lon, lat, 12.0)
    got = set(zip(src.tolist(), dst.tolist(), strict=True))
    i, j = np.meshgrid(np.arange(60), np.arange(60), indexing="ij")
    _, _, metres = GEOD.inv(lon[i.ravel()], lat[i.ravel()], lon[j.ravel()], lat[j.ravel()])
    want = {(a, b) for a, b, m in zip(i.ravel(), j.ravel(), metres, strict=True) if m <= 12_000}
    assert got == want and len(want) > 60


@pytest.mark.parametrize("seed", range(4))
def test_covering_variant_matches_brute_force(seed):
    n = 7
    table, limits, sets = _instance(100 + seed, n=n)
    lon, lat = _points(n, seed)
    table = table.assign(lon=lon, lat=lat)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    _, _, metres = GEOD.inv(lon[i.ravel()], lat[i.ravel()], lon[j.ravel()], lat[j.ravel()])
    within = (np.asarray(metres) <= 15_000).reshape(n, n)  # within[v, u]: u reaches v
    best = _brute_force(table, limits, sets, within=within)
    if best is None:
        with pytest.raises(ro.InfeasiblePlan):
            ro.select(table, limits, coverage_km=15, **sets)
        return
    plan = ro.select(table, limits, coverage_km=15, **sets)
    assert plan.objective == pytest.approx(best, abs=1e-9)
    _assert_within_limits(plan, table, limits, sets)
    chosen = plan.units.loc[plan.units["selected"], "unit_id"]
    assert ro.objective_value(table, chosen, covered=sets["covered"], coverage_km=15) == pytest.approx(best)
    reached = plan.units.set_index("unit_id")
    for v in range(n):
        by = reached.loc[f"U{v}", "reached_by"]
        if not pd.isna(by):
            assert within[v, int(by[1:])]


def test_covering_reaches_neighbours_and_reports_them():
    # two clusters 40 km apart; at 10 km, B (in the middle, 6 km from A and C) reaches A, B and C;
    # A and C are 12 km apart
    lon = np.array([-13.60, -13.655, -13.71, -13.24, -13.26])
    lat = np.full(5, 9.6)
    table = pd.DataFrame({"unit_id": list("ABCDE"), "score": [0.9, 0.8, 0.7, 0.2, 0.1],
                          "officers_needed": [20.0] * 5, "population": [1e4, 2e4, 3e4, 4e4, 5e4],
                          "lon": lon, "lat": lat})
    limits = ro.Limits(instructors=1, officers_per_instructor=20, phases=2)  # one unit per phase
    plan = ro.select(table, limits, coverage_km=10)
    got = plan.units.set_index("unit_id")
    assert got.loc["B", "phase"] == 1  # B reaches A, B, C: the most value first
    assert got.loc["D", "phase"] == 2 and got.loc["E", "reached_by"] == "D"  # D reaches E; same reach, higher score
    assert got.loc["A", "reason"] == "reached" and got.loc["A", "reached_by"] == "B"
    assert plan.phases["population_reached"].tolist()[0] == 6e4
    assert plan.totals["population_reached"] == 1.5e5
    flat = ro.select(table, limits)  # without coverage: the two best scores
    assert flat.units.loc[flat.units["selected"], "unit_id"].tolist() == ["A", "B"]


def test_compare_plans_side_by_side():
    table, limits, _ = _instance(3)
    first = ro.select(table, limits, name="a")
    second = ro.select(table.assign(score=1 - table["score"]), limits, name="b")
    units, totals = ro.compare({"a": first, "b": second})
    assert {"rank_a", "rank_b", "phase_a", "phase_b", "differs"} <= set(units.columns)
    assert units["differs"].any() and len(units) == len(table)
    assert list(totals.columns) == ["a", "b"] and totals.loc["objective", "a"] == pytest.approx(first.objective)
