"""Fixtures of the domain tests: a keyring in a temporary folder, a personal-data sealer and a
small network of regions and banks, all inside the rolled-back `session`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from world import World, make_world
from sqlalchemy.orm import Session

from ledger.keys import Keyring
from ledger.writer import Writer
from timebank.sealing import Sealer


@pytest.fixture
def writer(tmp_path: Path) -> Writer:
    return Writer(Keyring(tmp_path / "keys"))


@pytest.fixture
def sealer() -> Sealer:
    return Sealer.generate()


@pytest.fixture
def world(session: Session, writer: Writer, sealer: Sealer, now: datetime) -> World:
    return make_world(session, writer, sealer, now)
