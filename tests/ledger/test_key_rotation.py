"""Rotating a log's signing key: the overlap in which both keys sign, the retired key bounded to
the size at which it was retired, and the key set that checks a log across rotations."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import audit, rotation, store
from ledger.database import drop_append_only_ddl, log_keys
from ledger.errors import CheckpointError, LogTampered
from ledger.keys import Keyring, key_path, next_key_path, retired_key_path
from ledger.log_keys import Retirement, key_set, keys_of
from ledger.note import SIGNATURE_DASH, Checkpoint, KeySet, Signer, Verifier, parse_checkpoint
from ledger.writer import Writer

LOG = "rota"
ORIGIN = f"timebank.test/{LOG}"


def entry(n: int) -> dict[str, object]:
    return {"type": "deposit", "account": f"acct-{n:04d}", "minutes": 30 + n}


class Deployment:
    """A committed log written through a Writer whose keyring keeps the key files in tmp_path."""

    def __init__(self, engine: Engine, key_dir: Path, now: datetime) -> None:
        self.engine, self.key_dir, self.now = engine, key_dir, now
        self.writer = Writer(Keyring(key_dir))  # a long-running service's writer
        self.appended = 0
        with Session(engine) as db:
            self.writer.create_log(db, log_id=LOG, origin=ORIGIN, at=now)
            db.commit()

    def append(self, count: int = 3) -> store.StoredCheckpoint:
        with Session(self.engine) as db:
            entries = [entry(self.appended + i) for i in range(count)]
            self.writer.append(db, LOG, entries, at=self.now + timedelta(minutes=self.appended))
            db.commit()
            self.appended += count
            return store.latest_checkpoint(db, LOG)

    def begin(self) -> rotation.Begun:
        with Session(self.engine) as db:  # a separate keyring: the operator's command
            begun = rotation.begin(db, Keyring(self.key_dir), LOG, at=self.now)
            db.commit()
        return begun

    def finish(self) -> rotation.Finished:
        with Session(self.engine) as db:
            finished = rotation.finish(db, Keyring(self.key_dir), LOG, at=self.now)
            db.commit()
        return finished

    def verify(self, anchors: list[Verifier] | None = None) -> audit.Report:
        with Session(self.engine) as db:
            keys = store.key_set(db, LOG, anchors or Keyring(self.key_dir).verifiers(LOG, ORIGIN))
            return audit.verify_log(db, LOG, keys)

    def check_head(self) -> store.StoredCheckpoint:
        with Session(self.engine) as db:
            return store.check_head(db, LOG, store.key_set(db, LOG, Keyring(self.key_dir).verifiers(LOG, ORIGIN)))

    def checkpoints(self) -> list[store.StoredCheckpoint]:
        with Session(self.engine) as db:
            return list(reversed(store.list_checkpoints(db, LOG, limit=1000)))

    def vkey(self) -> str:
        with Session(self.engine) as db:
            return store.get_log(db, LOG).vkey


def signature_lines(note: bytes) -> list[str]:
    return [line for line in note.decode().split("\n") if line.startswith(SIGNATURE_DASH)]


@pytest.fixture
def d(fresh_engine: Engine, tmp_path: Path, now: datetime) -> Deployment:
    deployment = Deployment(fresh_engine, tmp_path / "keys", now)
    deployment.append(4)
    return deployment


def test_during_the_overlap_each_checkpoint_is_signed_by_both_keys(d: Deployment) -> None:
    old = Verifier.from_vkey(d.vkey())
    before = d.append()
    assert len(signature_lines(before.note)) == 1

    begun = d.begin()
    assert begun.current == old.vkey and begun.incoming != old.vkey
    assert stat.S_IMODE(next_key_path(d.key_dir, LOG).stat().st_mode) == 0o600
    assert d.vkey() == old.vkey  # the old key stays current until the finish

    cosigned = d.append()  # the service's writer follows the new key file
    lines = signature_lines(cosigned.note)
    assert len(lines) == 2 and all(line.startswith(f"{SIGNATURE_DASH} {ORIGIN} ") for line in lines)
    new = Verifier.from_vkey(begun.incoming)
    for verifier in (old, new):
        checkpoint = verifier.open_checkpoint(cosigned.note)
        assert (checkpoint.size, checkpoint.root) == (cosigned.size, cosigned.root)
    assert d.verify().ok
    assert d.verify([old]).ok  # every checkpoint so far carries the old key's signature


def test_after_the_finish_the_new_key_signs_alone_and_the_whole_log_verifies(d: Deployment) -> None:
    old = Verifier.from_vkey(d.vkey())
    new = Verifier.from_vkey(d.begin().incoming)
    d.append()
    finished = d.finish()
    assert (finished.retired, finished.current, finished.retired_key_id) == (old.vkey, new.vkey, old.key_id.hex())
    assert d.vkey() == new.vkey
    retired = retired_key_path(d.key_dir, LOG, old.key_id.hex())
    assert finished.retired_file == str(retired)
    assert stat.S_IMODE(retired.stat().st_mode) == 0o600
    assert not next_key_path(d.key_dir, LOG).exists()
    assert Keyring(d.key_dir).signer(LOG, ORIGIN).vkey == new.vkey

    after = d.append()
    assert len(signature_lines(after.note)) == 1
    assert new.open_checkpoint(after.note).size == after.size
    with pytest.raises(CheckpointError, match="no signature by"):
        old.open_checkpoint(after.note)

    report = d.verify()  # the key file (new key) and the retirement it signed
    assert report.ok, report.problem
    assert report.checkpoints == len(d.checkpoints())
    assert d.verify([old, new]).ok
    assert d.verify([new]).ok  # the new key vouches for the old one, up to the retired size
    alone = d.verify([old])
    assert not alone.ok


def test_a_finish_with_no_checkpoint_cosigned_keeps_the_log_writable(d: Deployment) -> None:
    old_head = d.append()
    d.begin()
    d.finish()
    assert d.check_head().size == old_head.size  # signed by the retired key alone, within its bound
    after = d.append()
    assert after.size == old_head.size + 3
    assert d.verify().ok


def test_a_checkpoint_forged_with_the_retired_key_beyond_its_size_is_rejected(d: Deployment) -> None:
    old_signer = Keyring(d.key_dir).signer(LOG, ORIGIN)
    d.begin()
    d.append()
    finished = d.finish()
    head = d.append()
    assert head.size > finished.size

    # Someone who kept the retired key signs the head again with it alone.
    forged = old_signer.sign_checkpoint(Checkpoint(ORIGIN, head.size, head.root))
    with d.engine.begin() as conn:
        for statement in drop_append_only_ddl(d.engine.dialect.name, ("ledger_checkpoint",), with_function=False):
            conn.exec_driver_sql(statement)
        conn.execute(sa.text("UPDATE ledger_checkpoint SET note = :note WHERE log_id = :log AND size = :size"),
                     {"note": forged, "log": LOG, "size": head.size})

    report = d.verify()
    assert not report.ok and report.problem is not None
    assert report.problem.checkpoint_size == head.size
    assert f"retired at size {finished.size}" in report.problem.reason
    with pytest.raises(LogTampered, match="signed only by retired key"):
        d.check_head()
    with pytest.raises(LogTampered):
        d.append()
    assert LOG in d.writer.frozen


def test_a_key_the_database_alone_names_is_not_trusted(d: Deployment) -> None:
    # An intruder with write access to the database but no key file adds a key of their own and a
    # retirement statement that makes the current key retire in its favour.
    current = Verifier.from_vkey(d.vkey())
    intruder = Signer.generate(ORIGIN)
    statement = Retirement(ORIGIN, current.vkey, 0, intruder.vkey).sign(intruder)
    with d.engine.begin() as conn:
        conn.execute(sa.insert(log_keys), [
            {"log_id": LOG, "number": 0, "key_id": intruder.verifier.key_id.hex(), "vkey": intruder.vkey,
             "added_at": d.now, "added_size": 0, "retired_at": d.now, "retired_size": 10**6,
             "retirement": intruder.sign(Retirement(ORIGIN, intruder.vkey, 10**6, current.vkey).text())},
            {"log_id": LOG, "number": 1, "key_id": "00000000", "vkey": current.vkey, "added_at": d.now,
             "added_size": 0, "retired_at": d.now, "retired_size": 0, "retirement": statement},
        ])
    with Session(d.engine) as db:
        keys = key_set(db, LOG, [current])
    assert keys.bound(current.vkey) is None  # the intruder's statement binds nothing
    assert not keys.trusts(intruder.vkey)
    forged = intruder.sign_checkpoint(Checkpoint(ORIGIN, 5, b"\0" * 32))
    with pytest.raises(CheckpointError, match="no signature by"):
        keys.open_checkpoint(forged)


def test_a_chain_of_rotations_verifies_from_the_current_key_alone(d: Deployment) -> None:
    first = Verifier.from_vkey(d.vkey())
    sizes = []
    for _ in range(2):
        d.begin()
        d.append()
        sizes.append(d.finish().size)
        d.append()
    with Session(d.engine) as db:
        keys = key_set(db, LOG, Keyring(d.key_dir).verifiers(LOG, ORIGIN))
    assert keys.bound(first.vkey) == sizes[0]
    assert len(keys.keys) == 3
    assert d.verify().ok


def test_a_second_begin_and_a_finish_with_none_begun_are_refused(d: Deployment) -> None:
    with pytest.raises(rotation.RotationError, match="no key rotation"):
        d.finish()
    d.begin()
    with pytest.raises(rotation.RotationError, match="in progress"):
        d.begin()


def test_an_interrupted_finish_completes_when_run_again(d: Deployment) -> None:
    d.begin()
    d.append()
    with Session(d.engine) as db:  # the key files move, then the transaction is lost
        rotation.finish(db, Keyring(d.key_dir), LOG, at=d.now)
        db.rollback()
    assert not next_key_path(d.key_dir, LOG).exists()
    finished = d.finish()
    assert Keyring(d.key_dir).signer(LOG, ORIGIN).vkey == finished.current == d.vkey()
    d.append()
    assert d.verify().ok


def test_a_key_set_opens_a_checkpoint_only_within_a_key_s_bound() -> None:
    old, new = Signer.generate(ORIGIN), Signer.generate(ORIGIN)
    keys = KeySet([(old.verifier, 5), (new.verifier, None)])
    assert keys.name == ORIGIN
    assert keys.open_checkpoint(old.sign_checkpoint(Checkpoint(ORIGIN, 5, b"\1" * 32))).size == 5
    with pytest.raises(CheckpointError, match="signed only by retired key"):
        keys.open_checkpoint(old.sign_checkpoint(Checkpoint(ORIGIN, 6, b"\1" * 32)))
    both = old.cosigned_by(new).sign_checkpoint(Checkpoint(ORIGIN, 6, b"\1" * 32))
    assert keys.open_checkpoint(both).size == 6
    assert parse_checkpoint(both.split(b"\n\n")[0] + b"\n").size == 6


def test_a_retirement_statement_is_never_a_checkpoint() -> None:
    old, new = Signer.generate(ORIGIN), Signer.generate(ORIGIN)
    note = Retirement(ORIGIN, old.vkey, 7, new.vkey).sign(new)
    with pytest.raises(CheckpointError):
        new.verifier.open_checkpoint(note)
    statement, successor = Retirement.open(note)
    assert (statement.size, successor.vkey) == (7, new.vkey)
    with pytest.raises(CheckpointError, match="signed by the successor"):
        Retirement(ORIGIN, old.vkey, 7, new.vkey).sign(old)


def test_the_key_files_and_rows_after_a_rotation(d: Deployment) -> None:
    d.begin()
    assert key_path(d.key_dir, LOG).exists() and next_key_path(d.key_dir, LOG).exists()
    finished = d.finish()
    assert sorted(p.name for p in d.key_dir.iterdir()) == sorted(
        [f"{LOG}.key", retired_key_path(d.key_dir, LOG, finished.retired_key_id).name]
    )
    with Session(d.engine) as db:
        keys = keys_of(db, LOG)
    assert [(k.number, k.vkey, k.retired_size) for k in keys] == [
        (0, finished.retired, finished.size), (1, finished.current, None)
    ]
