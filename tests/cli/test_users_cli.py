"""``proximite users …`` and ``proximite audit export`` through a real subprocess, on a SQLite file; the
password comes on standard input (``--password-stdin``), as a provisioning script would give it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from storage import open_store

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Conakry-2026-mot-de-passe"


def _cli(*args: str, url: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {"PROXIMITE_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "PROXIMITE_LANG": "en", "USER": "ops"}
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, input=stdin, timeout=120)


def test_create_list_and_log_in_with_the_created_account(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    done = _cli("users", "create", "Admin.Diallo", "--admin", "--display-name", "Aminata Diallo", "--password-stdin",
                url=url, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "admin.diallo" in done.stdout and "Administrator" in done.stdout
    chief = _cli("users", "create", "chef.kankan", "--role", "commander", "--scope", "prefecture:GN-KA",
                 "--password-stdin", url=url, stdin=PASSWORD + "\r\n")
    assert chief.returncode == 0, chief.stderr
    short = _cli("users", "create", "bob", "--role", "viewer", "--password-stdin", url=url, stdin="court\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    typo = _cli("users", "create", "bob", "--role", "commander", "--scope", "prefecture:GN-XX", "--password-stdin",
                url=url, stdin=PASSWORD + "\n")
    assert typo.returncode == 2 and "Unknown unit GN-XX" in typo.stderr

    listed = _cli("users", "list", "--json", url=url)
    assert listed.returncode == 0, listed.stderr
    assert [(u["username"], u["role"], u["scopes"], u["display_name"]) for u in json.loads(listed.stdout)] == [
        ("admin.diallo", "administrator", [], "Aminata Diallo"), ("chef.kankan", "commander", ["prefecture:GN-KA"],
                                                                  None)]
    with open_store(url) as store:  # the line end is not part of the password
        user = store.authenticate("chef.kankan", PASSWORD)
        assert user is not None and user.scopes == (("prefecture", "GN-KA"),)
        assert store.authenticate("admin.diallo", PASSWORD + "\n") is None


def test_role_password_deactivation_and_audit_export(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    with open_store(url) as store:
        store.create_user("admin", PASSWORD, "administrator")
        store.create_user("fanta", PASSWORD, "commander", scopes=["prefecture:GN-KA"])
    assert _cli("users", "set-role", "fanta", "planner", url=url).returncode == 0
    last = _cli("users", "deactivate", "admin", url=url)
    assert last.returncode == 2 and "last active administrator" in last.stderr
    assert _cli("users", "set-password", "fanta", "--password-stdin", url=url, stdin="Nouveau-mot-2026\n"
                ).returncode == 0
    missing = _cli("users", "set-password", "nobody", "--password-stdin", url=url, stdin="Nouveau-mot-2026\n")
    assert missing.returncode == 2 and "No account" in missing.stderr
    assert _cli("users", "deactivate", "fanta", url=url).returncode == 0
    text = _cli("users", "list", url=url).stdout
    assert "National planner" in text and "deactivated" in text

    out = tmp_path / "audit.csv"
    done = _cli("audit", "export", str(out), "--from", "2000-01-01", url=url)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["action"], r["username"]) for r in rows] == [
        ("update", "cli:ops"), ("update", "cli:ops"), ("update", "cli:ops"), ("create", "system"),
        ("create", "system")]
    assert [r["detail"] for r in rows][:2] == ["deactivated", "password_changed"]
    assert json.loads(rows[2]["after"])["role"] == "planner"
    with open_store(url) as store:
        assert store.authenticate("fanta", "Nouveau-mot-2026") is None  # deactivated
        exported = store.audit_log(action="export")
        assert exported["username"].tolist() == ["cli:ops"] and '"rows": 5' in exported["detail"].iloc[0]
