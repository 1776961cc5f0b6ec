"""Backup and restore: a demo deployment exported from SQLite, imported into PostgreSQL (when the suite
runs on it) and back into SQLite keeps every row and every root and verifies; an export altered in
any byte, or re-signed by another key, is refused and leaves the target empty."""

from __future__ import annotations

import gzip
import io
import json
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api import migrate
from ledger import audit, store
from ledger.database import create_engine
from ledger.keys import Keyring
from ledger.note import Signer
from ledger.writer import Writer
from timebank import accounts, backup, sealing, users
from timebank.backup_format import KEY_NAME, BackupError, ExportDamaged, encode, export_signer, kind_of, line, stored_member
from timebank.backup_format import Writer as ExportWriter
from timebank.demo import load_demo
from timebank.errors import DomainError
from timebank.reconcile import reconcile
from timebank.regions import list_banks

from .conftest import rounds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))  # livehttp: how CLI tests run the console script
from livehttp import ORIGIN_HOST, console_env, session_on  # noqa: E402

TIMEBANK = Path(sys.executable).with_name("timebank")
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
REVISION = ",".join(migrate.heads())


@dataclass(frozen=True)
class Deployment:
    """A database and its instance folder (keys, personal-data key file) under `root`."""

    url: str
    root: Path

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(TIMEBANK), *args], env=console_env(self.url, self.root), input=stdin,
                              capture_output=True, timeout=600)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr.decode()
        assert b"Traceback" not in result.stderr
        return result.stdout.decode()

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"


def sqlite_url(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'timebank.sqlite3'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The demo, lived for some days, in SQLite, with a failed sign-in and an access record (tables
    whose keys the database numbers)."""
    root = tmp_path_factory.mktemp("source")
    deployment = Deployment(sqlite_url(root / "db"), root)
    (root / "instance").mkdir()
    sealer = sealing.load_or_create(root / "instance" / "personal-data.keys")
    with session_on(deployment.url) as session:
        result = load_demo(session, Writer(Keyring(deployment.key_dir)), sealer, origin_host=ORIGIN_HOST, now=NOW,
                           volunteers=rounds(16, 200), elders=rounds(20, 300), days=rounds(7, 90))
        assert result.created
        user = session.scalars(sa.select(users.User).order_by(users.User.username)).first()
        assert user is not None
        users.record_access(session, user_id=user.id, action="read", subject_id=user.id, fields=["name"], at=NOW)
        with pytest.raises(DomainError):
            users.sign_in(session, username=user.username, password="not the password", address="10.0.0.1", at=NOW)
        session.commit()
    return deployment


@pytest.fixture(scope="module")
def exported(source: Deployment) -> Path:
    """The source exported by the console script."""
    path = source.root / "backup.tbexport"
    out = source.ok("export", str(path))
    assert f"to {path}" in out and "signed by the export key timebank-export+" in out
    assert "keys are not in the export" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # sealed personal data and password digests are in it
    return path


def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order, values in their export form."""
    with session_on(url) as session:
        return {
            table.name: [tuple(encode(kind_of(c), v) for c, v in zip(table.columns, row))
                         for row in session.execute(sa.select(table).order_by(*table.primary_key.columns))]
            for table in backup.all_tables()
        }


def roots(url: str) -> dict[str, bytes]:
    with session_on(url) as session:
        return {log.id: store.latest_checkpoint(session, log.id).root for log in store.list_logs(session)}


def assert_verifies(url: str, key_dir: Path) -> None:
    """Every log verifies under its key file and every bank reconciles."""
    keyring = Keyring(key_dir)
    with session_on(url) as session:
        logs = store.list_logs(session)
        assert logs
        for info in logs:
            report = audit.verify_log(session, info.id, keyring.signer(info.id, info.origin).verifier)
            assert report.ok, report.problem
        for bank in list_banks(session):
            found = reconcile(session, bank)
            assert found.ok, found.differences


def is_empty(url: str) -> bool:
    with session_on(url) as session:
        try:
            backup.require_empty(session)
        except BackupError:
            return False
        return True


def body_lines(path: Path) -> list[bytes]:
    """The lines of an export's body and trailer (gzip reads both members)."""
    return gzip.decompress(path.read_bytes()).splitlines()


def restore(url: str, data: bytes, key_dir: Path) -> backup.RestoreReport:
    """Import `data` through the core, committing only if every check passed."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            verifier = Keyring(key_dir)  # the logs' keys
            report = backup.restore(session, io.BytesIO(data), revision=REVISION,
                                    verifier=export_signer(key_dir).verifier,
                                    log_verifier=lambda info: verifier.signer(info.id, info.origin).verifier)
            assert report.ok
            session.commit()
            return report
    finally:
        engine.dispose()


# -- the round trip -------------------------------------------------------------------------------


def test_a_round_trip_through_another_database_keeps_every_row_and_root(
    source: Deployment, exported: Path, databases: Any, tmp_path: Path
) -> None:
    """SQLite → the suite's database (PostgreSQL when it runs on it) → a new SQLite, all through the
    console script; the key folder is restored beside each database."""
    middle = Deployment(databases.new_url(), source.root)
    out = middle.ok("import", str(exported))
    assert out.splitlines()[-1].startswith("imported ")
    assert out.count("OK   log ") == 4 and out.count("OK   bank ") == 4
    again = tmp_path / "again.tbexport"
    middle.ok("export", str(again))
    last = Deployment(sqlite_url(tmp_path / "last"), source.root)
    last.ok("import", str(again))

    want = contents(source.url)
    assert sum(map(len, want.values())) > 2000
    filled = {name for name, rows in want.items() if rows}
    assert filled >= {"ledger_log", "ledger_leaf", "ledger_hash", "ledger_checkpoint", "region", "organisation",
                      "volunteer", "elder", "relative", "service_record", "record_event", "account", "posting", "entry",
                      "gift", "redemption", "care_agreement", "student_link", "app_user", "access_record",
                      "sign_in_failure", "catalogue_item", "policy_version", "status_change"}
    assert contents(middle.url) == want
    assert contents(last.url) == want
    assert roots(middle.url) == roots(last.url) == roots(source.url)
    for deployment in (middle, last):
        assert_verifies(deployment.url, source.key_dir)
        assert "OK   log" in deployment.ok("ledger", "verify")
    # the format is stable: the same rows give the same lines, whatever database they came from
    first, second = body_lines(exported), body_lines(again)
    assert first[1:-1] == second[1:-1] and first[0] != second[0]  # only the header's time differs


def test_the_restored_deployment_goes_on_working(source: Deployment, exported: Path, databases: Any) -> None:
    """After an import, new rows get fresh keys (PostgreSQL's sequences were moved on) and new ledger
    entries append under the restored keys; everything still verifies."""
    target = databases.new_url()
    restore(target, exported.read_bytes(), source.key_dir)
    with session_on(target) as session:
        user = session.scalars(sa.select(users.User).order_by(users.User.username)).first()
        assert user is not None
        users.record_access(session, user_id=user.id, action="change", subject_id=user.id, fields=["phone"], at=NOW)
        with pytest.raises(DomainError):
            users.sign_in(session, username=user.username, password="wrong again", address="10.0.0.2", at=NOW)
        bank = list_banks(session)[0]
        issuance = accounts.bank_account(session, bank, "issuance", NOW)
        person = accounts.person_account(session, bank=bank, person_id=user.subject_id or user.id, at=NOW)
        before = accounts.balance_of(session, person.id)
        accounts.transfer(session, Writer(Keyring(source.key_dir)), bank=bank, type="deposit", body={},
                          moves=[(issuance, -30), (person, 30)], at=NOW)
        session.commit()
        assert accounts.balance_of(session, person.id) == before + 30
        assert session.scalar(sa.select(sa.func.count()).select_from(users.AccessRecord)) == 2
    assert_verifies(target, source.key_dir)


def test_without_the_key_folder_an_import_needs_the_export_vkey(
    source: Deployment, exported: Path, databases: Any, tmp_path: Path
) -> None:
    bare = Deployment(databases.new_url(), tmp_path)
    refused = bare.run("import", str(exported))
    assert refused.returncode == 1 and b"no trusted export key" in refused.stderr and b"--vkey" in refused.stderr
    assert is_empty(bare.url)
    wrong = bare.run("import", str(exported), "--vkey", Signer.generate(KEY_NAME).vkey)
    assert wrong.returncode == 1 and b"signature does not verify" in wrong.stderr
    assert b"nothing was imported" in wrong.stderr and is_empty(bare.url)
    vkey = export_signer(source.key_dir).vkey
    result = bare.run("import", "-", "--vkey", vkey, stdin=exported.read_bytes())
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr.decode().count("it cannot be appended to until its key file is restored") == 4
    assert roots(bare.url) == roots(source.url)


# -- refusals -------------------------------------------------------------------------------------


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def test_an_export_altered_in_any_byte_is_refused_and_nothing_is_loaded(
    source: Deployment, exported: Path, tmp_path: Path
) -> None:
    data = exported.read_bytes()
    trailer = len(stored_member(body_lines(exported)[-1] + b"\n"))
    body_end = len(data) - trailer
    positions = {
        0, 4, 9,  # gzip magic, modification time, OS byte of the body member
        12, 40,  # the header line (compressed)
        body_end // 2, body_end - 9, body_end - 1,  # rows, the body's CRC and length
        body_end + 4, body_end + 12, body_end + 30, body_end + 100,  # trailer: gzip head, LEN, digest, signature
        len(data) - 9, len(data) - 1,
    }
    step = max(1, len(data) // rounds(20, 2000))
    positions |= set(range(3, len(data), step))
    target = Deployment(sqlite_url(tmp_path / "target"), source.root)
    for at in sorted(positions):
        with pytest.raises(ExportDamaged):
            restore(target.url, flipped(data, at), source.key_dir)
        assert is_empty(target.url), at
    for cut in (len(data) - 1, body_end, body_end // 2):
        with pytest.raises(ExportDamaged):
            restore(target.url, data[:cut], source.key_dir)
    with pytest.raises(ExportDamaged):
        restore(target.url, data + b"\n", source.key_dir)
    result = target.run("import", "-", stdin=flipped(data, body_end // 2))
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"nothing was imported" in result.stderr and b"altered or damaged" in result.stderr
    assert is_empty(target.url)


def forged(lines: list[bytes], signer: Signer, signature: str | None = None) -> bytes:
    """An export of these body lines, with its digest computed afresh and signed by `signer` (or
    carrying the given signature note)."""
    out = io.BytesIO()
    writer = ExportWriter(out)
    for text in lines:
        writer.write(json.loads(text))
    if signature is None:
        writer.close(signer)
        return out.getvalue()
    writer.close(signer)
    data = out.getvalue()
    body = data[: len(data) - len(stored_member(gzip.decompress(data).splitlines()[-1] + b"\n"))]
    digest = json.loads(gzip.decompress(data).splitlines()[-1])["sha256"]
    return body + stored_member(line({"sha256": digest, "signature": signature}))


def test_an_edited_export_with_a_recomputed_digest_is_refused(source: Deployment, exported: Path, tmp_path: Path) -> None:
    """Someone raises a balance and writes a whole new export, digest and all: signed by a key of
    their own, or carrying the genuine signature of the original, it is refused."""
    lines = body_lines(exported)
    header = json.loads(lines[0])
    columns = [name for name, _ in next(t for t in header["tables"] if t["name"] == "account")["columns"]]
    at = next(i for i, text in enumerate(lines) if text.startswith(b'{"t":"account"'))
    row = json.loads(lines[at])
    row["r"][columns.index("balance")] += 600
    edited = [*lines[:at], line(row).rstrip(b"\n"), *lines[at + 1 : -1]]
    genuine = json.loads(lines[-1])["signature"]
    target = Deployment(sqlite_url(tmp_path / "target"), source.root)
    with pytest.raises(ExportDamaged, match="does not verify under the trusted export key"):
        restore(target.url, forged(edited, Signer.generate(KEY_NAME)), source.key_dir)
    with pytest.raises(ExportDamaged, match="signature is for other contents"):
        restore(target.url, forged(edited, Signer.generate(KEY_NAME), genuine), source.key_dir)
    assert is_empty(target.url)
    # the same lines, unedited and signed by the deployment's own key, load: the refusals were the edit's
    restore(target.url, forged(lines[:-1], export_signer(source.key_dir)), source.key_dir)


def test_an_import_into_a_database_that_is_not_empty_is_refused(source: Deployment, exported: Path) -> None:
    before = contents(source.url)
    result = source.run("import", str(exported))
    assert result.returncode == 1 and b"the database is not empty" in result.stderr
    assert b"timebank db upgrade" in result.stderr
    assert contents(source.url) == before


def test_an_export_of_another_schema_revision_is_refused(source: Deployment, exported: Path, tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "target")
    engine = create_engine(url)
    try:
        with Session(engine) as session, pytest.raises(BackupError, match="schema revision"):
            backup.restore(session, io.BytesIO(exported.read_bytes()), revision="0003_users",
                           verifier=export_signer(source.key_dir).verifier, log_verifier=lambda info: None)  # type: ignore
    finally:
        engine.dispose()
    behind = Deployment(f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}", source.root)
    result = behind.run("import", str(exported))
    assert result.returncode == 1 and b"timebank db upgrade" in result.stderr


def test_an_export_never_leaves_a_partial_file(source: Deployment, exported: Path, tmp_path: Path) -> None:
    result = source.run("export", str(exported))
    assert result.returncode == 1 and b"--force" in result.stderr
    target = tmp_path / "stdout.tbexport"
    streamed = source.run("export", "-")
    assert streamed.returncode == 0 and streamed.stderr.startswith(b"exported ")
    target.write_bytes(streamed.stdout)
    assert body_lines(target)[1:-1] == body_lines(exported)[1:-1]
    assert list(tmp_path.iterdir()) == [target] and not list(source.root.glob("*.partial"))


def test_the_header_names_every_table_with_its_row_count(source: Deployment, exported: Path) -> None:
    header = json.loads(body_lines(exported)[0])
    assert header["format"] == "timebank-export" and header["version"] == 1 and header["revision"] == REVISION
    counts = {name: len(rows) for name, rows in contents(source.url).items()}
    assert {t["name"]: t["rows"] for t in header["tables"]} == counts
    assert header["rows"] == sum(counts.values())
    assert line(header).rstrip(b"\n") == body_lines(exported)[0]
