"""Benchmark: a local security plan's diagnosis and PDF on the demo data, for the five communes of Conakry
and the largest sub-prefectures, at 8,000 and at ``--incidents`` demo incidents.

    .venv/bin/python bench/plans.py
    .venv/bin/python bench/plans.py --incidents 200000

Stages, each timed per unit: the diagnosis (incidents per category and quarter, Gi* hot spots of the
unit, crashes and black spots, programme coverage; ``exchange.plans.diagnosis``) for a council
member of the unit, and the whole A4 plan PDF (two server-rendered maps) with three priorities and
three actions. A council waits for both on the page, so both should stay within a few seconds on a
modest laptop.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.generate import generate  # noqa: E402
from exchange import plans as xp  # noqa: E402
from i18n import Translator  # noqa: E402
from reports.local_plan import plan_pdf  # noqa: E402
from storage import open_store  # noqa: E402
from storage.roles import Viewer  # noqa: E402

UNITS = ("GN-C-KALOUM", "GN-C-DIXINN", "GN-C-MATAM", "GN-C-RATOMA", "GN-C-MATOTO", "GN-KA-KANKAN-CENTRE",
         "GN-NZ-NZEREKORE-CENTRE")


def run(n_incidents: int, today: dt.date) -> None:
    folder = Path(tempfile.mkdtemp(prefix="proximite-bench-plans-"))
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    started = time.perf_counter()
    store.replace_demo(generate(n_incidents=n_incidents), kind="demo", file_name="bench")
    print(f"\n{n_incidents:,} demo incidents loaded in {time.perf_counter() - started:.1f} s")
    print(f"{'unit':<24}{'incidents':>10}{'diagnosis s':>13}{'PDF s':>8}{'PDF kB':>8}{'pages':>7}")
    t = Translator("fr")
    for unit_id in UNITS:
        try:
            unit = xp.plan_unit("subprefecture", unit_id)
        except KeyError:
            continue
        plan_id = store.create_plan(unit, title=f"Plan {unit['unit_name']}", period_start=dt.date(2027, 1, 1),
                                    period_end=dt.date(2029, 12, 31))
        plan = store.plan(plan_id)
        shape = xp.unit_shape(plan)
        member = Viewer(name="bench", role="council_member", scopes=(("subprefecture", unit_id),))
        started = time.perf_counter()
        figures = xp.diagnosis(store, plan, member, as_of=today)
        diagnosis_s = time.perf_counter() - started
        inside = shape.representative_point()
        for rank in (1, 2, 3):
            store.add_priority(plan_id, {"title": f"Priorité {rank}"}, shapely.buffer(inside, 0.001 * rank),
                               kind="area")
            store.add_action(plan_id, {"title": f"Action {rank}", "responsible": "Mairie", "start_on": "2027-01-01",
                                       "end_on": f"{2026 + rank}-12-31", "budget_gnf": 1e6 * rank})
        started = time.perf_counter()
        pdf = plan_pdf(store.plan(plan_id), diagnosis=figures, priorities=store.plan_priorities(plan_id),
                       actions=store.plan_actions(plan_id), shape=shape, t=t,
                       generated_at=dt.datetime.now(dt.UTC))
        pdf_s = time.perf_counter() - started
        pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")
        print(f"{unit['unit_name']:<24}{figures['incidents']['total']:>10,}{diagnosis_s:>13.2f}{pdf_s:>8.2f}"
              f"{len(pdf) / 1024:>8.0f}{pages:>7}")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000, help="second, larger demo set")
    args = parser.parse_args()
    today = dt.date(2026, 11, 24)
    for n in (8_000, args.incidents):
        run(n, today)


if __name__ == "__main__":
    main()
