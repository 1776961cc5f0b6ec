"""`timebank export` and `timebank import`: the whole deployment to one signed file, and back into an
empty database (SQLite or PostgreSQL, either way)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click
from sqlalchemy.orm import Session

from ledger.errors import LedgerError
from ledger.keys import Keyring
from ledger.keys import key_path as log_key_path
from ledger.note import KeySet, Verifier
from ledger import store
from ledger.store import LogInfo
from timebank import backup
from timebank.backup_format import BackupError, export_signer, export_verifier, key_path, parse_vkey

from . import migrate
from .cli_base import CliContext, now, pass_ctx

KEYS_NOT_INCLUDED = ("keys are not in the export: back up the key folder {keys} (log keys and {export}) and the "
                     "personal-data key file {personal} apart from it")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on a terminal (standard error), or None elsewhere."""
    if not sys.stderr.isatty():
        yield None
        return
    bars: list[click.progressbar[int]] = []
    shown = [0]

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=total, label=label, file=sys.stderr))
            bars[0].__enter__()
        bars[0].update(done - shown[0])
        shown[0] = done

    try:
        yield update
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


def _revision(ctx: CliContext) -> str:
    try:
        migrate.require_head(ctx.engine)
    except migrate.SchemaBehind as exc:
        raise click.ClickException(str(exc)) from exc
    return ",".join(migrate.current(ctx.engine))


@click.command("export")
@click.argument("target", metavar="FILE")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@pass_ctx
def export_command(ctx: CliContext, target: str, force: bool) -> None:
    """Write the whole deployment to FILE ('-': standard output) as one signed export.

    Every table: the ledger's leaves, hashes and checkpoints, and every domain table, as one
    consistent snapshot while the service runs. Personal data stays sealed. The export is signed
    with the export key (TIMEBANK_KEY_DIR/_export.key, made on first use); no key is in the file.
    """
    revision = _revision(ctx)
    try:
        signer = export_signer(ctx.settings.key_dir)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from exc
    if target == "-" and sys.stdout.isatty():
        raise click.ClickException("an export is binary: redirect standard output to a file, or name FILE")
    say = (lambda text: click.echo(text, err=True)) if target == "-" else click.echo
    path = Path(target)
    if target != "-" and path.exists() and not force:
        raise click.ClickException(f"{path} exists: pass --force to replace it")
    partial = path.with_name(path.name + ".partial")
    with Session(backup.snapshot(ctx.engine)) as session, _progress("exporting rows") as progress:
        if target == "-":
            summary = backup.export(session, sys.stdout.buffer, revision=revision, signer=signer, at=now(),
                                    progress=progress)
        else:
            try:
                partial.unlink(missing_ok=True)
                # the export holds sealed personal data and password digests: for its owner only
                with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                    summary = backup.export(session, out, revision=revision, signer=signer, at=now(),
                                            progress=progress)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(partial, path)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    say(f"exported {summary.rows} rows of {summary.tables} tables ({summary.size} bytes) to {target}")
    say(f"sha256 {summary.sha256}, signed by the export key {summary.signer}")
    say(KEYS_NOT_INCLUDED.format(keys=ctx.settings.key_dir, export=key_path(ctx.settings.key_dir).name,
                                 personal=ctx.settings.personal_data_key_file))


@click.command("import")
@click.argument("source", metavar="FILE", type=click.File("rb"))
@click.option("--vkey", help="The trusted export key (as `timebank export` prints it). Default: the export key "
                             "in TIMEBANK_KEY_DIR.")
@pass_ctx
def import_command(ctx: CliContext, source: BinaryIO, vkey: str | None) -> None:
    """Load an export (FILE, or '-' for standard input) into an empty database.

    Run `timebank db upgrade` on a new database first. The file must be byte for byte what the
    export key signed; after loading, every log is verified and every bank's balances are
    re-derived from its ledger. Anything wrong and nothing is kept (one transaction).
    """
    try:
        verifier = parse_vkey(vkey) if vkey else export_verifier(ctx.settings.key_dir)
    except (BackupError, LedgerError) as exc:
        raise click.BadParameter(getattr(exc, "message", str(exc)), param_hint="--vkey") from exc
    if verifier is None:
        raise click.ClickException(f"no trusted export key: restore the key folder {ctx.settings.key_dir} (it holds "
                                   f"{key_path(ctx.settings.key_dir).name}) or pass --vkey")
    revision = _revision(ctx)
    notes: list[str] = []
    keyring = Keyring(ctx.settings.key_dir)

    with Session(ctx.engine) as session, _progress("importing rows") as progress:

        def log_verifier(info: LogInfo) -> KeySet:
            """The log's keys: its key files (a rotation's retired keys through their statements)."""
            if log_key_path(ctx.settings.key_dir, info.id).exists():
                return store.key_set(session, info.id, keyring.verifiers(info.id, info.origin))
            notes.append(f"log {info.id} has no key file in {ctx.settings.key_dir}: verified with the key in the "
                         "export; it cannot be appended to until its key file is restored")
            return store.key_set(session, info.id, [Verifier.from_vkey(info.vkey)])

        try:
            report = backup.restore(session, source, revision=revision, verifier=verifier, log_verifier=log_verifier,
                                    progress=progress)
        except BackupError as exc:
            session.rollback()
            raise click.ClickException(f"{exc.message}; nothing was imported") from exc
        except LedgerError as exc:
            session.rollback()
            raise click.ClickException(f"{exc}; nothing was imported") from exc
        for log in report.logs:
            if log.ok:
                click.echo(f"OK   log {log.log_id}: {log.size} entries, {log.checkpoints} checkpoints verified")
            else:
                click.echo(f"FAIL {log.problem}", err=True)
        for bank in report.banks:
            if bank.ok:
                click.echo(f"OK   bank {bank.bank_id} ({bank.log_id}): {bank.accounts} account balances equal the "
                           "ledger's postings")
            for difference in bank.differences:
                click.echo(f"FAIL bank {bank.bank_id} ({bank.log_id}): {difference}", err=True)
        if not report.ok:
            session.rollback()
            raise click.ClickException("the imported data does not verify; nothing was imported")
        session.commit()
    for note in notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"imported {report.rows} rows of {report.tables} tables (export of {report.created_at}, schema "
               f"{report.revision}, sha256 {report.sha256})")


COMMANDS = (export_command, import_command)
