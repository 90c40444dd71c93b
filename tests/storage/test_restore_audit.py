"""A restore is in the audit log it restores: who, which file (name, SHA-256), how many rows per table.

The history in the file survives, the restore's own row comes right after it, and only an
administrator (or the local system, i.e. the command line) may restore. SQLite and PostGIS;
the ``backup``/``restore`` commands with ``--user`` on SQLite.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from storage import Store, open_store
from storage.backup import RESTORE_ACTION, RESTORE_DETAIL, backup, restore
from storage.roles import PermissionDenied, Viewer, acting

PASSWORD = "Conakry-2026-mot-de-passe"


def _plain(frame: pd.DataFrame) -> list[list[object]]:
    """Rows as plain values (missing ones as None), whatever dtype pandas inferred for a column."""
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def _restores(store: Store) -> pd.DataFrame:
    log = store.audit_log(action=RESTORE_ACTION)
    return log[log["detail"] == RESTORE_DETAIL]


def test_restore_is_audited_after_the_restored_history(store: Store, tmp_path: Path) -> None:
    store.create_user("admin", PASSWORD, "administrator")
    store.write({"instructor": pd.DataFrame({"name": ["Avant"]})}, kind="test")
    history = store.audit_log()
    file = tmp_path / "sauvegarde-2026-11-24.zip"
    manifest = backup(store, file)
    store.write({"instructor": pd.DataFrame({"name": ["Après"]})}, kind="test")  # lost by the restore

    admin = store.get_user("admin")
    restore(store, file, by=admin)
    log = store.audit_log()
    assert log["id"].iloc[1:].tolist() == history["id"].tolist()  # the file's history, then one row
    assert _plain(log.iloc[1:]) == _plain(history)
    row = log.iloc[0]
    assert (row["username"], row["action"], row["detail"]) == ("admin", RESTORE_ACTION, RESTORE_DETAIL)
    assert row["id"] == history["id"].max() + 1
    after = json.loads(row["after"])
    assert after["file_name"] == "sauvegarde-2026-11-24.zip"
    assert after["sha256"] == hashlib.sha256(file.read_bytes()).hexdigest()
    assert after["rows"] == manifest.rows() and after["rows"]["instructor"] == 1
    assert after["total_rows"] == manifest.total_rows and after["schema_revision"] == manifest.schema_revision
    # A second restore of the same file: the first restore's row is gone with the rest, the new one is there.
    restore(store, file, by=acting(None, name="cli:ops"))
    assert _restores(store)["username"].tolist() == ["cli:ops"]


@pytest.mark.parametrize("role", ["planner", "commander", "viewer"])
def test_only_an_administrator_restores(sqlite_store: Store, tmp_path: Path, role: str) -> None:
    file = tmp_path / "b.zip"
    backup(sqlite_store, file)
    sqlite_store.write({"instructor": pd.DataFrame({"name": ["Reste"]})}, kind="test")
    with pytest.raises(PermissionDenied):
        restore(sqlite_store, file, by=Viewer(name="x", role=role))
    assert sqlite_store.read("instructor")["name"].tolist() == ["Reste"] and _restores(sqlite_store).empty


def test_cli_restore_and_backup_record_who(tmp_path: Path) -> None:
    from cli import backup as backup_cli
    from cli.main import app

    nothing = backup_cli.t("Nothing was changed.")  # the command line's language is fixed when it is imported
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"PROXIMITE_DATABASE_URL": url, "PROXIMITE_LANG": "en", "USER": "ops"}
    with open_store(url) as store:
        store.create_user("admin", PASSWORD, "administrator")
        store.create_user("chef", PASSWORD, "commander")
        store.create_user("ancien", PASSWORD, "administrator")
        store.deactivate("ancien")
        store.write({"instructor": pd.DataFrame({"name": ["Avant"]})}, kind="test")
    done = runner.invoke(app, ["backup", str(tmp_path / "s.zip")], env=env)
    assert done.exit_code == 0, done.output
    with open_store(url) as store:
        exported = store.audit_log(action="export", limit=1)
        assert exported["username"].tolist() == ["cli:ops"]
        assert json.loads(exported["detail"].iloc[0])["sha256"] == hashlib.sha256(
            (tmp_path / "s.zip").read_bytes()).hexdigest()
        store.write({"instructor": pd.DataFrame({"name": ["Après"]})}, kind="test")

    for who in ("chef", "ancien", "personne"):  # not an administrator, deactivated, unknown: nothing changes
        refused = runner.invoke(app, ["restore", str(tmp_path / "s.zip"), "--yes", "--user", who], env=env)
        assert refused.exit_code == 2 and f" {who} " in refused.output and nothing in refused.output, refused.output
        with open_store(url) as store:
            assert store.read("instructor")["name"].tolist() == ["Avant", "Après"]
    done = runner.invoke(app, ["restore", str(tmp_path / "s.zip"), "--yes", "--user", "Admin"], env=env)
    assert done.exit_code == 0, done.output
    with open_store(url) as store:
        assert store.read("instructor")["name"].tolist() == ["Avant"]
        assert _restores(store)["username"].tolist() == ["admin"]
    done = runner.invoke(app, ["restore", str(tmp_path / "s.zip"), "--yes"], env=env)
    assert done.exit_code == 0, done.output
    with open_store(url) as store:
        assert _restores(store)["username"].tolist() == ["cli:ops"]
        assert json.loads(_restores(store)["after"].iloc[0])["file_name"] == "s.zip"
