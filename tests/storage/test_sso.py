"""Single sign-on identities mapped to local accounts (``Store.login_sso``), without any identity provider.

The identity is the dict ``st.user`` holds after ``st.login``; only a verified e-mail address that
is the user name of an active account opens that account's role and scopes. Everything else ends
as the viewer role (public figures), with the reason in the audit log. SQLite and PostGIS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from storage import Store
from storage.roles import AccountError, Viewer
from storage.users import looks_like_email, sso_email

PASSWORD = "Conakry-2026-mot-de-passe"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VIEWER_ROLE = Viewer(name="anonymous", role="viewer")


def identity(email: object = "Chef.Kankan@Police.gn", verified: object = True, **more: object) -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": verified, "provider": "google",
            "sub": "10769150350006150715113082367", "iss": "https://accounts.google.com", **more}


def viewer_for(store: Store, claims: dict) -> Viewer:
    """What the app does with an identity: the account's viewer, or the public viewer role."""
    user, _ = store.login_sso(claims, now=NOW)
    return VIEWER_ROLE if user is None else user.viewer()


def test_the_claims_that_count() -> None:
    assert sso_email(identity()) == ("chef.kankan@police.gn", None)
    assert sso_email(identity(verified="true")) == ("chef.kankan@police.gn", None)  # some providers send text
    for unverified in (False, None, "false", 0, "yes"):
        assert sso_email(identity(verified=unverified)) == (None, "email_not_verified"), unverified
    claims = identity()
    del claims["email_verified"]
    assert sso_email(claims) == (None, "email_not_verified")  # absent is not verified
    for missing in (None, "", "  ", 42, "admin", "chef@localhost"):
        assert sso_email(identity(email=missing)) == (None, "no_email")
    assert sso_email(identity(email="a+b@police.gn")) == (None, "no_account")  # cannot be a user name
    assert looks_like_email("chef@police.gn") and not looks_like_email("chef.kankan")
    assert not looks_like_email("chef@localhost") and not looks_like_email("@police.gn")


def test_an_identity_opens_the_account_of_its_address(store: Store) -> None:
    store.create_user("chef.kankan@police.gn", PASSWORD, "commander", scopes=["prefecture:GN-KA"])
    got = viewer_for(store, identity())
    assert got == Viewer(name="chef.kankan@police.gn", role="commander", scopes=(("prefecture", "GN-KA"),))
    assert got.can_see_sensitive and not got.sees_sensitive_everywhere
    row = store.audit_log(limit=1)
    assert (row["username"].iloc[0], row["action"].iloc[0], row["detail"].iloc[0]) == (
        "chef.kankan@police.gn", "login", "sso:google")
    last = store.users().set_index("username").loc["chef.kankan@police.gn", "last_login_at"]
    assert last.to_pydatetime() == NOW


def test_identities_without_an_account_get_the_viewer_role(store: Store) -> None:
    store.create_user("admin", PASSWORD, "administrator")
    store.create_user("ancien@police.gn", PASSWORD, "administrator")
    store.deactivate("ancien@police.gn")
    cases = [  # (claims, reason): each one public figures only, audited with its reason
        (identity(email="inconnu@police.gn"), "no_account"),
        (identity(email="admin"), "no_email"),  # a login name, not an address: never the local "admin"
        (identity(email="ancien@police.gn"), "inactive"),
        (identity(email="admin@police.gn", verified=False), "email_not_verified"),
        (identity(email=None), "no_email"),
    ]
    for claims, reason in cases:
        user, why = store.login_sso(claims, now=NOW)
        assert (user, why) == (None, reason), claims
        assert viewer_for(store, claims) == VIEWER_ROLE
        assert not VIEWER_ROLE.can_see_points and not VIEWER_ROLE.can_export
    failed = store.audit_log(action="login_failed")
    assert sorted(failed["detail"].unique()) == sorted({f"sso:google {r}" for _, r in cases})
    assert "inconnu@police.gn" in set(failed["username"])


def test_a_password_lockout_does_not_block_single_sign_on(store: Store) -> None:
    store.create_user("chef@police.gn", PASSWORD, "planner")
    for _ in range(store.max_failed_logins):
        assert store.authenticate("chef@police.gn", "wrong password!", now=NOW) is None
    assert store.authenticate("chef@police.gn", PASSWORD, now=NOW) is None  # locked
    user, _ = store.login_sso(identity(email="chef@police.gn"), now=NOW)
    assert user is not None and user.role == "planner"


def test_accounts_for_single_sign_on_only(store: Store) -> None:
    user = store.create_user("conseil.dixinn@mairie.gn", None, "council_member",
                             scopes=["subprefecture:GN-C-DIXINN"])
    assert user.role == "council_member"
    created = json.loads(store.audit_log(action="create", limit=1)["after"].iloc[0])
    assert "password_hash" not in created and created["username"] == "conseil.dixinn@mairie.gn"
    # No password opens it (not even an empty one), single sign-on does.
    assert store.authenticate("conseil.dixinn@mairie.gn", "") is None
    assert store.audit_log(limit=1)["detail"].iloc[0] == "no_password"
    assert store.login_sso(identity(email="Conseil.Dixinn@mairie.gn"), now=NOW)[0] == user
    with pytest.raises(AccountError) as refused:
        store.create_user("conseil.kaloum", None, "viewer")
    assert refused.value.code == "sso_needs_email"
    # An administrator may still give it a password later.
    store.set_password("conseil.dixinn@mairie.gn", PASSWORD)
    assert store.authenticate("conseil.dixinn@mairie.gn", PASSWORD) == user
