"""The start-up check: every log's stored tree against its signed checkpoints, before serving."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import audit, store
from ledger.errors import CheckpointError, KeyFileError, LogTampered
from ledger.keys import Keyring

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogStatus:
    """How one log fared at start: writable, or refused and why."""

    id: str
    size: int
    ok: bool
    problem: str | None = None


def check_logs(engine: Engine, keyring: Keyring, *, full: bool) -> list[LogStatus]:
    """Check each log with its own keys: the whole log (`full`) or its head in O(log n) reads.

    The keys are those of the key files (current, and incoming during a rotation) and the retired
    keys their retirement statements vouch for, each up to its retired size (`store.key_set`).
    A log whose key is missing or whose data does not verify is reported, never repaired.
    """
    statuses = []
    with Session(engine) as session:
        for info in store.list_logs(session):
            try:
                verifier = store.key_set(session, info.id, keyring.verifiers(info.id, info.origin))
                if full:
                    report = audit.verify_log(session, info.id, verifier)
                    problem = None if report.ok else str(report.problem)
                    size = report.size
                else:
                    size, problem = store.check_head(session, info.id, verifier).size, None
            except (KeyFileError, CheckpointError, LogTampered) as exc:
                size, problem = store.stored_size(session, info.id), str(exc)
            if problem:
                log.error("ledger log %s refuses writes: %s", info.id, problem)
            else:
                log.info("ledger log %s verified: %d entries", info.id, size)
            statuses.append(LogStatus(info.id, size, problem is None, problem))
    return statuses
