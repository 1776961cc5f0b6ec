"""The `timebank keys` commands: rotate the personal-data key, re-seal everything under it, retire old keys."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ledger.database import create_engine
from timebank import rekey, sealing
from timebank.sealing import Sealer, SealError

from . import migrate
from .settings import Settings, SettingsError, _database_url

KEY_FILE_NAME = "personal-data.keys"


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def default_key_file() -> Path:
    """`Settings.personal_data_keys` where the settings have it, else `<instance>/personal-data.keys`."""
    return _settings().personal_data_key_file


def _default_database_url() -> str:
    return _settings().database_url


class _Keys(click.Group):
    """A database that cannot be reached is an error message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(f"cannot use the database: {str(exc.orig).strip()}") from exc


@click.group(cls=_Keys)
def keys() -> None:
    """Personal-data keys: names, ID numbers, phones and notes are sealed at rest with them."""


def _options(command: Any) -> Any:
    command = click.option("--database-url", default=_default_database_url, show_default="DATABASE_URL",
                           help="The database to work on.")(command)
    return click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=default_key_file,
                        show_default="<instance>/personal-data.keys", help="The personal-data key file.")(command)


def _load(path: Path) -> Sealer:
    if not path.is_file():
        raise click.ClickException(f"no personal-data key file at {path} (the app makes one when it first starts)")
    try:
        return Sealer.loads(path.read_text(encoding="ascii"))
    except (SealError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


@contextmanager
def _session(database_url: str) -> Iterator[Session]:
    """A session on a database at the code's head revision."""
    try:
        url = _database_url(database_url)
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--database-url") from exc
    engine = create_engine(url)
    try:
        try:
            migrate.require_head(engine)
        except migrate.SchemaBehind as exc:
            raise click.ClickException(str(exc)) from exc
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


@keys.command("rotate-personal-data")
@_options
@click.option("--retire", is_flag=True, help="Then drop old keys from the file, if no value is sealed with them.")
def rotate_personal_data(key_file: Path, database_url: str, retire: bool) -> None:
    """Add a new personal-data key, make it the current one and re-seal every value with it.

    The key file is saved (atomically, mode 0600) before any value is re-sealed, so no value is
    ever sealed with a key that is not in the file. A running service follows the file: its next
    request seals with the new key and opens values re-sealed with it, so it needs no restart.
    """
    sealer = _load(key_file)
    with _session(database_url) as session:
        rotated = sealer.rotated()
        sealing.save(key_file, rotated)
        click.echo(f"new current key {rotated.current} saved to {key_file}")
        try:
            if sys.stderr.isatty():
                with click.progressbar(length=rekey.pending(session, rotated), label="re-sealing personal data",
                                       file=sys.stderr) as bar:
                    count = rekey.reseal(session, rotated, progress=bar.update)
            else:
                count = rekey.reseal(session, rotated)
        except SealError as exc:
            raise click.ClickException(f"nothing was re-sealed: {exc}") from exc
        session.commit()
        click.echo(f"re-sealed {count} values with key {rotated.current}")
        if retire:
            _retire(session, key_file, rotated)


def _retire(session: Session, key_file: Path, sealer: Sealer) -> None:
    old = sorted(kid for kid in sealer.keys if kid != sealer.current)
    left = {kid: rekey.retire_check(session, sealer, kid) for kid in old}
    missed = rekey.uncovered()
    if missed or any(left.values()):
        for kid, n in left.items():
            if n:
                click.echo(f"key {kid} still seals {n} values (sealed by a process with the old key file?)", err=True)
        if missed:
            click.echo(f"columns that re-sealing does not cover: {', '.join(missed)}", err=True)
        raise click.ClickException("old keys kept; run `timebank keys rotate-personal-data --retire` again once "
                                   "no request sealed with them is in flight")
    if old:
        sealing.save(key_file, sealer.without(set(old)))
    click.echo(f"retired keys: {', '.join(old) or 'none'}")


@keys.command("personal-data-status")
@_options
def personal_data_status(key_file: Path, database_url: str) -> None:
    """List the key file's keys and how many values each seals."""
    sealer = _load(key_file)
    with _session(database_url) as session:
        usage = rekey.key_usage(session, sealer)
        missed = rekey.uncovered()
    for kid in sorted(sealer.keys, key=lambda k: (k != sealer.current, k)):
        click.echo(f"{kid}{' (current)' if kid == sealer.current else ''}: {usage[kid]} values")
    if usage[None]:
        click.echo(f"{usage[None]} values are sealed with keys not in {key_file}: they cannot be opened", err=True)
    if missed:
        click.echo(f"columns that re-sealing does not cover: {', '.join(missed)}", err=True)
