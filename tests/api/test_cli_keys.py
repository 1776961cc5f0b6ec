"""`timebank keys`: rotating the personal-data key re-seals every value; old keys are retired only
when nothing is sealed with them."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from api.cli_keys import keys
from ledger.database import create_engine
from ledger.keys import Keyring
from ledger.writer import Writer
from timebank import people, rekey, sealing
from timebank.banks import open_bank
from timebank.people import ID_WEIGHTS
from timebank.regions import create_region
from timebank.sealing import Sealer

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)


def id_number(serial: int) -> str:
    body = f"32070319500101{serial:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


@dataclass
class Deployment:
    url: str
    key_file: Path
    first_key: str
    plain: dict[str, str | None]

    def run(self, *args: str, **env: str) -> Result:
        options = ["--key-file", str(self.key_file), "--database-url", self.url]
        return CliRunner(env=env or None).invoke(keys, [*args, *options], catch_exceptions=False)

    def sealer(self) -> Sealer:
        return Sealer.loads(self.key_file.read_text())


@contextmanager
def session_on(url: str) -> Iterator[Session]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def everything_opened(url: str, sealer: Sealer) -> dict[str, str | None]:
    """Every sealed value in the database, opened with `sealer`, by where it lives."""
    out: dict[str, str | None] = {}
    with session_on(url) as session:
        for model, columns in rekey.sealed_columns().items():
            for row in session.scalars(sa.select(model)):
                for column in columns:
                    where = people.where(row, column)
                    out[where] = sealer.open(getattr(row, column), where=where)
    return out


@pytest.fixture
def deployment(databases: Any, tmp_path: Path) -> Deployment:
    """A migrated database with a bank, staff, volunteers and an elder with a relative, sealed with
    the key file `personal-data.keys`."""
    url, key_file = databases.new_url(), tmp_path / "personal-data.keys"
    sealer = sealing.load_or_create(key_file)
    with session_on(url) as session:
        city = create_region(session, level="city", name_zh="连云港市", name_en="Lianyungang", at=NOW)
        open_bank(session, Writer(Keyring(tmp_path / "keys")), region_id=city.id, log_id="lyg",
                  origin="timebank.test/lyg", at=NOW)
        people.register_staff(session, sealer, region_id=city.id, role="coordinator", name="王协调", at=NOW)
        for n in range(3):
            people.register_volunteer(session, sealer, region_id=city.id, name=f"志愿者{n}", sex="F",
                                      birth_date=date(1990, 1, 1), id_number=id_number(n), kind="community",
                                      phone="13800000000", at=NOW)
        elder = people.register_elder(session, sealer, region_id=city.id, name="刘奶奶", sex="F",
                                      birth_date=date(1940, 1, 1), id_number=id_number(10), registered_by="stf",
                                      health="独居", at=NOW)
        people.add_relative(session, sealer, elder_id=elder.id, relation="child", name="刘儿子", at=NOW)
        session.commit()
    plain = everything_opened(url, sealer)
    return Deployment(url, key_file, sealer.current, plain)


def values(plain: dict[str, str | None]) -> int:
    return sum(v is not None for v in plain.values())


def test_rotating_reseals_every_value_under_a_new_key_kept_in_the_file(deployment: Deployment) -> None:
    total = values(deployment.plain)
    result = deployment.run("rotate-personal-data")
    assert result.exit_code == 0, result.output
    sealer = deployment.sealer()
    assert sealer.current != deployment.first_key and set(sealer.keys) == {deployment.first_key, sealer.current}
    assert result.stdout.splitlines() == [f"new current key {sealer.current} saved to {deployment.key_file}",
                                          f"re-sealed {total} values with key {sealer.current}"]
    assert stat.S_IMODE(deployment.key_file.stat().st_mode) == 0o600
    assert everything_opened(deployment.url, sealer.without({deployment.first_key})) == deployment.plain
    status = deployment.run("personal-data-status")
    assert status.exit_code == 0, status.output
    assert status.stdout.splitlines() == [f"{sealer.current} (current): {total} values",
                                          f"{deployment.first_key}: 0 values"]


def test_rotating_with_retire_leaves_only_the_new_key(deployment: Deployment) -> None:
    deployment.run("rotate-personal-data")
    middle = deployment.sealer().current
    result = deployment.run("rotate-personal-data", "--retire")
    assert result.exit_code == 0, result.output
    sealer = deployment.sealer()
    assert list(sealer.keys) == [sealer.current]
    assert result.stdout.splitlines()[-1] == f"retired keys: {', '.join(sorted([deployment.first_key, middle]))}"
    assert everything_opened(deployment.url, sealer) == deployment.plain
    status = deployment.run("personal-data-status").stdout
    assert status == f"{sealer.current} (current): {values(deployment.plain)} values\n"


def test_old_keys_are_kept_while_values_are_still_sealed_with_them(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rekey, "reseal", lambda session, sealer, **kw: 0)  # as if another process wrote meanwhile
    result = deployment.run("rotate-personal-data", "--retire")
    assert result.exit_code == 1
    assert f"key {deployment.first_key} still seals {values(deployment.plain)} values" in result.stderr
    assert "old keys kept" in result.stderr
    sealer = deployment.sealer()
    assert deployment.first_key in sealer.keys
    assert everything_opened(deployment.url, sealer) == deployment.plain


def test_a_missing_or_corrupt_key_file_is_an_error_without_a_traceback(deployment: Deployment) -> None:
    missing = Deployment(deployment.url, deployment.key_file.with_name("nope.keys"), "", {})
    result = missing.run("rotate-personal-data")
    assert result.exit_code == 1 and "no personal-data key file" in result.stderr
    assert not missing.key_file.exists()
    deployment.key_file.write_text("{not json")
    for command in ("rotate-personal-data", "personal-data-status"):
        result = deployment.run(command)
        assert result.exit_code == 1 and "not valid" in result.stderr, result.output
        assert "Traceback" not in result.output


def test_an_unmigrated_database_changes_no_key(databases: Any, tmp_path: Path) -> None:
    key_file = tmp_path / "personal-data.keys"
    before = sealing.load_or_create(key_file).dumps()
    unmigrated = Deployment(databases.new_url(migrated=False), key_file, "", {})
    for command in ("rotate-personal-data", "personal-data-status"):
        result = unmigrated.run(command)
        assert result.exit_code == 1 and "timebank db upgrade" in result.stderr, result.output
    assert Sealer.loads(key_file.read_text()).dumps() == before


def test_the_key_file_and_database_default_to_the_settings(deployment: Deployment, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    deployment.key_file.rename(instance / "personal-data.keys")
    env = {"TIMEBANK_INSTANCE": str(instance), "DATABASE_URL": deployment.url, "SECRET_KEY": "x"}
    result = CliRunner(env=env).invoke(keys, ["personal-data-status"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{deployment.first_key} (current): {values(deployment.plain)} values\n"
