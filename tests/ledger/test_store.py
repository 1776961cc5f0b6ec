"""The SQL store: create, append with signed checkpoints, exact leaf bytes, refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import naive
import pytest
from factories import append_batches, make_entry, make_log, make_signer, raw_leaves, stored_rows
from sqlalchemy.orm import Session

from ledger import canonical, merkle, store
from ledger.errors import (
    AppendConflict,
    CanonicalError,
    CheckpointError,
    EntryError,
    NoSuchCheckpoint,
    UnknownLog,
)
from ledger.note import Checkpoint, Signer

EMPTY_B64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
AT_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


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


def test_appending_a_batch_gives_consecutive_seqs_and_receipts_at_the_new_size(session: Session, now: datetime) -> None:
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
        {"type": "reversal", "corrects": 0, "reason": 'entered twice "by mistake"\n'},
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
