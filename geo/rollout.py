"""National rollout planner: a transparent ranking of units and a phased selection under real limits.

One module on purpose: ranking, scenarios and selection share their vocabulary
(criteria, scores, reasons) and are read together when a plan must be defended.

Ranking
-------
Every :class:`Criterion` is a numeric column of the candidate table (one row
per unit). It has a fixed *need orientation* ``need_when``: ``"high"`` when
large values signal need (incidents per 10,000), ``"low"`` when small values do
(outreach per 1,000, officers already trained). The planner chooses its
*direction*: ``"need"`` gives priority where the need is, ``"readiness"`` the
opposite (e.g. councils: a unit that already has one is *ready* to host the
programme, so the default direction of council coverage is readiness).

The distance to the nearest trained community is the one criterion where both
readings are defensible, so it is a choice, stated in the scenario:

* ``"need"`` (default): far from any trained community first. Those units get
  no spill-over from trained neighbours; this extends the programme's reach.
* ``"readiness"``: near first. Trained neighbours and their instructors can
  mentor the new community, so it is cheaper to support.

:func:`normalize` maps a criterion to 0..1 where 1 = more priority: ``"minmax"``
(linear between the lowest and highest value) or ``"rank"`` (percentile rank:
the share of the other units it beats, a tie counting half, so that one outlier
does not flatten everybody else). A criterion on which every unit is equal
gives 0 to all (it separates nobody). Missing values are never taken as
0 silently: per criterion, ``"exclude"`` leaves the unit out of the ranking,
``"impute_median"`` / ``"impute_zero"`` fill the raw value, and the rule applied
is reported per unit and criterion (columns ``rule_<key>``). A criterion with no
value at all is dropped and listed in :attr:`ScoreResult.dropped`.

:func:`score` gives each unit ``score = Σ_k w_k × n_k`` with weights rescaled
to sum to 1 (weights are relative), so a score lies in 0..1 and its breakdown
(``contrib_<key>``) adds up to it. :func:`sensitivity` redraws every weight
uniformly within ±``perturbation`` (multiplicative, seeded) and reports each
unit's rank range over the draws, as one matrix product (units × criteria times
criteria × draws).

Selection
---------
:func:`select` chooses which units are trained in which phase to maximize the
need covered, ``Σ_u (score_u + FLOOR) × x_u`` (``FLOOR`` = 0.001 keeps the unit
with the lowest score on every criterion worth training: spare capacity is
used), subject to, per phase, ``Σ officers_u ≤ instructors × officers per
instructor`` and the phase budget, and overall the total budget; each unit at
most once; must-include units exactly once; excluded and already covered units
never. Officers needed per unit come from the table's ``officers_needed``
column, else from its population (:meth:`Limits.officers_needed`).

Solving the phased model directly is slow to *prove* optimal: the phases are
interchangeable, and CBC did not close the gap within 60 s on the 340
sub-prefectures (it reports PuLP status "Optimal" with only an integer-feasible
solution, hence :attr:`Plan.status` reads ``sol_status``). The model is
therefore solved exactly in two steps:

1. the *aggregated* problem (one knapsack with P × the phase capacity and
   budget, plus the total budget) is a relaxation of the phased one; CBC proves
   its optimum in well under a second;
2. its units are packed into the phases: in score order into the earliest
   phase with room (so the highest-priority units start first); when that
   fails (limits filled exactly), phase after phase the most valuable set that
   leaves a remainder within the later phases' limits; else by a feasibility
   MIP. If they pack, the aggregated optimum is feasible, hence optimal, for
   the phased model. If not, a cut forbidding that exact set (and so every
   superset, equally unpackable) is added and step 1 re-solved; after
   ``max_cuts`` cuts, or if the packing MIP cannot decide in time, the phased
   model itself is solved (status ``"feasible"`` if the time limit stops it
   before the proof).

Measured on the 340 sub-prefectures, 3 phases, 51 instructors (``bench/rollout.py``):
0.1 to 0.3 s to a proven optimum, against no proof after 60 s for the phased model.

Phase order is thus a rule, not a term of the objective: a unit's phase says
when it starts, the objective says whether. With ``coverage_km`` the maximal
covering variant maximizes ``Σ_v (score_v + FLOOR) × y_v + FLOOR × Σ_u
(score_u + FLOOR) × x_u`` with ``y_v ≤ Σ_{u within coverage_km of v} x_u``
(geodesic distance between the units' points): a trained community also
reaches its neighbours; units near an already covered one are reached already.
The small second term trains, among sites reaching the same units, the ones with
the higher scores. Phases then follow the greedy order of marginal coverage.

Every non-selected unit gets a reason: excluded, already covered, missing data,
reached by a neighbour (covering), the limit that blocks it in every phase if it
ranks above the last selected unit (``budget``, ``instructor_capacity`` or
``budget_and_capacity``), else ``lower_score``; ``binding`` names the exact limits.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pulp
from scipy.stats import rankdata

import shapely
from pyproj import Geod

from geo.crs import WGS84, transformer, utm_epsg_for
from i18n import N_

Direction = Literal["need", "readiness"]
NeedWhen = Literal["high", "low"]
Method = Literal["minmax", "rank"]
Missing = Literal["exclude", "impute_median", "impute_zero"]

DIRECTIONS: tuple[str, ...] = ("need", "readiness")
NEED_WHEN: tuple[str, ...] = ("high", "low")
METHODS: tuple[str, ...] = ("minmax", "rank")
MISSING_RULES: tuple[str, ...] = ("exclude", "impute_median", "impute_zero")
#: Value of a unit beyond its score, so that a unit scoring 0 (lowest on every criterion) is still worth training.
FLOOR = 1e-3
#: Relative slack on planar distances when gathering neighbour candidates (UTM scale varies < 1 % in Guinea).
UTM_MARGIN = 0.02
SCENARIO_VERSION = 1

DIRECTION_LABELS: dict[str, str] = {"need": N_("need"), "readiness": N_("readiness")}
METHOD_LABELS: dict[str, str] = {"minmax": N_("min-max"), "rank": N_("rank")}
MISSING_LABELS: dict[str, str] = {
    "exclude": N_("leave the unit out of the ranking"),
    "impute_median": N_("replace by the median of the other units"),
    "impute_zero": N_("replace by zero"),
}
#: Per unit and criterion, what was done with its value (column ``rule_<key>``); "" = the value was known.
RULE_LABELS: dict[str, str] = {"excluded": N_("missing: unit left out"), "median": N_("missing: median used"),
                               "zero": N_("missing: zero used")}
REASON_LABELS: dict[str, str] = {
    "selected": N_("selected for its score"),
    "must_include": N_("selected: must be included"),
    "already_covered": N_("already covered"),
    "excluded": N_("excluded by the planner"),
    "missing_data": N_("missing data"),
    "reached": N_("within reach of a trained community"),
    "budget": N_("budget"),
    "instructor_capacity": N_("instructor capacity"),
    "budget_and_capacity": N_("budget and instructor capacity"),
    "lower_score": N_("lower score than the last selected unit"),
}
#: Limits named in ``binding`` ("+"-joined) and by :class:`InfeasiblePlan`.
LIMIT_LABELS: dict[str, str] = {
    "instructor_capacity": N_("instructor capacity per phase"),
    "phase_budget": N_("budget per phase"),
    "total_budget": N_("total budget"),
    "packing": N_("instructor capacity and budget per phase together"),
}
STATUS_LABELS: dict[str, str] = {"optimal": N_("optimal"), "feasible": N_("feasible, not proven optimal")}


class InfeasiblePlan(ValueError):
    """No plan meets the limits (must-include units too many or too large); ``limit`` names the binding one."""

    def __init__(self, limit: str, message: str, units: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.limit, self.units = limit, tuple(units)


# --- criteria -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One column of the candidate table and how it earns priority (see the module docstring)."""

    key: str
    label_id: str
    direction: Direction = "need"
    weight: float = 1.0
    need_when: NeedWhen = "high"

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"criterion key must be a non-empty string, got {self.key!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"criterion {self.key}: direction must be one of {DIRECTIONS}, got {self.direction!r}")
        if self.need_when not in NEED_WHEN:
            raise ValueError(f"criterion {self.key}: need_when must be one of {NEED_WHEN}, got {self.need_when!r}")
        object.__setattr__(self, "weight", _weight(self.weight, self.key))

    @property
    def priority_when(self) -> NeedWhen:
        """Whether high or low raw values get priority under the chosen direction."""
        if self.direction == "need":
            return self.need_when
        return "low" if self.need_when == "high" else "high"


def _weight(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"weight of {key} must be a number, got {value!r}")
    if not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"weight of {key} must be a finite number >= 0, got {value!r}")
    return float(value)


#: Default criteria and weights (columns of ``exchange.rollout.candidate_table``). Weights are a starting point
#: for discussion: need first (incidents, violence, hot spots, people), then coverage gaps and readiness.
DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("incidents_per_10000", N_("Incidents per 10,000 inhabitants"), "need", 3.0, "high"),
    Criterion("sensitive_per_10000", N_("Gender-based violence reports per 10,000 inhabitants"), "need", 2.0, "high"),
    Criterion("crash_epdo_per_10000", N_("Road crashes weighted by severity per 10,000 inhabitants"), "need", 1.0,
              "high"),
    Criterion("hotspot_share", N_("Share of the area in incident hot spots"), "need", 2.0, "high"),
    Criterion("share_with_council", N_("Sub-prefectures with a security council"), "readiness", 1.0, "low"),
    Criterion("outreach_per_1000", N_("Students and women reached per 1,000 inhabitants"), "need", 1.0, "low"),
    Criterion("officers_per_10000", N_("Officers already trained per 10,000 inhabitants"), "need", 2.0, "low"),
    Criterion("distance_to_trained_km", N_("Distance to the nearest trained community (km)"), "need", 1.0, "high"),
    Criterion("population", N_("Population"), "need", 2.0, "high"),
)


def _check_choice(value: object, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return str(value)


def _numeric(values: Any, name: str) -> np.ndarray:
    """Numbers as float64 with NaN for missing; text that is not a number is an error, not a silent NaN."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    try:
        out = pd.to_numeric(series, errors="raise").astype(float).to_numpy()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} holds values that are not numbers ({exc})") from None
    if np.isinf(out).any():
        raise ValueError(f"{name} holds infinite values")
    return out


def normalize(values: Any, method: Method = "minmax", direction: Direction = "need", *,
              need_when: NeedWhen = "high", missing: Missing = "exclude") -> tuple[np.ndarray, np.ndarray]:
    """One criterion on 0..1 where 1 = more priority, and the rule applied to each value.

    Parameters
    ----------
    values
        Raw values (NaN/None = missing).
    method
        ``"minmax"``: ``(v - min) / (max - min)``; ``"rank"``: ``(mid-rank - 1) / (n - 1)``,
        the share of the other units with a lower priority value, ties counting half.
    direction, need_when
        Which end of the scale gets priority (module docstring).
    missing
        ``"exclude"`` (NaN out, rule ``"excluded"``), ``"impute_median"`` (median of the
        known values, rule ``"median"``) or ``"impute_zero"`` (rule ``"zero"``).

    Returns
    -------
    (normalized, rules)
        float64 array (NaN where excluded) and an object array of ``""`` / ``"excluded"`` /
        ``"median"`` / ``"zero"``, both aligned with ``values``. Constant values give 0.
    """
    _check_choice(method, METHODS, "method")
    _check_choice(direction, DIRECTIONS, "direction")
    _check_choice(need_when, NEED_WHEN, "need_when")
    _check_choice(missing, MISSING_RULES, "missing")
    v = _numeric(values, "values").copy()
    rules = np.full(len(v), "", dtype=object)
    gap = np.isnan(v)
    if gap.any():
        if missing == "exclude":
            rules[gap] = "excluded"
        elif missing == "impute_zero":
            v[gap], rules[gap] = 0.0, "zero"
        else:
            if gap.all():
                raise ValueError("no known value to take the median of")
            v[gap], rules[gap] = float(np.median(v[~gap])), "median"
    out = np.full(len(v), np.nan)
    ok = ~np.isnan(v)
    if not ok.any():
        return out, rules
    high = Criterion("_", "_", direction, 1.0, need_when).priority_when == "high"
    x = v[ok] if high else -v[ok]
    if method == "minmax":
        span = x.max() - x.min()
        out[ok] = (x - x.min()) / span if span > 0 else 0.0
    else:
        n = len(x)
        constant = x.max() == x.min()
        out[ok] = 0.0 if n < 2 or constant else (rankdata(x, method="average") - 1.0) / (n - 1)
    return out, rules


# --- scoring ------------------------------------------------------------------------------------------


_SCORE_PREFIXES = ("norm_", "contrib_", "rule_", "value_")
_SCORE_COLUMNS = ("score", "rank", "excluded", "imputed")


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 = highest; ties share the best rank; NaN stays NaN. Rounded first so float noise makes no rank."""
    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    if ok.any():
        out[ok] = rankdata(-np.round(values[ok], 12), method="min")
    return out


def _missing_rules(missing: str | Mapping[str, str], keys: Sequence[str]) -> dict[str, str]:
    if isinstance(missing, str):
        _check_choice(missing, MISSING_RULES, "missing")
        return dict.fromkeys(keys, missing)
    unknown = sorted(set(missing) - set(keys))
    if unknown:
        raise ValueError(f"missing rules given for unknown criteria {unknown}")
    return {k: _check_choice(missing.get(k, "exclude"), MISSING_RULES, f"missing rule of {k}") for k in keys}


@dataclass(frozen=True)
class ScoreResult:
    """The ranked candidate table and how it was scored.

    ``table`` holds the input columns plus ``score`` (0..1, NaN if excluded),
    ``rank`` (1 = first), ``excluded``, ``imputed`` and per criterion ``value_<key>``
    (raw), ``rule_<key>``, ``norm_<key>`` (0..1) and ``contrib_<key>`` (weight share ×
    normalized; they add up to the score), sorted by rank (excluded units last).
    ``normalized`` is the units × criteria matrix in the table's row order.
    """

    table: pd.DataFrame
    criteria: tuple[Criterion, ...]
    method: str
    missing: dict[str, str]
    dropped: tuple[str, ...]
    constant: tuple[str, ...]
    normalized: np.ndarray
    id_column: str = "unit_id"

    @property
    def weights(self) -> np.ndarray:
        """Weight shares (sum 1), in the order of ``criteria``."""
        w = np.array([c.weight for c in self.criteria], dtype=float)
        return w / w.sum()

    def breakdown(self, unit_id: str) -> pd.DataFrame:
        """Per criterion for ``unit_id``: label, direction, raw value, rule, normalized, weight, contribution."""
        hit = self.table[self.table[self.id_column] == unit_id]
        if hit.empty:
            raise KeyError(f"unknown unit {unit_id!r}")
        row = hit.iloc[0]
        return pd.DataFrame({
            "key": [c.key for c in self.criteria],
            "label_id": [c.label_id for c in self.criteria],
            "direction": [c.direction for c in self.criteria],
            "priority_when": [c.priority_when for c in self.criteria],
            "value": [row[f"value_{c.key}"] for c in self.criteria],
            "rule": [row[f"rule_{c.key}"] for c in self.criteria],
            "normalized": [row[f"norm_{c.key}"] for c in self.criteria],
            "weight": self.weights,
            "contribution": [row[f"contrib_{c.key}"] for c in self.criteria],
        })


def score(table: pd.DataFrame, criteria: Sequence[Criterion] = DEFAULT_CRITERIA, *, method: Method = "minmax",
          missing: Missing | Mapping[str, Missing] = "exclude", id_column: str = "unit_id") -> ScoreResult:
    """Weighted multi-criteria score of every unit of ``table``, ranked, with its breakdown.

    Criteria with weight 0 are left out (their missing values exclude nobody).
    ``missing`` is one rule for every criterion or a rule per criterion key
    (others ``"exclude"``). Normalization runs over the units that stay in the
    ranking, so an excluded unit does not stretch anyone's scale.
    """
    _check_choice(method, METHODS, "method")
    if id_column not in table.columns:
        raise ValueError(f"table lacks its id column {id_column!r}")
    if table[id_column].isna().any() or table[id_column].duplicated().any():
        raise ValueError(f"table has missing or duplicate {id_column} values")
    keys = [c.key for c in criteria]
    if len(set(keys)) != len(keys):
        raise ValueError("criteria keys must be unique")
    active = [c for c in criteria if c.weight > 0]
    if not active:
        raise ValueError("every weight is zero: give at least one criterion a positive weight")
    absent = [c.key for c in active if c.key not in table.columns]
    if absent:
        raise ValueError(f"table lacks the column(s) of criteria {absent}")
    rules = _missing_rules(missing, [c.key for c in active])
    out = table.drop(columns=[c for c in table.columns if c in _SCORE_COLUMNS or c.startswith(_SCORE_PREFIXES)])
    out = out.reset_index(drop=True)
    raw = np.column_stack([_numeric(out[c.key], c.key) for c in active]) if len(out) else np.zeros((0, len(active)))
    empty = ~(~np.isnan(raw)).any(axis=0) if len(out) else np.ones(len(active), dtype=bool)
    dropped = tuple(c.key for c, e in zip(active, empty, strict=True) if e)
    used = [j for j, e in enumerate(empty) if not e]
    if not used:
        raise ValueError(f"no criterion with a positive weight has any value (dropped: {list(dropped)})")
    crit = tuple(active[j] for j in used)
    raw = raw[:, used]
    n, k = raw.shape
    excluded = np.zeros(n, dtype=bool)
    for j, c in enumerate(crit):
        if rules[c.key] == "exclude":
            excluded |= np.isnan(raw[:, j])
    norm = np.full((n, k), np.nan)
    rule = np.full((n, k), "", dtype=object)
    constant = []
    keep = ~excluded
    for j, c in enumerate(crit):
        values, applied = normalize(raw[keep, j], method, c.direction, need_when=c.need_when, missing=rules[c.key])
        norm[keep, j], rule[keep, j] = values, applied
        rule[excluded & np.isnan(raw[:, j]), j] = "excluded"
        if keep.sum() > 1 and np.nanmax(values, initial=0.0) == 0.0:
            constant.append(c.key)
    w = np.array([c.weight for c in crit], dtype=float)
    contrib = norm * (w / w.sum())
    total = contrib.sum(axis=1)
    total[excluded] = np.nan
    for j, c in enumerate(crit):
        out[f"value_{c.key}"] = raw[:, j]
        out[f"rule_{c.key}"] = rule[:, j]
        out[f"norm_{c.key}"] = norm[:, j]
        out[f"contrib_{c.key}"] = contrib[:, j]
    out["score"] = total
    out["rank"] = pd.array(_ranks(total), dtype="Int64") if n else pd.array([], dtype="Int64")
    out["excluded"] = excluded
    out["imputed"] = ((rule == "median") | (rule == "zero")).any(axis=1) if n else np.zeros(0, bool)
    order = np.lexsort((out[id_column].astype(str).to_numpy(), np.nan_to_num(_ranks(total), nan=np.inf)))
    out = out.iloc[order].reset_index(drop=True)
    return ScoreResult(out, crit, method, {c.key: rules[c.key] for c in crit}, dropped, tuple(constant),
                       norm[order], id_column)


def sensitivity(table: pd.DataFrame | ScoreResult, criteria: Sequence[Criterion] = DEFAULT_CRITERIA, *,
                perturbation: float = 0.2, draws: int = 500, seed: int = 0, method: Method = "minmax",
                missing: Missing | Mapping[str, Missing] = "exclude") -> pd.DataFrame:
    """How stable each unit's rank is when every weight moves within ±``perturbation`` (uniform, multiplicative).

    Returns one row per ranked unit (excluded units are not ranked): ``unit_id``,
    ``rank`` (with the given weights), ``rank_min``, ``rank_max``, ``rank_median``
    over ``draws`` draws (seeded), in the ranking's order. Pass a
    :class:`ScoreResult` to reuse its normalization.
    """
    if not 0 <= perturbation < 1:
        raise ValueError(f"perturbation must be in [0, 1), got {perturbation!r}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    result = table if isinstance(table, ScoreResult) else score(table, criteria, method=method, missing=missing)
    keep = ~result.table["excluded"].to_numpy(bool)
    matrix = result.normalized[keep]
    rng = np.random.default_rng(seed)
    w = result.weights * rng.uniform(1 - perturbation, 1 + perturbation, size=(draws, len(result.criteria)))
    w /= w.sum(axis=1, keepdims=True)
    scores = matrix @ w.T  # units × draws
    ranks = rankdata(-np.round(scores, 12), axis=0, method="min") if len(matrix) else np.zeros((0, draws))
    base = result.table.loc[keep]
    return pd.DataFrame({
        result.id_column: base[result.id_column].to_numpy(),
        "rank": base["rank"].to_numpy(),
        "rank_min": ranks.min(axis=1).astype(np.int64) if len(matrix) else np.zeros(0, np.int64),
        "rank_max": ranks.max(axis=1).astype(np.int64) if len(matrix) else np.zeros(0, np.int64),
        "rank_median": np.median(ranks, axis=1) if len(matrix) else np.zeros(0),
    })


# --- limits and scenarios -----------------------------------------------------------------------------


def _number(value: object, name: str, *, integer: bool = False, minimum: float = 0.0,
            optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)) or float(value) < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")
    if integer:
        if float(value) != int(value):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


@dataclass(frozen=True)
class Limits:
    """Resources of a rollout. Money in GNF; ``None`` budget = no such limit.

    Officers needed per unit, when the table gives none (``officers_needed``):
    ``ceil(population × officers_per_10000 / 10,000)`` clipped to
    ``min_officers``..``max_officers``. The defaults (one officer per 1,000
    inhabitants, 10 to 250 per unit) are an assumption to replace with the
    police's staffing figures; costs default to 50 million GNF per community
    plus 1 million per officer, also assumptions.
    """

    instructors: int = 51
    officers_per_instructor: int = 25
    phases: int = 3
    budget_total: float | None = None
    budget_per_phase: float | None = None
    cost_fixed: float = 50_000_000.0
    cost_per_officer: float = 1_000_000.0
    officers_per_10000: float = 10.0
    min_officers: int = 10
    max_officers: int | None = 250

    def __post_init__(self) -> None:
        checks = {"instructors": (True, 0, False), "officers_per_instructor": (True, 1, False),
                  "phases": (True, 1, False), "budget_total": (False, 0, True), "budget_per_phase": (False, 0, True),
                  "cost_fixed": (False, 0, False), "cost_per_officer": (False, 0, False),
                  "officers_per_10000": (False, 0, False), "min_officers": (True, 1, False),
                  "max_officers": (True, 1, True)}
        for name, (integer, minimum, optional) in checks.items():
            object.__setattr__(self, name, _number(getattr(self, name), name, integer=integer, minimum=minimum,
                                                   optional=optional))
        if self.max_officers is not None and self.max_officers < self.min_officers:
            raise ValueError(f"max_officers ({self.max_officers}) is below min_officers ({self.min_officers})")

    @property
    def capacity(self) -> int:
        """Officers the instructors can train in one phase."""
        return self.instructors * self.officers_per_instructor

    def officers_needed(self, population: Any) -> np.ndarray:
        """Officers to train per unit from its population (NaN where the population is unknown)."""
        pop = _numeric(population, "population")
        need = np.ceil(pop * self.officers_per_10000 / 10_000.0)
        hi = np.inf if self.max_officers is None else self.max_officers
        return np.clip(need, self.min_officers, hi)

    def cost(self, officers: Any) -> np.ndarray:
        """Cost of training a unit: the fixed cost plus the cost per officer."""
        return self.cost_fixed + self.cost_per_officer * np.asarray(officers, dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Limits:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown limit(s) {unknown}")
        return cls(**dict(data))


#: Levels a scenario's unit choices can be at (the planner's candidate levels).
SCENARIO_LEVELS = ("prefecture", "subprefecture")
#: A scenario's unit choices: units already covered, that must, and that must not be chosen.
UNIT_CHOICES = ("covered", "include", "exclude")
#: Fields of a scenario file.
SCENARIO_FIELDS = ("version", "name", "method", "missing", "weights", "directions", "limits", "coverage_km",
                   "level", *UNIT_CHOICES)


@dataclass(frozen=True)
class Scenario:
    """Named weights and options, saved as JSON so a ranking can be reproduced and compared.

    ``weights`` maps criterion keys (of ``base`` criteria, default
    :data:`DEFAULT_CRITERIA`) to weights; a criterion not listed has weight 0.
    ``directions`` overrides default directions. ``limits`` and
    ``coverage_km`` are optional defaults for the selection; so are the unit
    choices ``covered``, ``include`` and ``exclude`` (unit ids of ``level``), so a
    saved scenario reproduces the plan it was made with.
    """

    name: str
    weights: Mapping[str, float]
    directions: Mapping[str, str] = field(default_factory=dict)
    method: str = "minmax"
    missing: str | Mapping[str, str] = "exclude"
    limits: Limits | None = None
    coverage_km: float | None = None
    level: str | None = None
    covered: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a scenario needs a name")
        if not isinstance(self.weights, Mapping) or not self.weights:
            raise ValueError("a scenario needs weights: an object of criterion: weight")
        object.__setattr__(self, "weights", {str(k): _weight(v, str(k)) for k, v in self.weights.items()})
        if not isinstance(self.directions, Mapping):
            raise ValueError("directions must be an object of criterion: need|readiness")
        object.__setattr__(self, "directions", {str(k): _check_choice(v, DIRECTIONS, f"direction of {k}")
                                                for k, v in self.directions.items()})
        _check_choice(self.method, METHODS, "method")
        if isinstance(self.missing, Mapping):
            object.__setattr__(self, "missing", {str(k): _check_choice(v, MISSING_RULES, f"missing rule of {k}")
                                                 for k, v in self.missing.items()})
        else:
            _check_choice(self.missing, MISSING_RULES, "missing")
        if self.limits is not None and not isinstance(self.limits, Limits):
            raise ValueError("limits must be a Limits")
        if self.coverage_km is not None:
            object.__setattr__(self, "coverage_km", _number(self.coverage_km, "coverage_km"))
        if self.level is not None:
            _check_choice(self.level, SCENARIO_LEVELS, "level")
        for name in UNIT_CHOICES:
            units = getattr(self, name)
            if isinstance(units, str) or not all(isinstance(u, str) and u.strip() for u in units):
                raise ValueError(f"{name} must be a list of unit ids")
            object.__setattr__(self, name, tuple(u.strip() for u in units))
            if units and self.level is None:
                raise ValueError(f"{name} lists units: the scenario needs their level")

    def criteria(self, base: Sequence[Criterion] = DEFAULT_CRITERIA) -> tuple[Criterion, ...]:
        """``base`` with this scenario's weights and directions."""
        known = {c.key for c in base}
        unknown = sorted((set(self.weights) | set(self.directions)) - known)
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; known: {sorted(known)}")
        if isinstance(self.missing, Mapping) and set(self.missing) - known:
            raise ValueError(f"missing rules for unknown criteria {sorted(set(self.missing) - known)}")
        return tuple(Criterion(c.key, c.label_id, self.directions.get(c.key, c.direction),  # type: ignore[arg-type]
                               self.weights.get(c.key, 0.0), c.need_when) for c in base)

    def missing_rules(self, criteria: Sequence[Criterion]) -> dict[str, str]:
        """The missing-value rule of every criterion with a positive weight."""
        keys = [c.key for c in criteria if c.weight > 0]
        if isinstance(self.missing, Mapping):
            return {k: self.missing.get(k, "exclude") for k in keys}
        return dict.fromkeys(keys, self.missing)

    def score(self, table: pd.DataFrame, base: Sequence[Criterion] = DEFAULT_CRITERIA) -> ScoreResult:
        crit = self.criteria(base)
        return score(table, crit, method=self.method, missing=self.missing_rules(crit))  # type: ignore[arg-type]

    @classmethod
    def default(cls, name: str = "default") -> Scenario:
        return cls(name, {c.key: c.weight for c in DEFAULT_CRITERIA})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": SCENARIO_VERSION, "name": self.name, "method": self.method,
                               "missing": dict(self.missing) if isinstance(self.missing, Mapping) else self.missing,
                               "weights": dict(self.weights), "directions": dict(self.directions)}
        if self.limits is not None:
            out["limits"] = self.limits.to_dict()
        if self.coverage_km is not None:
            out["coverage_km"] = self.coverage_km
        if self.level is not None:
            out["level"] = self.level
        out.update({name: list(getattr(self, name)) for name in UNIT_CHOICES if getattr(self, name)})
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        if not isinstance(data, Mapping):
            raise ValueError("a scenario is a JSON object")
        unknown = sorted(set(data) - set(SCENARIO_FIELDS))
        if unknown:
            raise ValueError(f"unknown scenario field(s) {unknown}")
        if data.get("version", SCENARIO_VERSION) != SCENARIO_VERSION:
            raise ValueError(f"unsupported scenario version {data.get('version')!r}")
        limits = data.get("limits")
        if limits is not None and not isinstance(limits, Mapping):
            raise ValueError("limits must be an object")
        return cls(name=data.get("name", ""), weights=data.get("weights") or {},
                   directions=data.get("directions") or {}, method=data.get("method", "minmax"),
                   missing=data.get("missing", "exclude"),
                   limits=Limits.from_dict(limits) if limits is not None else None,
                   coverage_km=data.get("coverage_km"), level=data.get("level"),
                   **{name: tuple(data.get(name) or ()) if not isinstance(data.get(name), str) else data[name]
                      for name in UNIT_CHOICES})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON scenario: {exc}") from None
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        return cls.from_json(Path(path).read_bytes())


# --- distances ----------------------------------------------------------------------------------------


_GEOD = Geod(ellps="WGS84")


def neighbours_within(lon: Any, lat: Any, distance_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` of points at most ``distance_km`` apart (geodesic), each point paired with itself.

    Candidates come from an ``STRtree`` ``dwithin`` query in the UTM zone of the
    points' extent with :data:`UTM_MARGIN` slack, then every candidate pair is
    measured on the WGS84 ellipsoid: the pairs are the exact geodesic ones.
    Points without coordinates are paired with themselves only.
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("lon and lat must be 1-D arrays of the same length")
    distance_km = _number(distance_km, "distance_km")
    n = len(x)
    self_pairs = (np.arange(n), np.arange(n))
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if len(ok) < 2 or distance_km == 0:
        return self_pairs
    to_utm = transformer(WGS84, utm_epsg_for(x[ok].min(), y[ok].min(), x[ok].max(), y[ok].max()))
    points = shapely.points(*to_utm.transform(x[ok], y[ok]))
    src, dst = shapely.STRtree(points).query(points, predicate="dwithin",
                                             distance=distance_km * 1000.0 * (1 + UTM_MARGIN) + 1.0)
    pair = src != dst
    src, dst = ok[src[pair]], ok[dst[pair]]
    _, _, metres = _GEOD.inv(x[src], y[src], x[dst], y[dst])
    near = np.asarray(metres) <= distance_km * 1000.0
    return np.r_[self_pairs[0], src[near]], np.r_[self_pairs[1], dst[near]]


# --- selection ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A phased rollout and why each unit is or is not in it.

    ``units``: every unit of the table with ``unit_id``, ``name``, ``rank``,
    ``score``, ``population``, ``incidents``, ``officers``, ``cost``, ``selected``,
    ``phase`` (Int64, NA when not selected), ``reason`` (:data:`REASON_LABELS`),
    ``binding`` ("+"-joined :data:`LIMIT_LABELS` keys), ``reached_phase`` and
    ``reached_by`` (the unit whose training reaches it: itself when selected;
    neighbours in the covering variant), in plan order.
    ``phases``: per phase ``units``, ``officers``, ``cost``, ``population``
    (of the trained units), ``population_reached`` (units first reached in the
    phase), ``neighbours_reached`` and ``neighbour_population_reached`` (of those, the
    units reached through a trained neighbour without being trained themselves: covering
    variant only, else 0), ``incidents``, ``incident_share`` (of all incidents in the table, in the
    units trained), ``capacity_used`` and ``budget_used`` (shares of the phase's limits).
    ``totals``: the same over all phases, plus what was covered before.
    ``status``: ``"optimal"`` (proven) or ``"feasible"`` (time limit).
    """

    units: pd.DataFrame
    phases: pd.DataFrame
    totals: dict[str, float]
    status: str
    objective: float
    limits: Limits
    coverage_km: float | None
    seconds: float
    solver: str
    cuts: int
    name: str | None = None


@cache
def _solver_kind() -> tuple[str, str | None]:
    """("HiGHS", None) when highspy is installed, else ("CBC", path): a ``cbc`` on the PATH or the one in the wheel.

    CBC is called through ``COIN_CMD`` with an explicit path rather than ``PULP_CBC_CMD``,
    which PuLP 3.3 deprecates (its bundled binary is the same file).
    """
    highs = getattr(pulp, "HiGHS", None)
    if highs is not None and highs(msg=False).available():
        return "HiGHS", None
    if pulp.COIN_CMD(msg=False).available():
        return "CBC", None
    bundled = getattr(pulp.apis.coin_api, "pulp_cbc_path", None)
    if bundled and Path(bundled).is_file():
        return "CBC", str(bundled)
    raise RuntimeError("no MILP solver: install highspy, or CBC (`pip install pulp[cbc]` or a `cbc` on the PATH)")


def _solver(time_limit: float | None) -> pulp.LpSolver:
    """An exact (gap 0) solver, quiet, with the time limit per call."""
    kind, path = _solver_kind()
    options: dict[str, Any] = {"msg": False, "gapRel": 0.0}
    if time_limit is not None:
        options["timeLimit"] = float(time_limit)
    if kind == "HiGHS":
        return pulp.HiGHS(**options)
    return pulp.COIN_CMD(path=path, **options) if path else pulp.COIN_CMD(**options)


def _var(prob: pulp.LpProblem, name: str, cat: str, low: float = 0, up: float = 1) -> pulp.LpVariable:
    """A variable owned by ``prob`` (PuLP ≥ 3.3 API; plain ``LpVariable`` on older PuLP)."""
    if hasattr(prob, "add_variable"):
        return prob.add_variable(name, lowBound=low, upBound=up, cat=cat)
    return pulp.LpVariable(name, lowBound=low, upBound=up, cat=cat)


@dataclass
class _Problem:
    """Arrays of one selection problem, aligned with the plan's units."""

    ids: np.ndarray
    value: np.ndarray  # score + FLOOR (FLOOR alone for a forced unit without score)
    officers: np.ndarray
    cost: np.ndarray
    candidate: np.ndarray  # may be selected
    forced: np.ndarray
    limits: Limits
    cover_src: np.ndarray | None = None  # covering: value unit v ...
    cover_dst: np.ndarray | None = None  # ... is reached by candidate site u
    reachable: np.ndarray | None = None  # covering: units not reached already
    cost_scale: float = 1.0

    @property
    def phase_budget(self) -> float:
        return math.inf if self.limits.budget_per_phase is None else self.limits.budget_per_phase

    @property
    def total_budget(self) -> float:
        return math.inf if self.limits.budget_total is None else self.limits.budget_total


def _table_arrays(scored: ScoreResult | pd.DataFrame, limits: Limits, incidents_column: str) -> pd.DataFrame:
    """The plan's unit columns from a score result or a table with ``unit_id`` and ``score``."""
    table = scored.table if isinstance(scored, ScoreResult) else scored
    id_column = scored.id_column if isinstance(scored, ScoreResult) else "unit_id"
    for col in (id_column, "score"):
        if col not in table.columns:
            raise ValueError(f"table lacks column {col!r}")
    if table[id_column].isna().any() or table[id_column].duplicated().any():
        raise ValueError(f"table has missing or duplicate {id_column} values")
    n = len(table)
    units = pd.DataFrame({"unit_id": table[id_column].astype(str).to_numpy()})
    units["name"] = table["name"].to_numpy(object) if "name" in table else units["unit_id"]
    sc = _numeric(table["score"], "score")
    units["rank"] = (pd.array(_numeric(table["rank"], "rank"), dtype="Int64") if "rank" in table
                     else pd.array(_ranks(sc), dtype="Int64"))
    units["score"] = sc
    units["population"] = _numeric(table["population"], "population") if "population" in table else np.nan
    units["incidents"] = (_numeric(table[incidents_column], incidents_column) if incidents_column in table
                          else np.full(n, np.nan))
    if "officers_needed" in table:
        officers = _numeric(table["officers_needed"], "officers_needed")
        if (officers[~np.isnan(officers)] < 0).any() or (officers[~np.isnan(officers)] % 1 != 0).any():
            raise ValueError("officers_needed must hold whole numbers >= 0")
    else:
        officers = limits.officers_needed(units["population"])
    units["officers"] = officers
    units["cost"] = limits.cost(officers)
    for col in ("lon", "lat"):
        units[col] = _numeric(table[col], col) if col in table else np.nan
    return units


def _unit_set(values: Iterable[str], known: set[str], what: str) -> set[str]:
    chosen = {str(v) for v in values}
    unknown = sorted(chosen - known)
    if unknown:
        raise ValueError(f"{what}: unknown unit(s) {unknown}")
    return chosen


#: Per-phase limits, in the order they are named in ``binding``.
_LIMITS = ("instructor_capacity", "phase_budget", "total_budget")


def _fits_alone(p: _Problem) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Whether each unit fits one empty phase, and per limit whether the unit alone exceeds it."""
    over = {"instructor_capacity": p.officers > p.limits.capacity, "phase_budget": p.cost > p.phase_budget,
            "total_budget": p.cost > p.total_budget}
    return ~np.logical_or.reduce(list(over.values())), over


def _joined(flags: dict[str, np.ndarray], n: int) -> np.ndarray:
    """"+"-joined names of the limits flagged per unit ("" when none)."""
    out = np.full(n, "", dtype=object)
    for code in _LIMITS:
        out = np.where(flags[code], np.where(out == "", code, out + "+" + code), out)
    return out


def _check_forced(p: _Problem, time_limit: float | None) -> None:
    """Clear errors when the must-include units alone break a limit (naming it and the units)."""
    ids = p.ids
    _, over = _fits_alone(p)
    lim = p.limits
    for i in np.flatnonzero(p.forced):
        codes = [c for c in _LIMITS if over[c][i]]
        if codes:
            code = codes[0]
            detail = {"instructor_capacity": f"needs {int(p.officers[i])} officers but one phase trains at most "
                                             f"{lim.capacity} ({lim.instructors} instructors × "
                                             f"{lim.officers_per_instructor} officers)",
                      "phase_budget": f"costs {p.cost[i]:,.0f} GNF, more than the budget per phase "
                                      f"({lim.budget_per_phase:,.0f} GNF)" if lim.budget_per_phase is not None else "",
                      "total_budget": f"costs {p.cost[i]:,.0f} GNF, more than the total budget "
                                      f"({lim.budget_total:,.0f} GNF)" if lim.budget_total is not None else ""}[code]
            raise InfeasiblePlan(code, f"must-include unit {ids[i]} {detail}", [ids[i]])
    forced = np.flatnonzero(p.forced)
    if not len(forced):
        return
    names = list(ids[forced])
    officers, cost = p.officers[forced].sum(), p.cost[forced].sum()
    if officers > lim.phases * lim.capacity:
        raise InfeasiblePlan("instructor_capacity", f"the must-include units need {int(officers)} officers but "
                             f"{lim.phases} phase(s) train at most {lim.phases * lim.capacity}", names)
    if cost > p.total_budget:
        raise InfeasiblePlan("total_budget", f"the must-include units cost {cost:,.0f} GNF, more than the total "
                             f"budget ({p.total_budget:,.0f} GNF)", names)
    if cost > lim.phases * p.phase_budget:
        raise InfeasiblePlan("phase_budget", f"the must-include units cost {cost:,.0f} GNF, more than "
                             f"{lim.phases} × the budget per phase ({p.phase_budget:,.0f} GNF)", names)
    try:
        packed = _pack(p, forced, time_limit)
    except _Undecided:
        return  # the selection itself will tell
    if packed is None:
        only_officers = _fits_one_limit(p, forced, time_limit, use_budget=False)
        only_budget = _fits_one_limit(p, forced, time_limit, use_officers=False)
        code = "phase_budget" if only_officers else "instructor_capacity" if only_budget else "packing"
        label = {"phase_budget": "the budget per phase", "instructor_capacity": "the instructor capacity per phase",
                 "packing": "the instructor capacity and the budget per phase"}[code]
        raise InfeasiblePlan(code, f"the must-include units cannot be shared out among {lim.phases} phase(s) "
                             f"within {label}", names)


def _fits_one_limit(p: _Problem, units: np.ndarray, time_limit: float | None, **only: bool) -> bool:
    """Whether ``units`` pack when one of the per-phase limits is dropped (to name the binding one)."""
    try:
        return _pack(p, units, time_limit, **only) is not None
    except _Undecided:
        return False


def _greedy_pack(p: _Problem, order: np.ndarray, use_officers: bool, use_budget: bool) -> np.ndarray | None:
    """Each unit of ``order`` into the earliest phase with room (first fit); None if one does not fit."""
    phases = p.limits.phases
    load_o, load_c = np.zeros(phases), np.zeros(phases)
    cap = p.limits.capacity if use_officers else math.inf
    budget = p.phase_budget if use_budget else math.inf
    out = np.empty(len(order), dtype=np.int64)
    for k, u in enumerate(order):
        room = np.flatnonzero((load_o + p.officers[u] <= cap) & (load_c + p.cost[u] <= budget))
        if not len(room):
            return None
        out[k] = room[0]
        load_o[room[0]] += p.officers[u]
        load_c[room[0]] += p.cost[u]
    return out


class _Undecided(Exception):
    """The solver could not tell within its time limit whether the units fit the phases."""


def _by_value(p: _Problem, units: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Phases renumbered so that the one holding the most value comes first (phases are interchangeable)."""
    held = np.bincount(phase, weights=p.value[units], minlength=p.limits.phases)
    relabel = np.empty(p.limits.phases, dtype=np.int64)
    relabel[np.argsort(-held, kind="stable")] = np.arange(p.limits.phases)
    return relabel[phase]


def _phase_limits(p: _Problem, prob: pulp.LpProblem, terms: Sequence[tuple[int, Any]], bins: float,
                  use_officers: bool, use_budget: bool, sense: str = "<=") -> None:
    """Per-phase limits (times ``bins``) on the (unit, expression) ``terms``."""
    if use_officers:
        expr = pulp.lpSum(float(p.officers[u]) * z for u, z in terms)
        prob += (expr <= p.limits.capacity * bins) if sense == "<=" else (expr >= p.limits.capacity * bins)
    if use_budget and math.isfinite(p.phase_budget):
        expr = pulp.lpSum(float(p.cost[u] / p.cost_scale) * z for u, z in terms)
        bound = p.phase_budget * bins / p.cost_scale
        prob += (expr <= bound) if sense == "<=" else (expr >= bound)


def _fill_phases(p: _Problem, units: np.ndarray, time_limit: float | None, use_officers: bool,
                 use_budget: bool) -> np.ndarray | None:
    """Phase by phase, the most valuable set that fits the phase and leaves a remainder within the later phases'
    summed limits (small knapsack MIPs). Exact for the last phase, a heuristic before it; None if stuck."""
    phases = p.limits.phases
    out = np.full(len(units), phases - 1, dtype=np.int64)
    left = np.arange(len(units))
    for q in range(phases - 1):
        prob = pulp.LpProblem(f"rollout_phase_{q}", pulp.LpMaximize)
        z = {int(i): _var(prob, f"z_{i}", "Binary") for i in left}
        prob += pulp.lpSum(float(p.value[units[i]]) * z[i] for i in z)
        _phase_limits(p, prob, [(units[i], z[i]) for i in z], 1, use_officers, use_budget)
        _phase_limits(p, prob, [(units[i], 1 - z[i]) for i in z], phases - 1 - q, use_officers, use_budget)
        prob.solve(_solver(min(time_limit or 10.0, 10.0)))
        if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            return None
        here = np.array([i for i in z if (z[i].value() or 0.0) > 0.5], dtype=np.int64)
        out[here] = q
        left = np.setdiff1d(left, here)
    return out if _packed_ok(p, units, out, use_officers, use_budget) else None


def _pack(p: _Problem, units: np.ndarray, time_limit: float | None, *, order: np.ndarray | None = None,
          use_officers: bool = True, use_budget: bool = True) -> np.ndarray | None:
    """Phase (0-based) of each unit of ``units`` within the per-phase limits, or None if provably impossible.

    1. first fit in ``order`` (default: largest first): the earliest phase with room;
    2. else phase after phase, the most valuable set that still leaves a feasible remainder
       (needed when the limits are filled exactly, where first fit fails);
    3. else a feasibility MIP over all phases (phases then ordered by the value they hold).
    Raises :class:`_Undecided` when the MIP stops on its time limit.
    """
    if not len(units):
        return np.zeros(0, dtype=np.int64)
    seq = order if order is not None else np.argsort(-p.officers[units], kind="stable")
    greedy = _greedy_pack(p, units[seq], use_officers, use_budget)
    if greedy is not None:
        out = np.empty(len(units), dtype=np.int64)
        out[seq] = greedy
        return out
    filled = _fill_phases(p, units, time_limit, use_officers, use_budget)
    if filled is not None:
        return filled
    phases = p.limits.phases
    prob = pulp.LpProblem("rollout_packing", pulp.LpMinimize)
    z = [[_var(prob, f"z_{i}_{q}", "Binary") for q in range(phases)] for i in range(len(units))]
    prob += pulp.lpSum([])
    for row in z:
        prob += pulp.lpSum(row) == 1
    for q in range(phases):
        _phase_limits(p, prob, [(u, z[i][q]) for i, u in enumerate(units)], 1, use_officers, use_budget)
    prob.solve(_solver(time_limit))
    if prob.status == pulp.LpStatusInfeasible:
        return None
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        raise _Undecided(pulp.LpStatus[prob.status])
    out = np.array([int(np.argmax([v.value() or 0.0 for v in row])) for row in z], dtype=np.int64)
    if not _packed_ok(p, units, out, use_officers, use_budget):
        raise _Undecided("solver tolerance")
    return _by_value(p, units, out)


def _packed_ok(p: _Problem, units: np.ndarray, phase: np.ndarray, use_officers: bool = True,
               use_budget: bool = True) -> bool:
    """Exact check of the per-phase limits (the solver works to a tolerance)."""
    n = p.limits.phases
    officers = np.bincount(phase, weights=p.officers[units], minlength=n)
    cost = np.bincount(phase, weights=p.cost[units], minlength=n)
    return bool(((officers <= p.limits.capacity) | (not use_officers)).all()
                and ((cost <= p.phase_budget) | (not use_budget)).all())


def _selection_model(p: _Problem, bins: int, cuts: Sequence[np.ndarray]) -> tuple[pulp.LpProblem, dict]:
    """The selection MIP with ``bins`` = 1 (aggregated relaxation) or P (phases) copies of each unit."""
    lim = p.limits
    scale = lim.phases if bins == 1 else 1
    idx = np.flatnonzero(p.candidate)
    prob = pulp.LpProblem("rollout_selection", pulp.LpMaximize)
    x = {int(u): [_var(prob, f"x_{u}_{q}", "Binary") for q in range(bins)] for u in idx}
    chosen = {u: pulp.lpSum(row) for u, row in x.items()}
    for u in x:
        prob += (chosen[u] == 1) if p.forced[u] else (chosen[u] <= 1), f"once_{u}"
    if p.cover_src is None:
        objective = pulp.lpSum(float(p.value[u]) * chosen[u] for u in x)
    else:
        live = p.reachable[p.cover_src] & p.candidate[p.cover_dst]
        src, dst = p.cover_src[live], p.cover_dst[live]
        order = np.argsort(src, kind="stable")
        src, dst = src[order], dst[order]
        starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.zeros(0, dtype=np.int64)
        y = {}
        for v, us in zip(src[starts], np.split(dst, starts[1:]), strict=True):
            y[int(v)] = _var(prob, f"y_{v}", "Continuous")
            prob += y[int(v)] <= pulp.lpSum(chosen[int(u)] for u in us), f"reach_{v}"
        objective = (pulp.lpSum(float(p.value[v]) * y[v] for v in y)
                     + FLOOR * pulp.lpSum(float(p.value[u]) * chosen[u] for u in x))
    prob += objective
    for q in range(bins):
        prob += pulp.lpSum(float(p.officers[u]) * x[u][q] for u in x) <= lim.capacity * scale, f"officers_{q}"
        if math.isfinite(p.phase_budget):
            prob += (pulp.lpSum(float(p.cost[u] / p.cost_scale) * x[u][q] for u in x)
                     <= p.phase_budget * scale / p.cost_scale), f"budget_{q}"
    if math.isfinite(p.total_budget):
        prob += pulp.lpSum(float(p.cost[u] / p.cost_scale) * chosen[u] for u in x) <= p.total_budget / p.cost_scale
    for k, cut in enumerate(cuts):
        prob += pulp.lpSum(chosen[int(u)] for u in cut) <= len(cut) - 1, f"cut_{k}"
    return prob, x


def _solve(p: _Problem, bins: int, cuts: Sequence[np.ndarray], time_limit: float | None
           ) -> tuple[np.ndarray, np.ndarray, str]:
    """Solve the selection MIP: chosen unit indices, their bin, and ``"optimal"``/``"feasible"``."""
    prob, x = _selection_model(p, bins, cuts)
    prob.solve(_solver(time_limit))
    if prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    elif prob.status == pulp.LpStatusInfeasible:
        raise InfeasiblePlan("packing", "no plan meets the limits with the must-include units",
                             list(p.ids[p.forced]))
    else:
        raise RuntimeError(f"the solver stopped without a plan (status {pulp.LpStatus[prob.status]}): "
                           "raise the time limit")
    units, bins_of = [], []
    for u, row in x.items():
        for q, var in enumerate(row):
            if (var.value() or 0.0) > 0.5:
                units.append(u)
                bins_of.append(q)
    return np.array(units, dtype=np.int64), np.array(bins_of, dtype=np.int64), status


def _cover_order(p: _Problem, chosen: np.ndarray) -> np.ndarray:
    """Order of ``chosen`` sites by greedy marginal coverage value (ties: own value, then input order)."""
    reach: dict[int, np.ndarray] = {}
    src, dst = p.cover_src, p.cover_dst
    for u in chosen:
        vs = src[dst == u]
        reach[int(u)] = vs[p.reachable[vs]]
    done = np.zeros(len(p.ids), dtype=bool)
    left = [int(u) for u in chosen]
    order = []
    while left:
        gains = [p.value[reach[u][~done[reach[u]]]].sum() for u in left]
        best = max(range(len(left)), key=lambda i: (round(gains[i], 12), p.value[left[i]], -i))
        u = left.pop(best)
        done[reach[u]] = True
        order.append(u)
    position = {u: k for k, u in enumerate(order)}
    return np.array([position[int(u)] for u in chosen], dtype=np.int64).argsort(kind="stable")


def _plan_order(p: _Problem, chosen: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Indices into ``chosen`` in the order phases are filled: coverage gain, else value (then rank)."""
    if p.cover_src is not None:
        return _cover_order(p, chosen)
    r = np.nan_to_num(rank[chosen].astype(float), nan=np.inf)
    return np.lexsort((p.ids[chosen], r, -p.value[chosen]))


def select(scored: ScoreResult | pd.DataFrame, limits: Limits, *, covered: Iterable[str] = (),
           include: Iterable[str] = (), exclude: Iterable[str] = (), coverage_km: float | None = None,
           incidents_column: str = "incidents", time_limit: float | None = 120.0, max_cuts: int = 50,
           name: str | None = None) -> Plan:
    """The optimal phased rollout of ``scored`` under ``limits`` (method in the module docstring).

    Parameters
    ----------
    scored
        A :class:`ScoreResult`, or a table with ``unit_id`` and ``score`` (NaN = no
        score: never chosen unless included) and ``population`` or ``officers_needed``.
    limits
        Instructors, phases, costs and budgets.
    covered, include, exclude
        Unit ids already covered (never chosen; they reach neighbours in the
        covering variant), that must be chosen, that must not be.
    coverage_km
        Maximal covering variant: a trained unit also reaches the units within
        this distance (needs ``lon``/``lat`` columns).
    time_limit
        Seconds per solver call; a stop before the proof gives status ``"feasible"``.

    Raises
    ------
    InfeasiblePlan
        When the must-include units cannot fit the limits (``limit`` names which).
    """
    started = time.perf_counter()
    if not isinstance(limits, Limits):
        raise TypeError("limits must be a Limits")
    units = _table_arrays(scored, limits, incidents_column)
    known = set(units["unit_id"])
    cov = _unit_set(covered, known, "covered")
    inc = _unit_set(include, known, "include")
    exc = _unit_set(exclude, known, "exclude")
    for a, b, what in ((inc, exc, "both included and excluded"), (inc, cov, "both included and already covered")):
        if a & b:
            raise ValueError(f"unit(s) {sorted(a & b)} are {what}")
    ids = units["unit_id"].to_numpy(object)
    is_cov, is_inc, is_exc = (np.isin(ids, list(s)) for s in (cov, inc, exc))
    sc = units["score"].to_numpy(float)
    officers = units["officers"].to_numpy(float)
    if np.isnan(officers[is_inc]).any():
        raise ValueError(f"must-include unit(s) {sorted(ids[is_inc & np.isnan(officers)])} have no population "
                         "(or officers_needed) to size their training")
    no_size = np.isnan(officers)
    value = np.where(np.isnan(sc), 0.0, sc) + FLOOR
    p = _Problem(ids=ids, value=value, officers=np.nan_to_num(officers), cost=units["cost"].fillna(0).to_numpy(),
                 candidate=np.zeros(len(ids), bool), forced=is_inc, limits=limits)
    p.cost_scale = float(max(p.cost.max(initial=0.0), 1.0))
    fits, too_big = _fits_alone(p)
    p.candidate = ~is_cov & ~is_exc & ~no_size & (~np.isnan(sc) | is_inc) & (fits | is_inc)
    if coverage_km is not None:
        lon, lat = units["lon"].to_numpy(float), units["lat"].to_numpy(float)
        if np.isnan(lon).all():
            raise ValueError("the covering variant needs lon/lat columns with the units' points")
        src, dst = neighbours_within(lon, lat, coverage_km)
        reached_before = np.zeros(len(ids), dtype=bool)
        reached_before[src[is_cov[dst]]] = True
        p.cover_src, p.cover_dst, p.reachable = src, dst, ~reached_before
        p.value = np.where(np.isnan(sc), 0.0, sc) + FLOOR
        p.value[np.isnan(sc)] = 0.0  # no score, no known need: reaching it adds nothing
        p.value[p.forced & np.isnan(sc)] = FLOOR
    _check_forced(p, time_limit)
    rank = units["rank"].to_numpy(dtype=float, na_value=np.nan)
    cuts: list[np.ndarray] = []
    phase_of: np.ndarray | None = None
    status, joint = "optimal", False
    if not p.candidate.any():
        chosen, phase_of = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    while phase_of is None:
        joint = joint or len(cuts) >= max_cuts
        chosen, bins_of, status = _solve(p, limits.phases if joint else 1, cuts, time_limit)
        if not math.isinf(p.total_budget) and p.cost[chosen].sum() > p.total_budget:
            cuts.append(chosen)  # only a solver tolerance can give this: forbid the set and solve again
            continue
        try:
            phase_of = _pack(p, chosen, time_limit, order=_plan_order(p, chosen, rank))
        except _Undecided:
            phase_of = None
            if not joint:  # cannot tell whether this set fits: let the phased model decide
                joint = True
                continue
        if phase_of is not None:
            break
        if joint:
            if not _packed_ok(p, chosen, bins_of):
                raise RuntimeError("the solver's plan breaks a limit by more than its tolerance")
            phase_of = _by_value(p, chosen, bins_of)
        else:
            cuts.append(chosen)
    solver = _solver_kind()[0]
    return _finish(p, units, chosen, phase_of, status, too_big, is_cov, is_exc, no_size, coverage_km,
                   time.perf_counter() - started, solver, len(cuts), name)


def _finish(p: _Problem, units: pd.DataFrame, chosen: np.ndarray, phase_of: np.ndarray, status: str,
            too_big: dict[str, np.ndarray], is_cov: np.ndarray, is_exc: np.ndarray, no_size: np.ndarray,
            coverage_km: float | None, seconds: float, solver: str, cuts: int, name: str | None) -> Plan:
    """Reasons, reach and totals of a solved plan."""
    lim, n = p.limits, len(p.ids)
    phase = np.zeros(n, dtype=np.int64)  # 0 = not selected
    phase[chosen] = phase_of + 1
    selected = phase > 0
    load_o = np.bincount(phase_of, weights=p.officers[chosen], minlength=lim.phases)
    load_c = np.bincount(phase_of, weights=p.cost[chosen], minlength=lim.phases)
    slack_o, slack_c = lim.capacity - load_o, p.phase_budget - load_c
    slack_total = p.total_budget - load_c.sum()
    sc = units["score"].to_numpy(float)
    scored_sel = selected & ~np.isnan(sc)
    last = np.min(p.value[scored_sel]) if scored_sel.any() else -math.inf  # nothing chosen: limits block all

    # reach: the earliest phase a trained unit (itself, or a neighbour in the covering variant) reaches each unit;
    # already covered units count as trained in phase 0
    site = np.full(n, np.inf)
    site[selected] = phase[selected]
    site[is_cov] = 0
    src, dst = (p.cover_src, p.cover_dst) if p.cover_src is not None else (np.arange(n), np.arange(n))
    live = np.isfinite(site[dst])
    src, dst = src[live], dst[live]
    order = np.lexsort((dst, site[dst], src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]] if len(src) else np.zeros(0, dtype=bool)
    reached_phase = np.full(n, np.inf)
    reached_phase[src[first]] = site[dst[first]]
    reached_by = np.full(n, None, dtype=object)
    reached_by[src[first]] = p.ids[dst[first]]

    # the limits a unit would break in every phase (units × phases), or alone if it never fits one
    blocked = {"instructor_capacity": p.officers[:, None] > slack_o[None, :],
               "phase_budget": p.cost[:, None] > slack_c[None, :],
               "total_budget": np.repeat((p.cost > slack_total)[:, None], lim.phases, axis=1)}
    everywhere = np.logical_or.reduce(list(blocked.values())).all(axis=1)
    big = np.logical_or.reduce(list(too_big.values()))
    hit = {c: np.where(big, too_big[c], blocked[c].any(axis=1) & everywhere) for c in _LIMITS}
    money, people = hit["phase_budget"] | hit["total_budget"], hit["instructor_capacity"]
    limit_reason = np.select([money & people, money, people], ["budget_and_capacity", "budget",
                                                               "instructor_capacity"], "lower_score")
    reason = np.select(
        [selected & p.forced, selected, is_cov, is_exc, no_size | np.isnan(sc), np.isfinite(reached_phase),
         (p.value > last) | big],
        ["must_include", "selected", "already_covered", "excluded", "missing_data", "reached", limit_reason],
        "lower_score").astype(object)
    binding = np.where(selected | is_cov | is_exc | no_size | np.isnan(sc), "", _joined(hit, n)).astype(object)

    out = units[["unit_id", "name", "rank", "score", "population", "incidents", "officers", "cost"]].copy()
    out["selected"] = selected
    out["phase"] = pd.array(np.where(selected, phase, 0), dtype="Int64")
    out.loc[~selected, "phase"] = pd.NA
    out["reason"] = reason
    out["binding"] = binding
    finite = np.isfinite(reached_phase)
    out["reached_phase"] = pd.array(np.where(finite, reached_phase, 0).astype(np.int64), dtype="Int64")
    out.loc[~finite, "reached_phase"] = pd.NA
    out["reached_by"] = reached_by
    key = np.where(selected, phase, lim.phases + 1)
    order = np.lexsort((out["unit_id"].to_numpy(), np.nan_to_num(out["rank"].to_numpy(float, na_value=np.nan),
                                                                  nan=np.inf), key))
    out = out.iloc[order].reset_index(drop=True)

    pop = units["population"].to_numpy(float)
    inc = units["incidents"].to_numpy(float)
    all_incidents = np.nansum(inc) if not np.isnan(inc).all() else np.nan
    via = finite & (reached_phase >= 1) & ~selected  # reached through a neighbour, not trained itself
    rows = []
    for q in range(1, lim.phases + 1):
        here = phase == q
        first = finite & (reached_phase == q)
        rows.append(_phase_row(q, here, first, first & via, pop, inc, all_incidents, p, lim))
    phases = pd.DataFrame(rows)
    total = _phase_row(0, selected, finite & (reached_phase >= 1), via, pop, inc, all_incidents, p, lim)
    total.pop("phase")
    total["capacity_used"] = float(p.officers[selected].sum() / (lim.capacity * lim.phases)) \
        if lim.capacity else np.nan
    total["budget_used"] = (float(p.cost[selected].sum() / p.total_budget) if math.isfinite(p.total_budget)
                            else float(p.cost[selected].sum() / (p.phase_budget * lim.phases))
                            if math.isfinite(p.phase_budget) and p.phase_budget > 0 else np.nan)
    total["covered_before_units"] = int(is_cov.sum())
    total["covered_before_population"] = float(np.nansum(pop[is_cov]))
    total["reached_before_population"] = float(np.nansum(pop[finite & (reached_phase == 0)]))
    if p.cover_src is None:
        objective = float(p.value[selected].sum())
    else:
        reached_new = finite & (reached_phase >= 1)
        objective = float(p.value[reached_new].sum() + FLOOR * p.value[selected].sum())
    total["objective"] = objective
    return Plan(out, phases, total, status, objective, lim, coverage_km, seconds, solver, cuts, name)


def _phase_row(q: int, here: np.ndarray, first: np.ndarray, via: np.ndarray, pop: np.ndarray, inc: np.ndarray,
               all_incidents: float, p: _Problem, lim: Limits) -> dict[str, Any]:
    officers, cost = float(p.officers[here].sum()), float(p.cost[here].sum())
    incidents = float(np.nansum(inc[here])) if not np.isnan(inc).all() else np.nan
    return {
        "phase": q,
        "units": int(here.sum()),
        "officers": officers,
        "cost": cost,
        "population": float(np.nansum(pop[here])),
        "population_reached": float(np.nansum(pop[first])),
        "neighbours_reached": int(via.sum()),
        "neighbour_population_reached": float(np.nansum(pop[via])),
        "incidents": incidents,
        "incident_share": float(incidents / all_incidents) if all_incidents and np.isfinite(all_incidents) else np.nan,
        "capacity_used": officers / lim.capacity if lim.capacity else np.nan,
        "budget_used": cost / p.phase_budget if math.isfinite(p.phase_budget) and p.phase_budget > 0 else np.nan,
    }


def objective_value(scored: ScoreResult | pd.DataFrame, selected: Iterable[str], *, covered: Iterable[str] = (),
                    coverage_km: float | None = None) -> float:
    """The objective :func:`select` maximizes, for a given set of trained units (to check a plan by hand)."""
    units = _table_arrays(scored, Limits(), "incidents")
    ids = units["unit_id"].to_numpy(object)
    chosen = np.isin(ids, [str(s) for s in selected])
    sc = units["score"].to_numpy(float)
    value = np.where(np.isnan(sc), 0.0, sc) + FLOOR
    if coverage_km is None:
        return float(value[chosen].sum())
    src, dst = neighbours_within(units["lon"].to_numpy(float), units["lat"].to_numpy(float), coverage_km)
    before = np.zeros(len(ids), dtype=bool)
    before[src[np.isin(ids, [str(c) for c in covered])[dst]]] = True
    cover_value = np.where(np.isnan(sc), 0.0, value)
    reached = np.zeros(len(ids), dtype=bool)
    reached[src[chosen[dst]]] = True
    return float(cover_value[reached & ~before].sum() + FLOOR * value[chosen].sum())


def compare(plans: Mapping[str, Plan]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scenarios side by side: per unit ``rank_<name>``/``phase_<name>`` (and ``differs``), and the totals."""
    if not plans:
        raise ValueError("nothing to compare")
    frames = []
    for label, plan in plans.items():
        part = plan.units.set_index("unit_id")[["name", "rank", "phase"]]
        frames.append(part.rename(columns={"rank": f"rank_{label}", "phase": f"phase_{label}"}))
    units = frames[0]
    for part in frames[1:]:
        units = units.join(part.drop(columns="name"), how="outer")
    phase_cols = [f"phase_{label}" for label in plans]
    units["differs"] = units[phase_cols].astype("Float64").fillna(0).nunique(axis=1) > 1
    units = units.reset_index().sort_values(phase_cols, na_position="last", kind="stable").reset_index(drop=True)
    totals = pd.DataFrame({label: pd.Series(plan.totals) for label, plan in plans.items()})
    return units, totals
