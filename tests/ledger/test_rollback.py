"""A rollback that also deletes the later checkpoints leaves a log that verifies on its own; the
checkpoints an auditor kept expose it (`verify_log(kept=...)`, `ledger verify --checkpoint`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from test_tamper import (
    BATCHES,
    LOG,
    SIZE,
    Deployment,
    checkpoint_note,
    deploy,
    drop_triggers,
    execute,
    make_entry,
    run_verify_cli,
    verify,
)

from ledger import audit, merkle, store
from ledger.errors import CheckpointError
from ledger.note import Checkpoint, Signer

KEPT_SIZE = SIZE  # the auditor saved the latest checkpoint
ROLLED_BACK_TO = SIZE - BATCHES[-1]  # the attacker undoes the last batch, checkpoint and all


@pytest.fixture
def deployment(fresh_engine: Engine, tmp_path: Path, now: datetime) -> Deployment:
    return deploy(fresh_engine, tmp_path, now)


def roll_back(d: Deployment) -> None:
    """Delete the last batch with its stored hashes and its checkpoint, as if it never happened."""
    drop_triggers(d.engine)
    execute(d.engine, "DELETE FROM ledger_leaf WHERE log_id = :log AND seq >= :n", n=ROLLED_BACK_TO)
    execute(
        d.engine,
        "DELETE FROM ledger_hash WHERE log_id = :log AND position >= :p",
        p=merkle.stored_hash_count(ROLLED_BACK_TO),
    )
    execute(d.engine, "DELETE FROM ledger_checkpoint WHERE log_id = :log AND size > :n", n=ROLLED_BACK_TO)


def verify_keeping(d: Deployment, *notes: bytes) -> audit.Report:
    with Session(d.engine) as db:
        return audit.verify_log(db, LOG, d.signer.verifier, kept=notes)


def test_a_rollback_with_its_checkpoints_deleted_verifies_without_kept_checkpoints(deployment: Deployment) -> None:
    roll_back(deployment)
    assert verify(deployment).ok  # what a database copy alone cannot show


def test_a_kept_checkpoint_exposes_the_rollback_at_the_first_missing_index(deployment: Deployment) -> None:
    kept = checkpoint_note(deployment.engine, KEPT_SIZE)
    roll_back(deployment)
    problem = verify_keeping(deployment, kept).problem
    assert problem is not None
    assert problem.index == ROLLED_BACK_TO
    assert "rollback" in problem.reason


def test_a_kept_checkpoint_exposes_history_rewritten_and_re_signed_with_the_key(deployment: Deployment) -> None:
    # The operator's own key re-signs a rewritten log: only a checkpoint kept before shows it.
    kept = checkpoint_note(deployment.engine, KEPT_SIZE)
    roll_back(deployment)
    with Session(deployment.engine) as db:
        entries = [make_entry(1000 + n) for n in range(BATCHES[-1])]
        store.append(db, LOG, entries, signer=deployment.signer, at=deployment.now)
        db.commit()
    assert verify(deployment).ok
    problem = verify_keeping(deployment, kept).problem
    assert problem is not None and problem.checkpoint_size == KEPT_SIZE
    assert "history was rewritten" in problem.reason


def test_kept_checkpoints_of_an_intact_log_verify(deployment: Deployment) -> None:
    notes = [checkpoint_note(deployment.engine, size) for size in (BATCHES[0], KEPT_SIZE)]
    assert verify_keeping(deployment, *notes).ok


def test_a_kept_checkpoint_signed_by_another_key_is_refused(deployment: Deployment) -> None:
    stranger = Signer.generate(deployment.signer.name)
    with Session(deployment.engine) as db:
        root = store.latest_checkpoint(db, LOG).root
    forged = stranger.sign_checkpoint(Checkpoint(stranger.name, SIZE, root))
    with pytest.raises(CheckpointError):
        verify_keeping(deployment, forged)


def test_the_cli_names_the_rolled_back_index_from_a_kept_checkpoint_file(
    deployment: Deployment, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.checkpoint"
    kept.write_bytes(checkpoint_note(deployment.engine, KEPT_SIZE))
    roll_back(deployment)
    assert run_verify_cli(deployment, LOG).returncode == 0
    result = run_verify_cli(deployment, LOG, "--checkpoint", str(kept))
    assert result.returncode == 1
    assert f"log {LOG}" in result.stderr and f"first bad index {ROLLED_BACK_TO}" in result.stderr


def test_the_cli_refuses_a_kept_file_that_is_not_a_checkpoint(deployment: Deployment, tmp_path: Path) -> None:
    junk = tmp_path / "junk.checkpoint"
    junk.write_bytes(b"not a checkpoint\n")
    result = run_verify_cli(deployment, "--checkpoint", str(junk))
    assert result.returncode == 2 and "--checkpoint" in result.stderr and "Traceback" not in result.stderr
