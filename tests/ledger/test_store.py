"""The SQL store: create, append with signed checkpoints, exact leaf bytes, refusals, proofs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import naive
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import canonical, merkle, store
from ledger.database import checkpoints, hashes, leaves
from ledger.errors import (
    AppendConflict,
    CanonicalError,
    CheckpointError,
    EntryError,
    NoSuchCheckpoint,
    UnknownLog,
)
from ledger.merkle import Coord
from ledger.note import Checkpoint, Signer

EMPTY_B64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
AT_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


# --- factories ----------------------------------------------------------------------------------


def make_signer(log_id: str = "demo") -> Signer:
    """A fresh key for a test log named timebank.test/<log_id> (as conftest's; not imported, since
    `conftest` names more than one module once sub-suites have their own)."""
    return Signer.generate(f"timebank.test/{log_id}")


def make_log(session: Session, now: datetime, log_id: str = "demo") -> Signer:
    """Create log `log_id` (origin timebank.test/<log_id>) and return its signer."""
    signer = make_signer(log_id)
    store.create_log(session, log_id=log_id, origin=signer.name, signer=signer, at=now)
    return signer


def make_entry(n: int, **extra: Any) -> dict[str, Any]:
    """A plausible entry: a deposit of `n` minutes to an opaque account."""
    return {"type": "deposit", "account": f"acct-{n:04d}", "minutes": 30 + n, **extra}


def append_batches(
    session: Session, log_id: str, signer: Signer, sizes: Sequence[int], now: datetime
) -> list[store.Receipt]:
    """Append batches of the given sizes, one checkpoint each; return every receipt."""
    receipts: list[store.Receipt] = []
    for batch in sizes:
        start = len(receipts)
        entries = [make_entry(start + i) for i in range(batch)]
        receipts += store.append(session, log_id, entries, signer=signer, at=now)
    return receipts


def stored_rows(session: Session, log_id: str) -> tuple[int, int, int]:
    """How many leaf, hash and checkpoint rows the log has."""
    counts = []
    for table in (leaves, hashes, checkpoints):
        counts.append(session.execute(sa.select(sa.func.count()).where(table.c.log_id == log_id)).scalar_one())
    return counts[0], counts[1], counts[2]


def raw_leaves(session: Session, log_id: str) -> list[bytes]:
    """The leaf bytes straight from the table, in seq order."""
    rows = session.execute(
        sa.select(leaves.c.data).where(leaves.c.log_id == log_id).order_by(leaves.c.seq)
    ).scalars()
    return [bytes(data) for data in rows]


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect every SQL statement the engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# --- creating a log -----------------------------------------------------------------------------


def test_a_new_log_has_a_signed_empty_checkpoint(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    head = store.latest_checkpoint(session, "demo")
    assert head.size == 0
    assert head.root == hashlib.sha256(b"").digest()
    assert signer.verifier.open_checkpoint(head.note) == Checkpoint(signer.name, 0, hashlib.sha256(b"").digest())
    assert head.signed_at == now
    assert store.stored_size(session, "demo") == 0


def test_a_new_log_is_listed_with_its_origin_and_verifier_key(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    info = store.get_log(session, "demo")
    assert (info.id, info.origin, info.vkey, info.created_at) == ("demo", signer.name, signer.vkey, now)
    assert [log.id for log in store.list_logs(session)] == ["demo"]


def test_a_duplicate_log_id_is_refused(session: Session, now: datetime) -> None:
    make_log(session, now)
    other = Signer.generate("timebank.test/elsewhere")
    with pytest.raises(AppendConflict):
        store.create_log(session, log_id="demo", origin=other.name, signer=other, at=now)
    assert store.get_log(session, "demo").origin == "timebank.test/demo"
    assert len(store.list_checkpoints(session, "demo")) == 1


def test_a_duplicate_origin_is_refused(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    with pytest.raises(AppendConflict):
        store.create_log(session, log_id="copy", origin=signer.name, signer=make_signer("demo"), at=now)
    with pytest.raises(UnknownLog):
        store.get_log(session, "copy")
    assert [log.id for log in store.list_logs(session)] == ["demo"]


def test_a_key_named_for_another_origin_cannot_create_a_log(session: Session, now: datetime) -> None:
    with pytest.raises(CheckpointError):
        store.create_log(session, log_id="demo", origin="timebank.test/demo", signer=make_signer("other"), at=now)
    assert store.list_logs(session) == []


# --- appending ----------------------------------------------------------------------------------


def test_appending_one_entry_gives_seq_0_and_a_receipt_signed_at_size_1(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    [receipt] = store.append(session, "demo", [make_entry(0)], signer=signer, at=now)
    [data] = store.read_leaves(session, "demo", 0, 1)
    assert receipt == store.Receipt("demo", 0, merkle.leaf_hash(data), 1)
    assert receipt.leaf_hash == hashlib.sha256(b"\x00" + data).digest()
    assert store.latest_checkpoint(session, "demo").size == 1


def test_appending_a_batch_gives_consecutive_seqs_and_receipts_at_the_new_size(
    session: Session, now: datetime
) -> None:
    signer = make_log(session, now)
    store.append(session, "demo", [make_entry(0)], signer=signer, at=now)
    receipts = store.append(session, "demo", [make_entry(n) for n in range(1, 5)], signer=signer, at=now)
    data = store.read_leaves(session, "demo", 0, 5)
    assert [r.index for r in receipts] == [1, 2, 3, 4]
    assert {r.checkpoint_size for r in receipts} == {5}
    assert {r.log for r in receipts} == {"demo"}
    assert [r.leaf_hash for r in receipts] == [merkle.leaf_hash(d) for d in data[1:]]


def test_a_receipt_serves_as_json_with_base64_leaf_hash(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    [receipt] = store.append(session, "demo", [make_entry(0)], signer=signer, at=now)
    assert receipt.as_json() == {
        "log": "demo",
        "index": 0,
        "leaf_hash": base64.b64encode(receipt.leaf_hash).decode(),
        "checkpoint_size": 1,
    }


def test_every_leaf_carries_v_seq_prev_at_and_type(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [1, 3, 2], now)
    for seq, data in enumerate(store.read_leaves(session, "demo", 0, 6)):
        leaf = json.loads(data)
        assert leaf["v"] == store.LEAF_VERSION
        assert leaf["seq"] == seq
        assert leaf["type"] == "deposit"
        assert AT_FORMAT.fullmatch(leaf["at"])


def test_the_prev_chain_links_each_leaf_to_the_previous_leaf_hash(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [1, 3, 2], now)
    data = store.read_leaves(session, "demo", 0, 6)
    prevs = [json.loads(d)["prev"] for d in data]
    assert prevs[0] == EMPTY_B64 == base64.b64encode(hashlib.sha256(b"").digest()).decode()
    for seq in range(1, 6):
        assert prevs[seq] == base64.b64encode(merkle.leaf_hash(data[seq - 1])).decode()


def test_at_is_the_append_time_in_utc_with_whole_seconds(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 25, 17, 45, 59, 987654, tzinfo=beijing)
    store.append(session, "demo", [make_entry(0)], signer=signer, at=at)
    assert json.loads(store.read_leaves(session, "demo", 0, 1)[0])["at"] == "2026-11-25T09:45:59Z"


def test_the_entry_fields_are_kept_beside_the_ledger_fields(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    entry = {"type": "transfer", "from": "acct-1", "to": "acct-2", "minutes": 45, "note": None, "tags": ["助餐", True]}
    store.append(session, "demo", [entry], signer=signer, at=now)
    leaf = json.loads(store.read_leaves(session, "demo", 0, 1)[0])
    assert {k: leaf[k] for k in entry} == entry
    assert set(leaf) == set(entry) | {"v", "seq", "prev", "at"}


def test_the_stored_bytes_are_exactly_canonical_json_and_served_unchanged(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    entries = [
        {"type": "deposit", "service": "助餐", "minutes": 60, "zeta": 1, "alpha": {"b": [1, 2], "a": "x"}},
        {"type": "reversal", "corrects": 0, "reason": "entered twice \"by mistake\"\n"},
    ]
    receipts = store.append(session, "demo", entries, signer=signer, at=now)
    stored = raw_leaves(session, "demo")
    served = store.read_leaves(session, "demo", 0, 2)
    assert served == stored
    for data, receipt in zip(stored, receipts):
        value = json.loads(data.decode("utf-8"))
        assert data == json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        assert canonical.decode(data) == value
        assert merkle.leaf_hash(data) == receipt.leaf_hash
    assert "助餐".encode() in stored[0]  # UTF-8, not \u escapes


def test_reading_leaves_serves_any_range_of_the_stored_bytes(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [4, 3], now)
    stored = raw_leaves(session, "demo")
    assert store.read_leaves(session, "demo", 2, 5) == stored[2:5]
    assert store.read_leaves(session, "demo", 3, 3) == []


def test_the_stored_tree_root_equals_the_naive_rfc6962_root_at_every_signed_size(
    session: Session, now: datetime
) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [1, 2, 4, 1, 5], now)
    data = raw_leaves(session, "demo")
    for cp in store.list_checkpoints(session, "demo"):
        assert cp.root == naive.mth(data[: cp.size])
        assert merkle.tree_root(cp.size, store.hash_reader(session, "demo")) == cp.root
    assert stored_rows(session, "demo")[1] == merkle.stored_hash_count(13)


# --- checkpoints --------------------------------------------------------------------------------


def test_a_checkpoint_is_signed_after_each_append_and_all_are_archived(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    for batch, size in zip([1, 3, 2], [1, 4, 6]):
        append_batches(session, "demo", signer, [batch], now + timedelta(minutes=size))
        head = store.latest_checkpoint(session, "demo")
        assert head.size == size
        assert head.signed_at == now + timedelta(minutes=size)
        assert signer.verifier.open_checkpoint(head.note) == Checkpoint(signer.name, size, head.root)
    assert [cp.size for cp in store.list_checkpoints(session, "demo")] == [6, 4, 1, 0]
    for size in (0, 1, 4, 6):
        cp = store.get_checkpoint(session, "demo", size)
        assert signer.verifier.open_checkpoint(cp.note).size == size


def test_listing_checkpoints_takes_before_and_limit(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [1, 1, 1, 1, 1], now)
    assert [cp.size for cp in store.list_checkpoints(session, "demo")] == [5, 4, 3, 2, 1, 0]
    assert [cp.size for cp in store.list_checkpoints(session, "demo", limit=2)] == [5, 4]
    assert [cp.size for cp in store.list_checkpoints(session, "demo", before=4)] == [3, 2, 1, 0]
    assert [cp.size for cp in store.list_checkpoints(session, "demo", before=4, limit=2)] == [3, 2]
    assert store.list_checkpoints(session, "demo", before=0) == []


def test_an_unsigned_size_has_no_checkpoint(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [3], now)
    with pytest.raises(NoSuchCheckpoint):
        store.get_checkpoint(session, "demo", 2)


# --- refusals: nothing is written ---------------------------------------------------------------


BAD_ENTRIES: list[tuple[str, Mapping[str, Any], type[Exception]]] = [
    ("float", {"type": "deposit", "minutes": 1.5}, CanonicalError),
    ("nested float", {"type": "deposit", "detail": {"rate": [0.5]}}, CanonicalError),
    ("reserved v", {"type": "deposit", "v": 2}, EntryError),
    ("reserved seq", {"type": "deposit", "seq": 0}, EntryError),
    ("reserved prev", {"type": "deposit", "prev": EMPTY_B64}, EntryError),
    ("reserved at", {"type": "deposit", "at": "2026-11-25T09:30:00Z"}, EntryError),
    ("no type", {"minutes": 30}, EntryError),
    ("empty type", {"type": "", "minutes": 30}, EntryError),
    ("non-string type", {"type": 3}, EntryError),
    ("non-ASCII key", {"type": "deposit", "分钟": 30}, CanonicalError),
    ("huge integer", {"type": "deposit", "minutes": 2**53}, CanonicalError),
    ("datetime value", {"type": "deposit", "when": datetime(2026, 11, 25, 9, 30)}, CanonicalError),
    ("lone surrogate", {"type": "deposit", "note": "\ud800"}, CanonicalError),
]


@pytest.mark.parametrize(("entry", "error"), [(e, x) for _, e, x in BAD_ENTRIES], ids=[n for n, _, _ in BAD_ENTRIES])
def test_a_bad_entry_is_refused_and_nothing_is_written(
    session: Session, now: datetime, entry: Mapping[str, Any], error: type[Exception]
) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [2], now)
    before = stored_rows(session, "demo")
    with pytest.raises(error):
        store.append(session, "demo", [entry], signer=signer, at=now)
    assert stored_rows(session, "demo") == before
    assert store.latest_checkpoint(session, "demo").size == 2


@pytest.mark.parametrize(("entry", "error"), [(e, x) for _, e, x in BAD_ENTRIES], ids=[n for n, _, _ in BAD_ENTRIES])
def test_a_bad_entry_at_the_end_of_a_batch_refuses_the_whole_batch(
    session: Session, now: datetime, entry: Mapping[str, Any], error: type[Exception]
) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, [2], now)
    before = stored_rows(session, "demo")
    with pytest.raises(error):
        store.append(session, "demo", [make_entry(7), make_entry(8), entry], signer=signer, at=now)
    assert stored_rows(session, "demo") == before
    assert [cp.size for cp in store.list_checkpoints(session, "demo")] == [2, 0]
    # and the log still takes good entries at the next index
    [receipt] = store.append(session, "demo", [make_entry(9)], signer=signer, at=now)
    assert receipt.index == 2


def test_a_naive_datetime_is_refused_and_nothing_is_written(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    before = stored_rows(session, "demo")
    with pytest.raises(EntryError):
        store.append(session, "demo", [make_entry(0)], signer=signer, at=now.replace(tzinfo=None))
    assert stored_rows(session, "demo") == before


def test_an_empty_batch_is_refused(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    with pytest.raises(EntryError):
        store.append(session, "demo", [], signer=signer, at=now)
    assert stored_rows(session, "demo") == (0, 0, 1)


def test_an_entry_that_is_not_an_object_is_refused(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    with pytest.raises(EntryError):
        store.append(session, "demo", [["type", "deposit"]], signer=signer, at=now)  # type: ignore[list-item]
    assert stored_rows(session, "demo") == (0, 0, 1)


def test_appending_with_another_logs_key_is_refused(session: Session, now: datetime) -> None:
    make_log(session, now, "alpha")
    beta = make_log(session, now, "beta")
    with pytest.raises(CheckpointError):
        store.append(session, "alpha", [make_entry(0)], signer=beta, at=now)
    impostor = Signer.generate("timebank.test/alpha")  # right name, wrong key
    with pytest.raises(CheckpointError):
        store.append(session, "alpha", [make_entry(0)], signer=impostor, at=now)
    assert stored_rows(session, "alpha") == (0, 0, 1)


def test_an_unknown_log_is_refused_everywhere(session: Session, now: datetime) -> None:
    signer = make_signer("ghost")
    with pytest.raises(UnknownLog):
        store.append(session, "ghost", [make_entry(0)], signer=signer, at=now)
    with pytest.raises(UnknownLog):
        store.get_log(session, "ghost")
    with pytest.raises(UnknownLog):
        store.latest_checkpoint(session, "ghost")
    with pytest.raises(UnknownLog):
        store.get_checkpoint(session, "ghost", 0)
    with pytest.raises(UnknownLog):
        store.list_checkpoints(session, "ghost")
    with pytest.raises(UnknownLog):
        store.prove_inclusion(session, "ghost", 0)
    with pytest.raises(UnknownLog):
        store.prove_consistency(session, "ghost", 0)


@pytest.mark.parametrize("log_id", ["", "Demo", "1demo", "de mo", "demo_1", "dé", "x" * 65])
def test_a_bad_log_id_is_refused(session: Session, now: datetime, log_id: str) -> None:
    signer = make_signer("demo")
    with pytest.raises(EntryError):
        store.create_log(session, log_id=log_id, origin=signer.name, signer=signer, at=now)


@pytest.mark.parametrize("origin", ["https://timebank.test/demo", "timebank.test/de mo", "timebank.test/a+b", ""])
def test_a_bad_origin_is_refused(session: Session, now: datetime, origin: str) -> None:
    with pytest.raises(CheckpointError):
        store.create_log(session, log_id="demo", origin=origin, signer=make_signer("demo"), at=now)


# --- the append-only triggers -------------------------------------------------------------------


def committed_log(engine: Engine, now: datetime) -> None:
    """Commit a log `demo` with three leaves, so every ledger table has rows."""
    with Session(engine) as db:
        signer = make_log(db, now)
        append_batches(db, "demo", signer, [3], now)
        db.commit()


UPDATES = {
    "ledger_log": "UPDATE ledger_log SET origin = 'timebank.test/forged'",
    "ledger_leaf": "UPDATE ledger_leaf SET data = data WHERE seq = 1",
    "ledger_hash": "UPDATE ledger_hash SET position = position + 1000",
    "ledger_checkpoint": "UPDATE ledger_checkpoint SET root = root",
}


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_the_ledger_tables_refuse_update(fresh_engine: Engine, now: datetime, table: str) -> None:
    committed_log(fresh_engine, now)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with fresh_engine.begin() as conn:
            conn.exec_driver_sql(UPDATES[table])


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_the_ledger_tables_refuse_delete(fresh_engine: Engine, now: datetime, table: str) -> None:
    committed_log(fresh_engine, now)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with fresh_engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM {table}")
    with fresh_engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one() > 0


@pytest.mark.parametrize("table", sorted(UPDATES))
def test_the_ledger_tables_refuse_truncate_on_postgresql(fresh_engine: Engine, now: datetime, table: str) -> None:
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite has only DELETE)")
    committed_log(fresh_engine, now)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with fresh_engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")


def test_the_ledger_tables_still_take_inserts(fresh_engine: Engine, now: datetime) -> None:
    committed_log(fresh_engine, now)
    with Session(fresh_engine) as db:
        assert store.stored_size(db, "demo") == 3


# --- proofs -------------------------------------------------------------------------------------


SMALL_BATCHES = [1, 2, 1, 4, 3, 1, 5]  # signed sizes 0, 1, 3, 4, 8, 11, 12, 17


def test_inclusion_proofs_verify_for_every_index_at_every_signed_size(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, SMALL_BATCHES, now)
    data = raw_leaves(session, "demo")
    sizes = [cp.size for cp in store.list_checkpoints(session, "demo")]
    assert sorted(sizes) == [0, 1, 3, 4, 8, 11, 12, 17]
    for size in sizes:
        cp = store.get_checkpoint(session, "demo", size)
        for index in range(size):
            proof = store.prove_inclusion(session, "demo", index, size)
            assert (proof.index, proof.tree_size, proof.leaf, proof.checkpoint) == (index, size, data[index], cp.note)
            assert proof.leaf_hash == merkle.leaf_hash(data[index])
            assert proof.root == cp.root
            assert proof.path == naive.path(index, data[:size])
            merkle.verify_inclusion(index, size, proof.leaf_hash, proof.path, proof.root)


def test_an_inclusion_proof_defaults_to_the_latest_checkpoint(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, SMALL_BATCHES, now)
    proof = store.prove_inclusion(session, "demo", 5)
    assert proof.tree_size == 17
    merkle.verify_inclusion(5, 17, proof.leaf_hash, proof.path, proof.root)


def test_consistency_proofs_verify_for_every_pair_of_signed_sizes(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, SMALL_BATCHES, now)
    data = raw_leaves(session, "demo")
    sizes = sorted(cp.size for cp in store.list_checkpoints(session, "demo"))
    for new in sizes:
        for old in (s for s in sizes if s <= new):
            proof = store.prove_consistency(session, "demo", old, new)
            assert (proof.old.size, proof.new.size) == (old, new)
            assert proof.path == naive.proof(old, data[:new])
            merkle.verify_consistency(old, new, proof.old.root, proof.new.root, proof.path)
            signer.verifier.open_checkpoint(proof.old.note)
            signer.verifier.open_checkpoint(proof.new.note)


def test_a_consistency_proof_defaults_to_the_latest_checkpoint(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, SMALL_BATCHES, now)
    proof = store.prove_consistency(session, "demo", 3)
    assert proof.new.size == 17
    merkle.verify_consistency(3, 17, proof.old.root, proof.new.root, proof.path)


def test_proofs_at_an_unsigned_size_are_refused(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, SMALL_BATCHES, now)
    with pytest.raises(NoSuchCheckpoint):
        store.prove_inclusion(session, "demo", 0, 2)
    with pytest.raises(NoSuchCheckpoint):
        store.prove_inclusion(session, "demo", 0, 18)
    with pytest.raises(NoSuchCheckpoint):
        store.prove_consistency(session, "demo", 2, 17)
    with pytest.raises(NoSuchCheckpoint):
        store.prove_consistency(session, "demo", 3, 5)


def test_proofs_with_a_bad_index_or_sizes_are_refused(session: Session, now: datetime) -> None:
    signer = make_log(session, now)
    append_batches(session, "demo", signer, SMALL_BATCHES, now)
    with pytest.raises(merkle.ProofError):
        store.prove_inclusion(session, "demo", 17, 17)
    with pytest.raises(merkle.ProofError):
        store.prove_inclusion(session, "demo", 0, 0)
    with pytest.raises(merkle.ProofError):
        store.prove_consistency(session, "demo", 12, 8)


# --- proofs cost O(log n) reads -----------------------------------------------------------------


def big_log(session: Session, now: datetime) -> Signer:
    """A log of 1000 leaves appended in batches of 100 (signed sizes 0, 100, …, 1000)."""
    signer = make_log(session, now)
    for start in range(0, 1000, 100):
        entries = [make_entry(n) for n in range(start, start + 100)]
        store.append(session, "demo", entries, signer=signer, at=now)
    return signer


def recording_hash_reader(monkeypatch: pytest.MonkeyPatch) -> list[list[Coord]]:
    """Make store.hash_reader record the coordinates of every read; return the record."""
    calls: list[list[Coord]] = []
    real = store.hash_reader

    def wrapped(session: Session, log_id: str) -> merkle.HashReader:
        read = real(session, log_id)

        def recording(coords: Sequence[Coord]) -> Sequence[bytes]:
            calls.append(list(coords))
            return read(coords)

        return recording

    monkeypatch.setattr(store, "hash_reader", wrapped)
    return calls


@pytest.mark.parametrize(("index", "size"), [(0, 1000), (511, 1000), (999, 1000), (0, 100), (77, 100), (450, 500)])
def test_an_inclusion_proof_takes_a_few_statements_and_log_n_hash_reads(
    session: Session, engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch, index: int, size: int
) -> None:
    big_log(session, now)
    calls = recording_hash_reader(monkeypatch)
    with counting_statements(engine) as statements:
        proof = store.prove_inclusion(session, "demo", index, size)
    merkle.verify_inclusion(index, size, proof.leaf_hash, proof.path, proof.root)
    assert 1 <= len(statements) <= 3, statements  # the checkpoint, the leaf, the hashes
    assert len(calls) == 1
    assert len(calls[0]) <= 2 * size.bit_length()


@pytest.mark.parametrize(("old", "new"), [(100, 1000), (700, 1000), (300, 900), (0, 1000), (1000, 1000)])
def test_a_consistency_proof_takes_a_few_statements_and_log_n_hash_reads(
    session: Session, engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch, old: int, new: int
) -> None:
    big_log(session, now)
    calls = recording_hash_reader(monkeypatch)
    with counting_statements(engine) as statements:
        proof = store.prove_consistency(session, "demo", old, new)
    merkle.verify_consistency(old, new, proof.old.root, proof.new.root, proof.path)
    assert 1 <= len(statements) <= 3, statements  # two checkpoints, the hashes (none for an empty proof)
    assert len(calls) <= 1
    assert sum(len(c) for c in calls) <= 2 * new.bit_length()


def test_the_statements_of_an_inclusion_proof_do_not_grow_with_the_log(
    session: Session, engine: Engine, now: datetime
) -> None:
    big_log(session, now)
    counts = []
    for size in (100, 200, 400, 800, 1000):
        with counting_statements(engine) as statements:
            store.prove_inclusion(session, "demo", size // 3, size)
        counts.append(len(statements))
    assert len(set(counts)) == 1 and 1 <= counts[0] <= 5, counts


def test_appending_reads_only_log_n_stored_hashes(
    session: Session, engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = big_log(session, now)
    calls = recording_hash_reader(monkeypatch)
    with counting_statements(engine) as statements:
        store.append(session, "demo", [make_entry(1000)], signer=signer, at=now)
    assert sum(len(c) for c in calls) <= 3 * (1001).bit_length(), calls
    assert 1 <= len(statements) <= 12, statements
