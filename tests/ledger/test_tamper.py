"""Tampering by someone with database access: `verify` (library and CLI) finds it, writes stop."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import audit, canonical, merkle, store
from ledger.database import drop_append_only_ddl
from ledger.errors import LogTampered
from ledger.keys import Keyring
from ledger.note import Checkpoint, Signer
from ledger.writer import Writer

LOG = "lianyungang"
ORIGIN = "timebank.test/lianyungang"
BYSTANDER = "suzhou"  # a second, untouched log in the same database
BATCHES = [7, 9, 8, 10, 6]  # signed sizes 0, 7, 16, 24, 34, 40
SIZE = sum(BATCHES)
TIMEBANK = Path(sys.executable).with_name("timebank")


@dataclass
class Deployment:
    """A committed database with two logs, and the folders the CLI is pointed at."""

    engine: Engine
    instance: Path
    key_dir: Path
    signer: Signer
    now: datetime

    def writer(self) -> Writer:
        return Writer(Keyring(self.key_dir))


# --- factories ----------------------------------------------------------------------------------


def make_entry(n: int) -> dict[str, object]:
    return {"type": "deposit", "account": f"acct-{n:04d}", "minutes": 30 + n}


def deploy(engine: Engine, tmp_path: Path, now: datetime) -> Deployment:
    """Create and commit log LOG (40 entries in 5 batches) and log BYSTANDER (3 entries) the way
    a deployment does, through a Writer whose keyring leaves the key files in tmp_path/keys."""
    key_dir = tmp_path / "keys"
    writer = Writer(Keyring(key_dir))
    with Session(engine) as db:
        writer.create_log(db, log_id=LOG, origin=ORIGIN, at=now)
        writer.create_log(db, log_id=BYSTANDER, origin=f"timebank.test/{BYSTANDER}", at=now)
        db.commit()
        writer.append(db, BYSTANDER, [make_entry(n) for n in range(3)], at=now)
        db.commit()
        done = 0
        for batch_no, batch in enumerate(BATCHES):
            at = now + timedelta(minutes=batch_no)
            writer.append(db, LOG, [make_entry(n) for n in range(done, done + batch)], at=at)
            db.commit()
            done += batch
    signer = Keyring(key_dir).signer(LOG, ORIGIN)
    return Deployment(engine, tmp_path / "instance", key_dir, signer, now)


def drop_triggers(engine: Engine) -> None:
    """What an attacker with database access does first."""
    with engine.begin() as conn:
        for statement in drop_append_only_ddl(engine.dialect.name, with_function=False):
            conn.exec_driver_sql(statement)


def execute(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(sql), {"log": LOG, **params})


def leaf_data(engine: Engine, seq: int) -> bytes:
    with engine.connect() as conn:
        return bytes(
            conn.execute(
                sa.text("SELECT data FROM ledger_leaf WHERE log_id = :log AND seq = :seq"), {"log": LOG, "seq": seq}
            ).scalar_one()
        )


def checkpoint_note(engine: Engine, size: int) -> bytes:
    with engine.connect() as conn:
        return bytes(
            conn.execute(
                sa.text("SELECT note FROM ledger_checkpoint WHERE log_id = :log AND size = :size"),
                {"log": LOG, "size": size},
            ).scalar_one()
        )


def set_leaf(engine: Engine, seq: int, data: bytes) -> None:
    execute(engine, "UPDATE ledger_leaf SET data = :data WHERE log_id = :log AND seq = :seq", data=data, seq=seq)


def set_note(engine: Engine, size: int, note: bytes) -> None:
    execute(engine, "UPDATE ledger_checkpoint SET note = :note WHERE log_id = :log AND size = :size", note=note, size=size)


def set_hash(engine: Engine, coord: merkle.Coord, value: bytes) -> None:
    position = merkle.stored_hash_index(*coord)
    execute(engine, "UPDATE ledger_hash SET hash = :h WHERE log_id = :log AND position = :p", h=value, p=position)


def stored_hash(engine: Engine, coord: merkle.Coord) -> bytes:
    with Session(engine) as db:
        return bytes(store.hash_reader(db, LOG)([coord])[0])


def flip(data: bytes, at: int) -> bytes:
    """`data` with the byte at `at` replaced by another printable ASCII byte."""
    changed = b"1" if data[at : at + 1] != b"1" else b"2"
    return data[:at] + changed + data[at + 1 :]


# --- the tamperings -----------------------------------------------------------------------------


def change_a_byte_of_a_leaf(d: Deployment) -> None:
    data = leaf_data(d.engine, 13)
    set_leaf(d.engine, 13, flip(data, data.index(b"acct-") + 5))  # still canonical JSON


def break_the_json_of_a_leaf(d: Deployment) -> None:
    data = leaf_data(d.engine, 13)
    set_leaf(d.engine, 13, flip(data, data.index(b":")))


def change_a_leaf_and_recompute_every_stored_hash(d: Deployment) -> None:
    """A careful attacker: leaf 13 changed, and the tree of stored hashes rebuilt to match."""
    data = leaf_data(d.engine, 13)
    set_leaf(d.engine, 13, flip(data, data.index(b"acct-") + 5))
    with Session(d.engine) as db:
        all_leaves = store.read_leaves(db, LOG, 0, SIZE)
    frontier = merkle.Frontier()
    for data in all_leaves:
        for coord, h in frontier.push(merkle.leaf_hash(data)):
            set_hash(d.engine, coord, h)


def delete_a_middle_leaf(d: Deployment) -> None:
    execute(d.engine, "DELETE FROM ledger_leaf WHERE log_id = :log AND seq = 20")


def swap_two_leaves(d: Deployment) -> None:
    a, b = leaf_data(d.engine, 10), leaf_data(d.engine, 30)
    set_leaf(d.engine, 10, b)
    set_leaf(d.engine, 30, a)


def truncate_the_tail(d: Deployment) -> None:
    """Delete leaves 37..39 and the stored hashes that only they made; keep the checkpoints."""
    execute(d.engine, "DELETE FROM ledger_leaf WHERE log_id = :log AND seq >= 37")
    execute(d.engine, "DELETE FROM ledger_hash WHERE log_id = :log AND position >= :p", p=merkle.stored_hash_count(37))


def forge_a_leaf_at_the_end(d: Deployment) -> None:
    """Leaf 40 with the right seq and prev, its stored hashes recomputed, but no checkpoint."""
    with Session(d.engine) as db:
        read = store.hash_reader(db, LOG)
        frontier = merkle.Frontier.at(SIZE, read)
        prev = read([(0, SIZE - 1)])[0]
    leaf = {
        "type": "deposit", "account": "acct-mallory", "minutes": 6000,
        "v": 1, "seq": SIZE, "prev": base64.b64encode(prev).decode(), "at": "2026-11-25T10:00:00Z",
    }
    data = canonical.encode(leaf)
    with d.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ledger_leaf (log_id, seq, data) VALUES (:log, :seq, :data)"),
                     {"log": LOG, "seq": SIZE, "data": data})
        for coord, h in frontier.push(merkle.leaf_hash(data)):
            conn.execute(sa.text("INSERT INTO ledger_hash (log_id, position, hash) VALUES (:log, :p, :h)"),
                         {"log": LOG, "p": merkle.stored_hash_index(*coord), "h": h})


def checkpoint_signed_by_another_key(size: int) -> Callable[[Deployment], None]:
    def tamper(d: Deployment) -> None:
        with Session(d.engine) as db:
            root = store.get_checkpoint(db, LOG, size).root
        impostor = Signer.generate(ORIGIN)  # same origin, so the same key name
        set_note(d.engine, size, impostor.sign_checkpoint(Checkpoint(ORIGIN, size, root)))

    tamper.__name__ = f"replace_checkpoint_{size}_by_one_signed_by_another_key"
    return tamper


def checkpoint_with_a_changed_byte(size: int) -> Callable[[Deployment], None]:
    def tamper(d: Deployment) -> None:
        note = checkpoint_note(d.engine, size)
        root_line = note.index(b"\n", len(ORIGIN) + 1) + 1
        set_note(d.engine, size, flip(note, root_line + 3))

    tamper.__name__ = f"change_a_byte_of_checkpoint_{size}"
    return tamper


def change_an_interior_hash(coord: merkle.Coord) -> Callable[[Deployment], None]:
    def tamper(d: Deployment) -> None:
        set_hash(d.engine, coord, merkle.node_hash(stored_hash(d.engine, coord), b"mallory"))

    tamper.__name__ = f"change_the_stored_hash_of_subtree_{coord[0]}_{coord[1]}"
    return tamper


@dataclass(frozen=True)
class Tampering:
    tamper: Callable[[Deployment], None]
    index: int | None  # the first bad leaf verify must name
    checkpoint_size: int | None = None  # or the checkpoint it must name
    touches_head: bool = False  # whether the O(log n) head check, and so every append, sees it

    def __str__(self) -> str:
        return self.tamper.__name__


TAMPERINGS = [
    Tampering(change_a_byte_of_a_leaf, 13),
    Tampering(break_the_json_of_a_leaf, 13),
    Tampering(delete_a_middle_leaf, 20),
    Tampering(swap_two_leaves, 10),
    Tampering(truncate_the_tail, 37, touches_head=True),
    Tampering(forge_a_leaf_at_the_end, SIZE, touches_head=True),
    Tampering(checkpoint_signed_by_another_key(16), None, 16),
    Tampering(checkpoint_with_a_changed_byte(16), None, 16),
    Tampering(checkpoint_signed_by_another_key(SIZE), None, SIZE, touches_head=True),
    Tampering(checkpoint_with_a_changed_byte(SIZE), None, SIZE, touches_head=True),
    # [12, 16) is off the right edge; the walk names 15, the leaf whose append made that hash.
    Tampering(change_an_interior_hash((2, 3)), 15),
    # [32, 40) is on the right edge of the 40-leaf tree; the walk names 39, its last leaf.
    Tampering(change_an_interior_hash((3, 4)), 39, touches_head=True),
]


# --- helpers for verifying ----------------------------------------------------------------------


def verify(d: Deployment, log_id: str = LOG) -> audit.Report:
    with Session(d.engine) as db:
        verifier = Keyring(d.key_dir).signer(log_id, store.get_log(db, log_id).origin).verifier
        return audit.verify_log(db, log_id, verifier)


def run_verify_cli(d: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    """`timebank ledger verify` as an operator runs it, in a process of its own."""
    env = {
        **os.environ,
        "DATABASE_URL": d.engine.url.render_as_string(hide_password=False),
        "TIMEBANK_INSTANCE": str(d.instance),
        "TIMEBANK_KEY_DIR": str(d.key_dir),
    }
    env.pop("TIMEBANK_TEST_DATABASE_URL", None)
    return subprocess.run(
        [str(TIMEBANK), "ledger", "verify", *args], env=env, capture_output=True, text=True, timeout=120
    )


def leaf_count(d: Deployment) -> int:
    with Session(d.engine) as db:
        return audit.count_leaves(db, LOG)


@pytest.fixture
def deployment(fresh_engine: Engine, tmp_path: Path, now: datetime) -> Deployment:
    return deploy(fresh_engine, tmp_path, now)


# --- untampered ---------------------------------------------------------------------------------


def test_an_untampered_log_verifies(deployment: Deployment) -> None:
    report = verify(deployment)
    assert report.ok, report.problem
    assert (report.size, report.checkpoints) == (SIZE, len(BATCHES) + 1)
    assert verify(deployment, BYSTANDER).ok


def test_the_cli_passes_untampered_logs(deployment: Deployment) -> None:
    result = run_verify_cli(deployment)
    assert result.returncode == 0, result.stderr
    assert f"OK   log {LOG}: {SIZE} entries, {len(BATCHES) + 1} checkpoints verified" in result.stdout
    assert f"OK   log {BYSTANDER}: 3 entries, 2 checkpoints verified" in result.stdout


def test_dropping_the_triggers_alone_is_not_tampering(deployment: Deployment) -> None:
    drop_triggers(deployment.engine)
    assert verify(deployment).ok
    with Session(deployment.engine) as db:
        store.check_head(db, LOG, deployment.signer.verifier)


# --- each tampering is found --------------------------------------------------------------------


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=str)
def test_verify_names_the_first_bad_index_of_a_tampered_log(deployment: Deployment, tampering: Tampering) -> None:
    drop_triggers(deployment.engine)
    tampering.tamper(deployment)
    problem = verify(deployment).problem
    assert problem is not None
    assert (problem.log_id, problem.index, problem.checkpoint_size) == (
        LOG, tampering.index, tampering.checkpoint_size
    ), problem
    assert verify(deployment, BYSTANDER).ok


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=str)
def test_the_cli_fails_and_names_the_log_and_the_first_bad_index(
    deployment: Deployment, tampering: Tampering
) -> None:
    drop_triggers(deployment.engine)
    tampering.tamper(deployment)
    result = run_verify_cli(deployment)
    assert result.returncode == 1, (result.stdout, result.stderr)
    [fail] = [line for line in result.stderr.splitlines() if line.startswith("FAIL")]
    assert fail.startswith(f"FAIL log {LOG}: ")
    if tampering.index is not None:
        assert f"first bad index {tampering.index}:" in fail
    else:
        assert "first bad index" not in fail
        assert f"checkpoint of size {tampering.checkpoint_size}:" in fail
    assert f"OK   log {BYSTANDER}" in result.stdout


def test_the_cli_verifies_only_the_logs_it_is_given(deployment: Deployment) -> None:
    drop_triggers(deployment.engine)
    swap_two_leaves(deployment)
    result = run_verify_cli(deployment, BYSTANDER)
    assert result.returncode == 0, result.stderr
    assert LOG not in result.stdout + result.stderr.replace(f"verifying {BYSTANDER}", "")
    result = run_verify_cli(deployment, LOG)
    assert result.returncode == 1
    assert f"FAIL log {LOG}: first bad index 10:" in result.stderr


def test_verify_names_the_changed_leaf_when_the_stored_hashes_were_rebuilt_to_match(
    deployment: Deployment,
) -> None:
    # The attacker changes leaf 13 and rewrites every stored hash so the tree agrees with it. What
    # still gives it away is leaf 14's prev (and the signed root at 16); the leaf that is wrong is 13.
    drop_triggers(deployment.engine)
    change_a_leaf_and_recompute_every_stored_hash(deployment)
    problem = verify(deployment).problem
    assert problem is not None
    assert problem.index == 13, problem


# --- tampering at the head stops further writes -------------------------------------------------


HEAD_TAMPERINGS = [t for t in TAMPERINGS if t.touches_head]


@pytest.mark.parametrize("tampering", HEAD_TAMPERINGS, ids=str)
def test_the_head_check_refuses_a_log_tampered_at_its_head(deployment: Deployment, tampering: Tampering) -> None:
    drop_triggers(deployment.engine)
    tampering.tamper(deployment)
    with Session(deployment.engine) as db, pytest.raises(LogTampered) as caught:
        store.check_head(db, LOG, deployment.signer.verifier)
    assert caught.value.log_id == LOG
    if tampering.index in (37, SIZE):  # leaves missing or uncovered: the index is known
        assert caught.value.index == tampering.index


@pytest.mark.parametrize("tampering", HEAD_TAMPERINGS, ids=str)
def test_a_writer_refuses_to_append_to_a_log_tampered_at_its_head(
    deployment: Deployment, tampering: Tampering
) -> None:
    drop_triggers(deployment.engine)
    tampering.tamper(deployment)
    before = leaf_count(deployment)
    writer = deployment.writer()
    with Session(deployment.engine) as db:
        with pytest.raises(LogTampered):
            writer.append(db, LOG, [make_entry(99)], at=deployment.now)
        db.rollback()
        with pytest.raises(LogTampered, match="writes refused"):  # and it stays refused
            writer.append(db, LOG, [make_entry(99)], at=deployment.now)
        db.rollback()
        writer.append(db, BYSTANDER, [make_entry(99)], at=deployment.now)  # other logs go on
        db.commit()
    assert leaf_count(deployment) == before


# --- the CLI and its keys ----------------------------------------------------------------------


def test_the_cli_verifies_with_a_published_verifier_key_instead_of_the_key_file(deployment: Deployment) -> None:
    vkey = deployment.signer.vkey
    for path in deployment.key_dir.iterdir():
        path.unlink()  # an auditor has the database and the published keys, not the key files
    result = run_verify_cli(deployment, LOG, "--vkey", vkey)
    assert result.returncode == 0, result.stderr
    assert f"OK   log {LOG}: {SIZE} entries" in result.stdout
    drop_triggers(deployment.engine)
    swap_two_leaves(deployment)
    result = run_verify_cli(deployment, LOG, "--vkey", vkey)
    assert result.returncode == 1
    assert f"FAIL log {LOG}: first bad index 10:" in result.stderr


def test_the_cli_refuses_a_log_whose_key_it_does_not_have(deployment: Deployment) -> None:
    for path in deployment.key_dir.iterdir():
        path.unlink()
    result = run_verify_cli(deployment, LOG)
    assert result.returncode == 1
    assert f"FAIL log {LOG}: no trusted key" in result.stderr


def test_the_cli_refuses_a_log_that_verifies_under_another_key(deployment: Deployment) -> None:
    other = Signer.generate(ORIGIN)
    result = run_verify_cli(deployment, LOG, "--vkey", other.vkey)
    assert result.returncode == 1
    assert f"FAIL log {LOG}: " in result.stderr
