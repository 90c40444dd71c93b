"""``proximite backup FILE`` and ``proximite restore FILE [--yes]`` (registered in ``cli.main``).

Both work on the store named by ``PROXIMITE_DATABASE_URL``, SQLite or PostGIS; a
backup made on one restores on the other. A restore replaces everything in the
database, so it shows what the file holds and asks first unless ``--yes``.
Refusals (damaged file, newer schema...) exit with status 2 and change nothing.

Both are for whoever runs the server: a backup holds every record, sensitive
reports and accounts included, so the app never offers it. Like ``proximite
users``, the commands act as the trusted local system, recorded in the audit log
as ``cli:<login>`` (a backup as an ``export``, a restore in the restored log);
``--user NAME`` records an administrator's account instead, and is refused unless
that account is an active administrator of the database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, Translator, t_for

if TYPE_CHECKING:
    from storage import Store


def _translator() -> Translator:
    lang = os.environ.get("PROXIMITE_LANG", DEFAULT_LANGUAGE)
    return t_for(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


t = _translator()

#: Sentences for storage.backup.BackupError codes.
REFUSALS: dict[str, str] = {
    "unreadable": N_("the file cannot be read"),
    "bad_zip": N_("damaged ZIP archive"),
    "zip_unsafe": N_("unsafe ZIP archive (paths outside the archive or too large once unpacked)"),
    "not_a_backup": N_("this is not a Proximité backup"),
    "format_too_new": N_("the backup was made by a newer version of Proximité: upgrade Proximité first"),
    "checksum": N_("the file is damaged or was altered (a checksum does not match)"),
    "schema_newer": N_("the backup comes from a newer database schema: upgrade Proximité, then restore it"),
    "schema_older": N_("the backup comes from an older database schema: restore it with the version of Proximité "
                       "that made it, upgrade that database, then back it up again"),
    "schema_mismatch": N_("the backup does not match this version's database schema"),
    "bad_table": N_("a table of the backup cannot be read"),
    "not_empty": N_("the database is not empty"),
}


def _store() -> Store:
    from storage import open_store

    try:
        return open_store()
    except Exception as exc:  # any driver or connection error: say which store and why
        typer.echo(t("Cannot open the database {url}: {error}", url=os.environ.get("PROXIMITE_DATABASE_URL", "-"),
                     error=exc), err=True)
        raise typer.Exit(2) from exc


def _operator(store: Store, user: str | None,
              refused: str = N_("Restore refused: {user} is not an active administrator of {url}.")) -> Any:
    """Who acts: ``cli:<login>`` (the local system), or the active administrator named by ``--user``."""
    from storage.roles import ADMINISTRATOR, acting

    if user is None:
        return acting(None, name=f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'local'}")
    account = store.get_user(user)
    if account is None or account.role != ADMINISTRATOR:
        typer.echo(t(refused, user=user.strip(), url=store.url), err=True)
        typer.echo(t("Nothing was changed."), err=True)
        raise typer.Exit(2)
    return account


def _refused(exc: Exception) -> typer.Exit:
    """Print why a backup file was refused (translated reason, English detail) and return the exit."""
    code, detail = getattr(exc, "code", ""), getattr(exc, "detail", str(exc))
    reason = t(REFUSALS[code]) if code in REFUSALS else str(exc)
    typer.echo(t("Restore refused: {reason}.", reason=reason) + f" ({detail})", err=True)
    typer.echo(t("Nothing was changed."), err=True)
    return typer.Exit(2)


def backup_command(
    file: Annotated[Path, typer.Argument(help=t("Backup file to write (a ZIP file, replaced if it exists)."))],
    user: Annotated[str | None, typer.Option("--user", help=t("Administrator account who makes the backup "
                                                              "(recorded in the audit log)."))] = None,
) -> None:
    """One consistent snapshot of every table, whatever the backend; the export is audited."""
    import json

    from storage.backup import BackupError, backup, file_sha256

    store = _store()
    try:
        operator = _operator(store, user, refused=N_("Backup refused: {user} is not an active administrator of "
                                                     "{url}."))
        manifest = backup(store, file)
        store.record_audit("export", user=operator, detail=json.dumps(
            {"backup": file.name, "sha256": file_sha256(file), "rows": manifest.total_rows}, ensure_ascii=False))
    except (OSError, BackupError) as exc:
        typer.echo(t("Cannot write the backup {file}: {error}", file=file, error=exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        store.dispose()
    size_mb = file.stat().st_size / 1_000_000
    typer.echo(t("Backup of {url} written to {file}: {rows} rows in {tables} tables, {size} MB (schema {revision}).",
                 url=store.url, file=file, rows=t.n(manifest.total_rows), tables=t.n(len(manifest.tables)),
                 size=t.n(size_mb, 1), revision=manifest.schema_revision))


def restore_command(
    file: Annotated[Path, typer.Argument(help=t("Backup file made by “proximite backup”."))],
    yes: Annotated[bool, typer.Option("--yes", "-y", help=t("Do not ask for confirmation."))] = False,
    user: Annotated[str | None, typer.Option("--user", help=t("Administrator account who restores (recorded in "
                                                              "the audit log)."))] = None,
) -> None:
    """Replace the whole database with the backup, all or nothing; the restore is audited."""
    from storage.backup import BackupError, read_manifest, restore

    try:
        manifest = read_manifest(file)
    except BackupError as exc:
        raise _refused(exc) from exc
    typer.echo(t("Backup made on {date} by Proximité {version} from a {dialect} database (schema {revision}): "
                 "{rows} rows in {tables} tables.", date=t.d(manifest.created_at), version=manifest.app_version,
                 dialect=manifest.dialect, revision=manifest.schema_revision, rows=t.n(manifest.total_rows),
                 tables=t.n(len(manifest.tables))))
    store = _store()
    try:
        operator = _operator(store, user)
        question = t("Restoring replaces everything in {url} (records, demo data, accounts, audit log) with this "
                     "backup. Continue?", url=store.url)
        if not yes and not typer.confirm(question, default=False):
            typer.echo(t("Restore cancelled: nothing was changed."), err=True)
            raise typer.Exit(1)
        try:
            restored = restore(store, file, by=operator)
        except BackupError as exc:
            raise _refused(exc) from exc
    finally:
        store.dispose()
    typer.echo(t("Restored {rows} rows in {tables} tables into {url}.", rows=t.n(restored.total_rows),
                 tables=t.n(len(restored.tables)), url=store.url))
