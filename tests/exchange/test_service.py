"""A file end to end: import, re-import (duplicates), review re-submission, undo; and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from exchange.service import import_incidents
from storage import Store
from views.review import resubmit

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 24)


def test_import_then_reimport_queues_everything_as_duplicates(store: Store) -> None:
    first = import_incidents(store, CORPUS / "export_utf8_bom.csv", today=TODAY, created_by="test")
    summary = first.plan.summary()
    assert summary["imported"] > 0 and summary["imported"] + summary["queued"] == summary["rows"]
    assert store.counts()["incident"] == summary["imported"]
    again = import_incidents(store, CORPUS / "export_utf8_bom.csv", today=TODAY)
    assert again.plan.summary()["imported"] == 0
    assert again.plan.summary()["queued_by_reason"]["duplicate_source_id"] >= summary["imported"]
    assert store.undo_batch(again.batch_id) == 0
    assert store.undo_batch(first.batch_id) == summary["imported"]
    assert store.counts()["incident"] == 0


def test_place_names_file_goes_to_the_map_with_unit_precision(store: Store) -> None:
    result = import_incidents(store, CORPUS / "lieux_sans_gps.csv", today=TODAY)
    stored = store.read("incident", where={"batch_id": result.batch_id})
    assert set(stored["precision"]) <= {"subprefecture", "prefecture", "region"}
    assert stored["h3_r8"].notna().all()
    reasons = {tuple(r) for r in store.review_items(batch_id=result.batch_id)["reasons"]}
    assert ("place_ambiguous",) in reasons and ("place_not_found",) in reasons


def test_corrected_review_row_is_imported(store: Store) -> None:
    result = import_incidents(store, CORPUS / "lieux_sans_gps.csv", today=TODAY)
    queue = store.review_items(batch_id=result.batch_id)
    item = queue[queue["reasons"].map(lambda r: r == ["place_ambiguous"])].iloc[0]
    values = dict(item["data"]) | {"prefecture": "Mali"}  # the user says which Touba
    plan = resubmit(store, item, values, result.mapping, today=TODAY)
    assert len(plan.records) == 1 and plan.records["subprefecture_id"].iloc[0] == "GN-ML-TOUBA"
    store.resolve_review_item(int(item["id"]), version=int(item["version"]), table="incident", record=plan.records)
    assert "GN-ML-TOUBA" in set(store.read("incident", where={"batch_id": result.batch_id})["subprefecture_id"])


def _cli(*args: str, env_url: str) -> subprocess.CompletedProcess:
    env = {"PROXIMITE_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin", "PROXIMITE_LANG": "fr"}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_import_json_summary_and_fatal_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = _cli("import", "incidents", str(CORPUS / "kobo_export.csv"), "--json", env_url=url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {"imported", "queued", "queued_by_reason"} <= set(summary) and summary["imported"] > 0
    bad = _cli("import", "incidents", str(CORPUS / "pas_un_csv.csv"), env_url=url)
    assert bad.returncode == 2 and "format inconnu" in bad.stderr
    missing = _cli("import", "incidents", str(tmp_path / "absent.csv"), env_url=url)
    assert missing.returncode == 2 and "introuvable" in missing.stderr
    text = _cli("import", "incidents", str(CORPUS / "registre_matam_cp1252.csv"), env_url=url)
    assert text.returncode == 0 and "envoyées en vérification" in text.stdout
