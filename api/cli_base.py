"""What every `timebank` command shares: settings, the database, the ledger writer and the sealer."""

from __future__ import annotations

from datetime import datetime, timezone

import click
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger.database import create_engine
from ledger.keys import Keyring
from ledger.writer import Writer
from timebank import sealing
from timebank.errors import DomainError
from timebank.sealing import Sealer

from . import migrate
from .settings import Settings, SettingsError


class CliContext:
    def __init__(self) -> None:
        try:
            self.settings = Settings.from_env()
        except SettingsError as exc:
            raise click.UsageError(str(exc)) from exc
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.settings.database_url)
        return self._engine

    def session(self) -> Session:
        try:
            migrate.require_head(self.engine)
        except migrate.SchemaBehind as exc:
            raise click.ClickException(str(exc)) from exc
        return Session(self.engine)

    def writer(self) -> Writer:
        return Writer(Keyring(self.settings.key_dir))

    def sealer(self) -> Sealer:
        try:
            return sealing.load_or_create(self.settings.personal_data_key_file)
        except sealing.SealError as exc:
            raise click.ClickException(f"{self.settings.personal_data_key_file}: {exc}") from exc


pass_ctx = click.make_pass_decorator(CliContext, ensure=True)


def now() -> datetime:
    return datetime.now(timezone.utc)


def refused(exc: DomainError) -> click.ClickException:
    """A domain refusal as a command-line error: the message says what to fix."""
    return click.ClickException(exc.message)
