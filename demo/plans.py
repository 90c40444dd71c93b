"""A demo local security plan (Kaloum, 2026–2028), adopted and followed up, so the plan pages and the
planners' progress view have something to show on first start. Labelled "[Démo]" like every demo record
and replaced with the rest of the demo data.
"""

from __future__ import annotations

import datetime as dt

import shapely

from exchange import plans as xp
from geo.plans import check_priority_shape
from storage import Store
from storage.roles import Viewer

from .common import DEFAULT_TODAY

UNIT = "GN-C-KALOUM"
TITLE = "[Démo] Plan local de sécurité de Kaloum 2026–2028"
NOTES = {
    "perceived_insecurity": "[Démo] Les commerçantes du marché Niger craignent les vols à l'arraché à la tombée "
                            "de la nuit ; les jeunes signalent des agressions près du port.",
    "consultations": "[Démo] Marche exploratoire avec 24 femmes du marché (12 janvier 2026) ; réunion avec les "
                     "chefs de quartier de Boulbinet et Almamya.",
    "existing_responses": "[Démo] Patrouilles du commissariat central ; comité de veille du marché.",
}


def _shapes(unit: shapely.Geometry) -> list[tuple[str, shapely.Geometry]]:
    """Three priorities inside Kaloum: an area, a road stretch and a point, around an inner point."""
    x, y = shapely.get_coordinates(unit.representative_point())[0]
    area = shapely.box(x - 0.0015, y - 0.001, x + 0.0015, y + 0.001)
    line = shapely.LineString([(x - 0.003, y + 0.0015), (x + 0.003, y + 0.002)])
    point = shapely.Point(x + 0.001, y - 0.0015)
    out = []
    for kind, geom in (("area", area), ("line", line), ("point", point)):
        check = check_priority_shape(geom, unit)
        out.append((check.kind or kind, check.geometry if check.ok else shapely.Point(x, y)))
    return out


def add_demo_plan(store: Store, today: dt.date = DEFAULT_TODAY) -> int:
    """Store the adopted demo plan with its follow-up; returns its id (any earlier demo plan is replaced)."""
    store.delete_demo_plans()
    member = Viewer(name="demo", role="council_member", scopes=(("subprefecture", UNIT),))
    unit = xp.plan_unit("subprefecture", UNIT)
    plan_id = store.create_plan(unit, title=TITLE, period_start=dt.date(2026, 1, 1),
                                period_end=dt.date(2028, 12, 31), notes=NOTES, is_demo=True)
    shape = xp.unit_shape(store.plan(plan_id))
    (k1, market), (k2, road), (k3, crossing) = _shapes(shape)
    p1 = store.add_priority(plan_id, {"title": "[Démo] Marché Niger", "category": "vol", "raised_by": "women",
                                      "description": "[Démo] Vols à l'arraché le soir"}, market, kind=k1)
    p2 = store.add_priority(plan_id, {"title": "[Démo] Corniche", "category": "road_safety",
                                      "raised_by": "youth"}, road, kind=k2)
    p3 = store.add_priority(plan_id, {"title": "[Démo] Carrefour du port", "category": "agression",
                                      "raised_by": "neighbourhood_leaders"}, crossing, kind=k3)
    actions = [
        (p1, "[Démo] Patrouilles à pied les jours de marché", "Commissariat central de Kaloum",
         "Comité de veille du marché", "2026-02-01", "2026-12-31", 12e6, "Commune", "Vols signalés par mois", 18, 9),
        (p1, "[Démo] Éclairage public du marché", "Mairie de Kaloum", "EDG", "2026-03-01", "2027-06-30", 85e6,
         "Budget communal", "Lampadaires en service", 4, 30),
        (p2, "[Démo] Ralentisseurs et passages piétons", "Mairie de Kaloum", "Direction de la sécurité routière",
         "2026-06-01", "2027-03-31", 60e6, "Fonds d'entretien routier", "Accidents par trimestre", 9, 4),
        (p3, "[Démo] Permanence police-jeunes au carrefour", "Commissariat central de Kaloum",
         "Associations de jeunes", "2027-01-01", "2028-12-31", 8e6, "Commune", None, None, None),
    ]
    ids = []
    for priority, title, who, partners, start, end, budget, source, indicator, base, target in actions:
        ids.append(store.add_action(plan_id, {
            "priority_id": priority, "title": title, "responsible": who, "partners": partners, "start_on": start,
            "end_on": end, "budget_gnf": budget, "funding_source": source, "indicator": indicator,
            "baseline": base, "target": target}))
    figures = xp.diagnosis(store, store.plan(plan_id), member, as_of=dt.date(2026, 1, 15))
    store.adopt_plan(plan_id, version=store.plan(plan_id)["version"], adopted_on=dt.date(2026, 1, 20),
                     signatories=[{"name": "[Démo] Maire de Kaloum", "role": "Président du conseil"},
                                  {"name": "[Démo] Commissaire central", "role": "Police"},
                                  {"name": "[Démo] Présidente des femmes du marché", "role": "Femmes"}],
                     diagnosis=figures)
    followups = [(ids[0], "2026-04-01", "in_progress", 15), (ids[0], "2026-08-01", "in_progress", 12),
                 (ids[0], "2026-10-15", None, 10), (ids[1], "2026-06-01", "in_progress", 12),
                 (ids[1], "2026-10-01", "delayed", 14), (ids[2], "2026-09-01", "in_progress", None)]
    for action, day, status, value in followups:
        if dt.date.fromisoformat(day) <= today:
            store.record_followup(action, recorded_on=dt.date.fromisoformat(day), status=status,
                                  indicator_value=value, note="[Démo]")
    return plan_id
