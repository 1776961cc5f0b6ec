"""Property tests on the SQL store: random append sequences, every proof checked against the naive
RFC 6962 reference (tests/ledger/naive.py), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import itertools
from datetime import datetime

import naive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ledger import merkle, store
from ledger.note import Signer

_log_ids = itertools.count()

batches = st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=7)


def _append_batches(session: Session, now: datetime, sizes: list[int]) -> tuple[str, list[bytes], list[int]]:
    log_id = f"prop-{next(_log_ids)}"
    signer = Signer.generate(f"timebank.test/{log_id}")
    store.create_log(session, log_id=log_id, origin=signer.name, signer=signer, at=now)
    signed = [0]
    for batch, size in enumerate(sizes):
        entries = [{"type": "deposit", "batch": batch, "n": n} for n in range(size)]
        receipts = store.append(session, log_id, entries, signer=signer, at=now)
        signed.append(receipts[-1].checkpoint_size)
    leaves = store.read_leaves(session, log_id, 0, signed[-1])
    return log_id, leaves, signed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=batches, data=st.data())
def test_random_append_sequences_give_the_naive_proofs_at_every_signed_size(
    session: Session, now: datetime, sizes: list[int], data: st.DataObject
) -> None:
    log_id, leaves, signed = _append_batches(session, now, sizes)
    assert signed == list(itertools.accumulate([0, *sizes]))
    for size in signed:
        checkpoint = store.get_checkpoint(session, log_id, size)
        assert checkpoint.root == naive.mth(leaves[:size])
    for new in signed[1:]:
        index = data.draw(st.integers(min_value=0, max_value=new - 1), label=f"index in {new}")
        proof = store.prove_inclusion(session, log_id, index, new)
        assert proof.path == naive.path(index, leaves[:new])
        merkle.verify_inclusion(index, new, naive.leaf_hash(leaves[index]), proof.path, naive.mth(leaves[:new]))
    for old, new in itertools.combinations(signed, 2):
        consistency = store.prove_consistency(session, log_id, old, new)
        expected = [] if old == 0 else naive.proof(old, leaves[:new])
        assert consistency.path == expected
        merkle.verify_consistency(old, new, naive.mth(leaves[:old]), naive.mth(leaves[:new]), consistency.path)
