"""A log's signing keys in SQL: which is current, which retired at what size, and the key set
that checks its checkpoints.

A retired key is trusted only through its retirement statement, a signed note by its successor:

    <origin>
    timebank key retirement v1
    retired <verifier key of the retired key>
    size <the last tree size it may sign>
    successor <verifier key of the key that took over>

so the trust in the log's keys starts from keys the caller trusts (its key files, or an auditor's
published keys) and never from a row alone: a row added or changed in the database can make a
checkpoint fail to verify, never make a forged one pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .database import log_keys, logs
from .errors import CheckpointError
from .note import KeySet, Signer, Verifier, split_note

RETIREMENT_HEADER = "timebank key retirement v1"
_RETIREMENT = re.compile(
    rf"([!-~]+)\n{re.escape(RETIREMENT_HEADER)}\nretired ([!-~]+)\nsize (0|[1-9][0-9]*)\nsuccessor ([!-~]+)\n"
)


@dataclass(frozen=True)
class Retirement:
    """`retired` signs no checkpoint beyond `size`; `successor` took over."""

    origin: str
    retired: str
    size: int
    successor: str

    def text(self) -> bytes:
        """The statement's note text."""
        return (
            f"{self.origin}\n{RETIREMENT_HEADER}\nretired {self.retired}\nsize {self.size}\n"
            f"successor {self.successor}\n"
        ).encode()

    def sign(self, successor: Signer) -> bytes:
        """The statement signed by the successor key (alone). CheckpointError if it is not that key."""
        if successor.alone().vkey != self.successor:
            raise CheckpointError("a retirement is signed by the successor key")
        return successor.alone().sign(self.text())

    @classmethod
    def open(cls, note: bytes) -> tuple[Retirement, Verifier]:
        """Parse a signed statement; return it and its successor's verifier, whose signature it
        must carry. Raises CheckpointError when it is malformed or that signature is missing."""
        text, _ = split_note(note)
        match = _RETIREMENT.fullmatch(text.decode("utf-8"))
        if match is None:
            raise CheckpointError("not a key retirement statement")
        statement = cls(match[1], match[2], int(match[3]), match[4])
        successor = Verifier.from_vkey(statement.successor)
        retired = Verifier.from_vkey(statement.retired)
        if not successor.name == retired.name == statement.origin:
            raise CheckpointError("a retirement names two keys of its log's origin")
        successor.open(note)
        return statement, successor


@dataclass(frozen=True)
class LogKey:
    """One key of a log as recorded by rotations."""

    number: int
    key_id: str
    vkey: str
    added_size: int
    retired_size: int | None
    retirement: bytes | None


def current_vkey() -> sa.ColumnElement[Any]:
    """A column for selects from ledger_log: the log's current key, the oldest one not retired,
    or the key it was created with if it never rotated."""
    oldest = (
        sa.select(log_keys.c.vkey)
        .where(log_keys.c.log_id == logs.c.id, log_keys.c.retired_size.is_(None))
        .order_by(log_keys.c.number)
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(oldest, logs.c.vkey).label("vkey")


def keys_of(session: Session, log_id: str) -> list[LogKey]:
    """The log's recorded keys, oldest first (none if it never rotated)."""
    rows = session.execute(
        sa.select(log_keys).where(log_keys.c.log_id == log_id).order_by(log_keys.c.number)
    ).all()
    return [
        LogKey(r.number, r.key_id, r.vkey, r.added_size, r.retired_size,
               None if r.retirement is None else bytes(r.retirement))
        for r in rows
    ]


def key_set(session: Session, log_id: str, anchors: Sequence[Verifier]) -> KeySet:
    """The keys that check log `log_id`'s checkpoints: `anchors` (trusted without bound), and each
    key whose retirement statement a trusted key signed as its successor, trusted up to the
    retired size (and no further than its successor). A statement also bounds an anchor it retires.

    Raises CheckpointError when `anchors` is empty or holds keys of several names.
    """
    if not anchors:
        raise CheckpointError(f"no trusted key for log {log_id!r}")
    verifiers = {v.vkey: v for v in anchors}
    bounds: dict[str, int | None] = dict.fromkeys(verifiers)
    statements = []
    for key in keys_of(session, log_id):
        if key.retirement is None:
            continue
        try:
            statement, _ = Retirement.open(key.retirement)  # signed by the successor it names
        except CheckpointError:
            continue  # an unreadable statement vouches for nothing
        statements.append(statement)
    changed = True
    while changed:  # a chain of rotations: each round trusts the keys the last one reached
        changed = False
        for statement in statements:
            if statement.successor not in bounds:
                continue
            bound = _lower(statement.size, bounds[statement.successor])
            if statement.retired not in bounds:
                verifiers[statement.retired] = Verifier.from_vkey(statement.retired)
                bounds[statement.retired], changed = bound, True
            elif _lower(bound, bounds[statement.retired]) != bounds[statement.retired]:
                bounds[statement.retired], changed = _lower(bound, bounds[statement.retired]), True
    return KeySet((verifiers[vkey], bound) for vkey, bound in bounds.items())


def _lower(a: int | None, b: int | None) -> int | None:
    """The smaller bound, None being no bound."""
    if a is None:
        return b
    return a if b is None else min(a, b)
