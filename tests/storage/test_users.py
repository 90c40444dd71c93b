"""Accounts: argon2id hashing and rehashing, password policy, lockout with an injected clock, account
changes (roles, scopes, deactivation) under optimistic locking, all audited; on SQLite and PostGIS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from argon2 import PasswordHasher

from storage import StaleVersionError, Store
from storage.roles import AccountError, PermissionDenied, Viewer
from storage.users import User

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASSWORD = "Kaloum-2026-sûr"
#: Cheap parameters: the lockout tests verify a dozen passwords per backend.
FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class CountingHasher(PasswordHasher):
    """Counts verifications, to show an unknown account costs one verification like a known one."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=64, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002 - argon2's own name
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def fast(store: Store) -> Store:
    store.password_hasher = FAST
    return store


def _audit(store: Store, **where: object) -> list[tuple]:
    log = store.audit_log(**where).sort_values("id")
    return list(zip(log["action"], log["username"], log["detail"], strict=True))


def test_passwords_are_argon2id_and_never_stored_in_clear(store: Store) -> None:
    """The default hasher (no fast parameters here): argon2id, salted, verifiable."""
    user = store.create_user("Aissatou.Bah", PASSWORD, "planner", display_name="  Aïssatou   Bah ")
    assert user == User(user.id, "aissatou.bah", "Aïssatou Bah", "planner", ())
    hashed = store.read("app_user", where={"id": user.id})["password_hash"].iloc[0]
    assert hashed.startswith("$argon2id$v=19$") and PASSWORD not in hashed
    assert PasswordHasher().verify(hashed, PASSWORD)
    assert store.authenticate("AISSATOU.BAH ", PASSWORD, now=T0) == user  # names are case-insensitive
    assert store.authenticate("aissatou.bah", PASSWORD + "x", now=T0) is None
    other = store.create_user("fanta", PASSWORD, "viewer")
    assert store.read("app_user", where={"id": other.id})["password_hash"].iloc[0] != hashed  # salted
    assert "password_hash" not in store.users().columns


def test_password_policy_and_names(fast: Store) -> None:
    store = fast
    cases = [(("a", PASSWORD, "viewer"), "username_invalid"), (("bad name", PASSWORD, "viewer"), "username_invalid"),
             (("sekou", "court", "viewer"), "password_too_short"),
             (("sekou", "x" * 1025, "viewer"), "password_too_long"),
             (("sekou.toure", " Sekou.Toure ", "viewer"), "password_is_username"),
             (("sekou", PASSWORD, "chef"), "role_unknown")]
    for args, code in cases:
        with pytest.raises(AccountError) as err:
            store.create_user(*args)
        assert err.value.code == code, args
    store.create_user("sekou", "0123456789", "viewer")  # exactly ten characters is enough
    with pytest.raises(AccountError) as err:
        store.create_user("SEKOU", PASSWORD, "viewer")
    assert err.value.code == "username_taken"
    assert store.users()["username"].tolist() == ["sekou"]


def test_scopes_follow_the_role(fast: Store) -> None:
    store = fast
    with pytest.raises(AccountError, match="needs at least one unit") as err:
        store.create_user("conseil", PASSWORD, "council_member")
    assert err.value.code == "scope_required"
    for role, scope in (("planner", "prefecture:GN-KA"), ("commander", "neighbourhood:NB-1"),
                        ("council_member", "region:GN-C")):
        with pytest.raises(AccountError) as err:
            store.create_user("x.y", PASSWORD, role, scopes=[scope])
        assert err.value.code == "scope_not_allowed", role
    with pytest.raises(AccountError) as err:
        store.create_user("x.y", PASSWORD, "commander", scopes=["GN-KA"])
    assert err.value.code == "scope_invalid"
    kankan = store.create_user("kankan", PASSWORD, "commander",
                               scopes=["prefecture:GN-KA", ("prefecture", "GN-KA"), "subprefecture:GN-C-KALOUM"])
    assert kankan.scopes == (("prefecture", "GN-KA"), ("subprefecture", "GN-C-KALOUM"))
    assert kankan.viewer() == Viewer(name="kankan", role="commander", scopes=kankan.scopes)
    assert store.get_user("kankan") == kankan and store.get_user("nobody") is None and store.get_user("?") is None
    assert store.users().set_index("username").loc["kankan", "scopes"] == "prefecture:GN-KA, subprefecture:GN-C-KALOUM"


def test_lockout_after_five_failures_with_an_injected_clock(fast: Store) -> None:
    store = fast
    store.create_user("mariama", PASSWORD, "commander")
    for i in range(4):
        assert store.authenticate("mariama", f"faux-{i}", now=T0 + timedelta(minutes=i)) is None
    assert store.users()["failed_logins"].iloc[0] == 4
    assert store.authenticate("mariama", PASSWORD, now=T0 + timedelta(minutes=4)) is not None  # resets the count
    for i in range(5):
        assert store.authenticate("mariama", "faux", now=T0 + timedelta(minutes=10, seconds=i)) is None
    locked = store.users().iloc[0]
    assert locked["locked_until"] == T0 + timedelta(minutes=10, seconds=4) + timedelta(minutes=15)
    # Locked: even the right password is refused until the lock ends.
    assert store.authenticate("mariama", PASSWORD, now=T0 + timedelta(minutes=24)) is None
    user = store.authenticate("mariama", PASSWORD, now=T0 + timedelta(minutes=26))
    assert user is not None and user.role == "commander"
    after = store.users().iloc[0]
    assert after["failed_logins"] == 0 and pd.isna(after["locked_until"])
    assert after["last_login_at"] == T0 + timedelta(minutes=26)
    trail = _audit(store, action=None, username="mariama")
    assert [a for a, _, _ in trail] == (["login_failed"] * 4 + ["login"] + ["login_failed"] * 5 + ["lockout"]
                                        + ["login_failed", "login"])
    assert trail[-2][2] == "locked" and trail[5][2] == "bad_password" and "after 5 failed logins" in trail[10][2]


def test_lockout_is_configurable_and_reset_by_a_new_password(fast: Store) -> None:
    store = fast
    store.max_failed_logins, store.lockout_duration = 2, timedelta(minutes=1)
    store.create_user("ibrahima", PASSWORD, "planner")
    store.authenticate("ibrahima", "x", now=T0)
    store.authenticate("ibrahima", "x", now=T0)
    assert store.authenticate("ibrahima", PASSWORD, now=T0 + timedelta(seconds=59)) is None
    store.set_password("ibrahima", "Nouveau-mot-de-passe")
    assert store.authenticate("ibrahima", "Nouveau-mot-de-passe", now=T0 + timedelta(seconds=30)) is not None


def test_unknown_inactive_and_passwordless_accounts_cost_one_verification(store: Store) -> None:
    store.password_hasher = counting = CountingHasher()
    store.create_user("kadiatou", PASSWORD, "viewer")
    for name in ("personne", "kadiatou", "'; DROP TABLE app_user;--"):
        before = counting.verified
        assert store.authenticate(name, "mauvais-mot-de-passe", now=T0) is None
        assert counting.verified == before + 1, name
    store.deactivate("kadiatou")
    assert store.authenticate("kadiatou", PASSWORD, now=T0) is None
    assert store.get_user("kadiatou") is None
    details = [d for a, _, d in _audit(store) if a == "login_failed"]
    assert details == ["unknown_user", "bad_password", "unknown_user", "inactive"]
    store.activate("kadiatou")
    assert store.authenticate("kadiatou", PASSWORD, now=T0) is not None


def test_hash_is_upgraded_when_parameters_change(store: Store) -> None:
    store.password_hasher = FAST
    user = store.create_user("oumar", PASSWORD, "planner")
    old = store.read("app_user", where={"id": user.id})["password_hash"].iloc[0]
    assert "m=64,t=1,p=1" in old
    store.password_hasher = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    assert store.authenticate("oumar", PASSWORD, now=T0) == user
    new = store.read("app_user", where={"id": user.id})["password_hash"].iloc[0]
    assert "m=128,t=2,p=1" in new and new != old
    assert _audit(store, action="login")[-1][2] == "rehashed"
    assert store.authenticate("oumar", PASSWORD, now=T0) == user
    assert pd.isna(_audit(store, action="login")[-1][2])  # already current: no second rehash


def test_account_changes_are_audited_and_locked_optimistically(fast: Store) -> None:
    store = fast
    admin = store.create_user("admin", PASSWORD, "administrator")
    store.create_user("alpha", PASSWORD, "commander", scopes=["prefecture:GN-KA"], by=admin)
    moved = store.set_scopes("alpha", ["prefecture:GN-C"], by=admin, version=1)
    assert moved.scopes == (("prefecture", "GN-C"),)
    with pytest.raises(StaleVersionError):
        store.set_role("alpha", "planner", by=admin, version=1)
    planner = store.set_role("alpha", "planner", by=admin, version=2)
    assert planner.scopes == ()  # a planner is national: the prefecture went with the old role
    with pytest.raises(AccountError) as err:
        store.set_role("alpha", "council_member", by=admin)
    assert err.value.code == "scope_required"
    assert store.set_role("alpha", "council_member", scopes=["subprefecture:GN-C-KALOUM"]).role == "council_member"
    with pytest.raises(AccountError) as err:
        store.set_role("nobody", "viewer")
    assert err.value.code == "unknown_user"

    log = store.audit_log(table_name="app_user").sort_values("id")
    assert log["action"].tolist() == ["create", "create", "update", "update", "update"]
    assert log["username"].tolist() == ["system", "admin", "admin", "admin", "system"]
    change = log.iloc[2]
    before, after = json.loads(change["before"]), json.loads(change["after"])
    assert (before["scopes"], after["scopes"], before["version"], after["version"]) == (
        ["prefecture:GN-KA"], ["prefecture:GN-C"], 1, 2)
    texts = [text for text in [*log["before"], *log["after"]] if isinstance(text, str)]
    assert len(texts) == 8 and not any("password_hash" in text or PASSWORD in text for text in texts)


def test_only_administrators_manage_accounts_and_the_last_one_stays(fast: Store) -> None:
    store = fast
    admin = store.create_user("admin", PASSWORD, "administrator")
    chef = store.create_user("chef", PASSWORD, "commander")
    for call in (lambda: store.create_user("nouveau", PASSWORD, "viewer", by=chef),
                 lambda: store.set_role("chef", "administrator", by=chef),
                 lambda: store.deactivate("admin", by=chef.viewer()),
                 lambda: store.set_password("admin", "un-autre-mot-de-passe", by=chef),
                 lambda: store.users(by=chef), lambda: store.audit_log(viewer=chef.viewer()),
                 lambda: store.create_user("nouveau", PASSWORD, "viewer", by=Viewer())):
        with pytest.raises(PermissionDenied) as err:
            call()
        assert err.value.code == "admin_only"
    store.set_password("chef", "mon-propre-mot-de-passe", by=chef)  # one's own password is fine
    assert store.authenticate("chef", "mon-propre-mot-de-passe", now=T0) is not None
    for call in (lambda: store.deactivate("admin", by=admin), lambda: store.set_role("admin", "planner", by=admin)):
        with pytest.raises(AccountError) as err:
            call()
        assert err.value.code == "last_administrator"
    store.set_role("chef", "administrator", by=admin)
    store.deactivate("admin", by=admin)
    assert store.users().set_index("username")["active"].to_dict() == {"admin": False, "chef": True}
