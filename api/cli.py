"""The `timebank` command: database migrations, ledger inspection and proofs, demo data, serving."""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import BinaryIO

import click
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledger import audit, rotation, store
from ledger.errors import LedgerError
from ledger.keys import Keyring
from ledger.note import CheckpointError, Verifier, parse_checkpoint
from timebank.reconcile import reconcile
from timebank.regions import Region

from . import cli_backup, cli_bench, cli_keys, cli_load, cli_network, cli_reports, migrate
from .cli_base import CliContext, now, pass_ctx
from .ledger_json import inclusion_json, logs_json


class _Main(click.Group):
    """The command group; a database that cannot be reached is an error message, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(f"cannot use the database: {str(exc.orig).strip()}") from exc


@click.group(cls=_Main)
def main() -> None:
    """Elder-care time bank (养老服务时间银行). Settings come from the environment: DATABASE_URL,
    TIMEBANK_INSTANCE, TIMEBANK_KEY_DIR, SECRET_KEY, TIMEBANK_ORIGIN_HOST, PORT."""


# -- database -------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_ctx
def db_upgrade(ctx: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(ctx.engine, revision)
    click.echo(f"database at {', '.join(migrate.current(ctx.engine)) or 'base'}")


@db.command("downgrade")
@click.argument("revision")
@pass_ctx
def db_downgrade(ctx: CliContext, revision: str) -> None:
    """Undo migrations down to REVISION ('base' empties the database)."""
    migrate.downgrade(ctx.engine, revision)
    click.echo(f"database at {', '.join(migrate.current(ctx.engine)) or 'base'}")


@db.command("current")
@pass_ctx
def db_current(ctx: CliContext) -> None:
    """Show the database's revision and the code's head."""
    click.echo(f"database: {', '.join(migrate.current(ctx.engine)) or 'base'}; code: {', '.join(migrate.heads())}")


# -- ledger ---------------------------------------------------------------------------------------


@main.group()
def ledger() -> None:
    """The tamper-evident ledger: logs, checkpoints, proofs and verification."""


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@ledger.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON as GET /api/v1/ledger/logs does.")
@pass_ctx
def ledger_list(ctx: CliContext, as_json: bool) -> None:
    """List the logs with their origin, signed size and verifier key."""
    with ctx.session() as session:
        rows = logs_json(session)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no logs yet (`timebank ledger create ID` or `timebank demo load`)")
    for row in rows:
        click.echo(f"{row['id']}\t{row['size']} entries\t{row['vkey']}")


@ledger.command("create")
@click.argument("log_id")
@click.option("--origin", help="The log's origin (default: TIMEBANK_ORIGIN_HOST/LOG_ID).")
@pass_ctx
def ledger_create(ctx: CliContext, log_id: str, origin: str | None) -> None:
    """Create a log and its signing key (a file in TIMEBANK_KEY_DIR, mode 0600)."""
    origin = origin or f"{ctx.settings.origin_host}/{log_id}"
    with ctx.session() as session:
        try:
            info = ctx.writer().create_log(session, log_id=log_id, origin=origin, at=now())
            session.commit()
        except LedgerError as exc:
            raise _fail(exc) from exc
    click.echo(f"created log {info.id}; verifier key:\n{info.vkey}")


@ledger.command("checkpoint")
@click.argument("log_id")
@click.option("--size", type=click.IntRange(min=0), help="An archived checkpoint of this size.")
@pass_ctx
def ledger_checkpoint(ctx: CliContext, log_id: str, size: int | None) -> None:
    """Print the latest (or an archived) signed checkpoint, byte for byte."""
    with ctx.session() as session:
        try:
            if size is None:
                cp = store.latest_checkpoint(session, log_id)
            else:
                cp = store.get_checkpoint(session, log_id, size)
        except LedgerError as exc:
            raise _fail(exc) from exc
    click.echo(cp.note.decode(), nl=False)


@ledger.command("prove")
@click.argument("log_id")
@click.option("--index", type=click.IntRange(min=0), required=True, help="The leaf to prove.")
@click.option("--size", type=click.IntRange(min=0), help="A signed tree size (default: the latest).")
@pass_ctx
def ledger_prove(ctx: CliContext, log_id: str, index: int, size: int | None) -> None:
    """Print the inclusion proof JSON of leaf INDEX, as the HTTP API serves it."""
    with ctx.session() as session:
        try:
            proof = store.prove_inclusion(session, log_id, index, size)
        except LedgerError as exc:
            raise _fail(exc) from exc
    out = inclusion_json(proof)
    click.echo(json.dumps(out, indent=2, ensure_ascii=False))


@ledger.command("verify")
@click.argument("log_ids", nargs=-1)
@click.option(
    "--vkey",
    "vkeys",
    multiple=True,
    help="A trusted verifier key (as published); repeat for several logs, or for a log's old and new keys "
    "around a key rotation. Default: each log's key files.",
)
@click.option(
    "--checkpoint",
    "kept_files",
    multiple=True,
    type=click.File("rb"),
    help="A signed checkpoint you saved earlier (repeatable): the log must still hold it.",
)
@pass_ctx
def ledger_verify(
    ctx: CliContext, log_ids: tuple[str, ...], vkeys: tuple[str, ...], kept_files: tuple[BinaryIO, ...]
) -> None:
    """Verify whole logs (default: all): every leaf, the hash chain, the tree, every checkpoint.

    Exits 0 when all is intact; otherwise 1, naming the log and the first bad index.
    """
    try:
        trusted: dict[str, list[Verifier]] = {}
        for verifier in (Verifier.from_vkey(k) for k in vkeys):
            trusted.setdefault(verifier.name, []).append(verifier)
    except CheckpointError as exc:
        raise click.BadParameter(str(exc), param_hint="--vkey") from exc
    kept: dict[str, list[bytes]] = {}
    for kept_file in kept_files:
        note = kept_file.read()
        try:
            kept.setdefault(parse_checkpoint(note.partition(b"\n\n")[0] + b"\n").origin, []).append(note)
        except CheckpointError as exc:
            raise click.BadParameter(f"{kept_file.name}: {exc}", param_hint="--checkpoint") from exc
    keyring = Keyring(ctx.settings.key_dir)
    failed = False
    with ctx.session() as session:
        try:
            targets = [store.get_log(session, log_id) for log_id in log_ids] or store.list_logs(session)
        except LedgerError as exc:
            raise _fail(exc) from exc
        for info in targets:
            try:
                # An auditor's published keys, else the key files; with the retired keys that
                # these vouch for, each up to the size at which it was retired.
                anchors = trusted[info.origin] if trusted else keyring.verifiers(info.id, info.origin)
                verifier = store.key_set(session, info.id, anchors)
            except KeyError:
                click.echo(f"FAIL log {info.id}: no --vkey is named {info.origin}", err=True)
                failed = True
                continue
            except LedgerError as exc:
                click.echo(f"FAIL log {info.id}: no trusted key: {exc} (pass --vkey)", err=True)
                failed = True
                continue
            total = audit.count_leaves(session, info.id)
            try:
                with click.progressbar(length=total, label=f"verifying {info.id}", file=sys.stderr) as bar:
                    report = audit.verify_log(
                        session, info.id, verifier, progress=bar.update, kept=kept.pop(info.origin, [])
                    )
            except CheckpointError as exc:
                message = f"a kept checkpoint of {info.origin}: {exc}"
                raise click.BadParameter(message, param_hint="--checkpoint") from exc
            if report.ok:
                click.echo(f"OK   log {info.id}: {report.size} entries, {report.checkpoints} checkpoints verified")
            else:
                click.echo(f"FAIL {report.problem}", err=True)
                failed = True
                continue
            failed = not _reconcile(session, info.id) or failed
    for origin in kept:
        click.echo(f"FAIL a kept checkpoint names {origin}, which is not among the logs verified", err=True)
        failed = True
    if failed:
        sys.exit(1)


@ledger.command("rotate-key")
@click.argument("log_id")
@click.option("--begin", "step", flag_value="begin", help="Make an incoming key that co-signs every new checkpoint.")
@click.option("--finish", "step", flag_value="finish", help="Retire the current key; the incoming key signs alone.")
@pass_ctx
def ledger_rotate_key(ctx: CliContext, log_id: str, step: str | None) -> None:
    """Rotate log LOG_ID's signing key in two steps, with an overlap between them in which
    checkpoints carry both keys' signatures, so verifiers that know either key keep working.

    --begin prints the incoming verifier key to publish; --finish (after auditors have it) retires
    the old key at the log's signed size and prints its key file, which you then destroy offline.
    A running service follows both steps without a restart.
    """
    if step is None:
        raise click.UsageError("say --begin or --finish")
    keyring = Keyring(ctx.settings.key_dir)
    with ctx.session() as session:
        try:
            if step == "begin":
                begun = rotation.begin(session, keyring, log_id, at=now())
            else:
                finished = rotation.finish(session, keyring, log_id, at=now())
            session.commit()
        except LedgerError as exc:
            raise _fail(exc) from exc
    if step == "begin":
        click.echo(f"log {log_id}: the incoming key co-signs from the next checkpoint on; publish it "
                   f"next to the current key, then run --finish:\n{begun.incoming}")
        return
    click.echo(f"log {log_id}: retired key {finished.retired_key_id} at size {finished.size}; "
               f"the current key is now:\n{finished.current}")
    click.echo(f"destroy the retired key file offline: {finished.retired_file}")


def _reconcile(session: Session, log_id: str) -> bool:
    """Re-derive the balances of the bank that keeps `log_id` from its leaves and compare its records and
    policy rows with them; print what differs."""
    bank = session.scalar(sa.select(Region).where(Region.log_id == log_id))
    if bank is None:
        return True
    found = reconcile(session, bank)
    if found.ok:
        click.echo(f"OK   bank {bank.id} ({log_id}): {found.accounts} account balances equal the ledger's postings")
        return True
    for difference in found.differences:
        click.echo(f"FAIL bank {bank.id} ({log_id}): {difference}", err=True)
    return False


# -- demo and serving -----------------------------------------------------------------------------


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
@click.option("--volunteers", type=click.IntRange(min=10, max=100_000), default=200, show_default=True)
@click.option("--elders", type=click.IntRange(min=10, max=100_000), default=300, show_default=True)
@click.option("--days", type=click.IntRange(min=3, max=3650), default=90, show_default=True)
@pass_ctx
def demo_load(ctx: CliContext, volunteers: int, elders: int, days: int) -> None:
    """Build the demo network (two cities, four banks) and live DAYS days of it (skips if loaded)."""
    from timebank.demo import DEMO_PASSWORD, load_demo

    with ctx.session() as session:
        with click.progressbar(length=days, label="loading demo (days)", file=sys.stderr) as bar:
            result = load_demo(session, ctx.writer(), ctx.sealer(), origin_host=ctx.settings.origin_host, now=now(),
                               volunteers=volunteers, elders=elders, days=days, progress=bar.update)
    if result.created:
        click.echo("demo loaded: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
        click.echo(f"sign in as demo-admin, demo-coordinator, demo-volunteer, demo-student, demo-elder, demo-school "
                   f"or demo-auditor (the web pages: /sign-in) with the password {DEMO_PASSWORD}")
    else:
        click.echo("demo already loaded; nothing changed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), envvar="PORT", default=5000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@pass_ctx
def serve(ctx: CliContext, host: str, port: int, workers: int) -> None:
    """Serve the app under gunicorn, after printing each log's verifier key."""
    with ctx.session() as session:
        logs = store.list_logs(session)
    click.echo("ledger verifier keys (publish these; auditors check checkpoints with them):")
    for log in logs:
        click.echo(f"  {log.id}: {log.vkey}")
    click.echo(f"serving on http://{host}:{port}/")
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    # --preload: the app (and its start-up check of every log) is built once, before the fork,
    # so a long check never runs into gunicorn's worker timeout.
    args = ["--bind", f"{host}:{port}", "--workers", str(workers), "--preload", "--access-logfile", "-"]
    os.execv(gunicorn, [gunicorn, *args, "api.app:create_app()"])


for _command in (*cli_network.COMMANDS, *cli_reports.COMMANDS, *cli_backup.COMMANDS, cli_keys.keys, cli_bench.bench,
                 cli_load.load):
    main.add_command(_command)
