"""Proofs from the SQL store: they verify, match the naive tree, and cost O(log n) reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import naive
import pytest
from factories import append_batches, counting_statements, make_entry, make_log, raw_leaves
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import merkle, store
from ledger.errors import (
    NoSuchCheckpoint,
)
from ledger.merkle import Coord
from ledger.note import Signer

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
