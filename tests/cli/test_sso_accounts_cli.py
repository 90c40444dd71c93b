"""``proximite users create ADDRESS --sso``: an account without a password, for single sign-on only."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from storage import open_store


def test_create_an_account_for_single_sign_on(tmp_path: Path) -> None:
    from cli import users as users_cli
    from cli.main import app
    from storage.roles import ACCOUNT_ERRORS

    t = users_cli.t  # the command line's language is fixed when it is imported
    runner = CliRunner()
    env = {"PROXIMITE_DATABASE_URL": f"sqlite:///{tmp_path / 'sso.db'}", "PROXIMITE_LANG": "en", "USER": "ops"}
    done = runner.invoke(app, ["users", "create", "Chef.Kankan@Police.gn", "--role", "commander", "--scope",
                               "prefecture:GN-KA", "--sso"], env=env)
    assert done.exit_code == 0, done.output
    assert "chef.kankan@police.gn" in done.output and t("Signs in with single sign-on only.") in done.output
    login_name = runner.invoke(app, ["users", "create", "chef.labe", "--role", "commander", "--sso"], env=env)
    assert login_name.exit_code == 2 and t(ACCOUNT_ERRORS["sso_needs_email"]) in login_name.output
    both = runner.invoke(app, ["users", "create", "a@police.gn", "--role", "viewer", "--sso", "--password-stdin"],
                         env=env, input="Conakry-2026-mot-de-passe\n")
    assert both.exit_code == 2 and t("--sso and --password-stdin contradict each other: an account for single "
                                     "sign-on has no password.") in both.output
    with open_store(env["PROXIMITE_DATABASE_URL"]) as store:
        assert store.users()["username"].tolist() == ["chef.kankan@police.gn"]
        user, _ = store.login_sso({"email": "chef.kankan@police.gn", "email_verified": True, "provider": "google"})
        assert user is not None and user.scopes == (("prefecture", "GN-KA"),)
        assert store.audit_log(limit=1)["username"].tolist() == ["chef.kankan@police.gn"]
