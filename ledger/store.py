"""Logs kept in SQL: create, append with a signed checkpoint, read leaves, checkpoints and proofs.

Functions take the SQLAlchemy session first and never commit: the caller's state change and its
ledger append share one transaction.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from . import canonical, merkle
from .database import checkpoints, hashes, leaves, logs
from .errors import (
    AppendConflict,
    CheckpointError,
    EntryError,
    LogTampered,
    NoSuchCheckpoint,
    UnknownLog,
)
from .merkle import Coord, HashReader
from .log_keys import current_vkey, key_set
from .note import Checkpoint, CheckpointVerifier, Signer, b64, check_origin

LEAF_VERSION = 1
RESERVED_KEYS = frozenset({"v", "seq", "prev", "at"})
MAX_IDS = 64


@dataclass(frozen=True)
class LogInfo:
    """A log's public description."""

    id: str
    origin: str
    vkey: str
    created_at: datetime


@dataclass(frozen=True)
class StoredCheckpoint:
    """An archived signed checkpoint."""

    size: int
    root: bytes
    note: bytes
    signed_at: datetime


@dataclass(frozen=True)
class Receipt:
    """Proof of an append: the leaf's log, index and hash, and the signed size that covers it."""

    log: str
    index: int
    leaf_hash: bytes
    checkpoint_size: int

    def as_json(self) -> dict[str, Any]:
        """The receipt as the API serves it."""
        return {
            "log": self.log,
            "index": self.index,
            "leaf_hash": b64(self.leaf_hash),
            "checkpoint_size": self.checkpoint_size,
        }


def format_time(at: datetime) -> str:
    """RFC 3339 UTC with Z, whole seconds. Naive datetimes are refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise EntryError("times must be timezone-aware")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_log_id(log_id: str) -> str:
    """Log ids are short slugs: lowercase letters, digits and '-', starting with a letter."""
    if not (0 < len(log_id) <= MAX_IDS and log_id[0].isalpha() and log_id.isascii()):
        raise EntryError(f"log id {log_id!r} must start with a letter and be at most {MAX_IDS} ASCII characters")
    if not all(c.islower() or c.isdigit() or c == "-" for c in log_id):
        raise EntryError(f"log id {log_id!r} may hold only lowercase letters, digits and '-'")
    return log_id


def create_log(session: Session, *, log_id: str, origin: str, signer: Signer, at: datetime) -> LogInfo:
    """Register a log and sign its empty checkpoint (size 0).

    Raises EntryError for a bad id, CheckpointError for a bad origin or a key of another name,
    AppendConflict when the id or origin is taken.
    """
    check_log_id(log_id)
    check_origin(origin)
    if signer.name != origin:
        raise CheckpointError(f"the key is named {signer.name!r}, not {origin!r}")
    info = LogInfo(log_id, origin, signer.vkey, at)
    empty = Checkpoint(origin, 0, merkle.EMPTY_ROOT)
    try:
        with session.begin_nested():
            session.execute(sa.insert(logs).values(id=log_id, origin=origin, vkey=info.vkey, created_at=at))
            _insert_checkpoint(session, log_id, empty, signer.sign_checkpoint(empty), at)
    except IntegrityError as exc:
        raise AppendConflict(f"a log with id {log_id!r} or origin {origin!r} already exists") from exc
    return info


# A log's row with its current key in place of the key it was created with (see log_keys).
_LOG = sa.select(logs.c.id, logs.c.origin, current_vkey(), logs.c.created_at)


def get_log(session: Session, log_id: str) -> LogInfo:
    """The log `log_id`; UnknownLog if there is none."""
    row = session.execute(_LOG.where(logs.c.id == log_id)).one_or_none()
    if row is None:
        raise UnknownLog(log_id)
    return LogInfo(row.id, row.origin, row.vkey, row.created_at)


def list_logs(session: Session) -> list[LogInfo]:
    """Every log, by id."""
    rows = session.execute(_LOG.order_by(logs.c.id)).all()
    return [LogInfo(r.id, r.origin, r.vkey, r.created_at) for r in rows]


def latest_checkpoint(session: Session, log_id: str) -> StoredCheckpoint:
    """The newest signed checkpoint; UnknownLog, or LogTampered if the log has none."""
    row = session.execute(
        sa.select(checkpoints)
        .where(checkpoints.c.log_id == log_id)
        .order_by(checkpoints.c.size.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        get_log(session, log_id)
        raise LogTampered(log_id, 0, "the log has no signed checkpoint, not even the empty one")
    return StoredCheckpoint(row.size, row.root, row.note, row.signed_at)


def get_checkpoint(session: Session, log_id: str, size: int) -> StoredCheckpoint:
    """The checkpoint signed for exactly `size`; NoSuchCheckpoint (or UnknownLog) otherwise."""
    row = session.execute(
        sa.select(checkpoints).where(checkpoints.c.log_id == log_id, checkpoints.c.size == size)
    ).one_or_none()
    if row is None:
        get_log(session, log_id)
        raise NoSuchCheckpoint(log_id, size)
    return StoredCheckpoint(row.size, row.root, row.note, row.signed_at)


def list_checkpoints(
    session: Session, log_id: str, *, before: int | None = None, limit: int = 100
) -> list[StoredCheckpoint]:
    """Archived checkpoints, newest first, of sizes below `before` when given."""
    get_log(session, log_id)
    query = sa.select(checkpoints).where(checkpoints.c.log_id == log_id)
    if before is not None:
        query = query.where(checkpoints.c.size < before)
    rows = session.execute(query.order_by(checkpoints.c.size.desc()).limit(limit)).all()
    return [StoredCheckpoint(r.size, r.root, r.note, r.signed_at) for r in rows]


def read_leaves(session: Session, log_id: str, start: int, end: int) -> list[bytes]:
    """The exact stored bytes of leaves [start, end); LogTampered if any is missing."""
    rows = session.execute(
        sa.select(leaves.c.seq, leaves.c.data)
        .where(leaves.c.log_id == log_id, leaves.c.seq >= start, leaves.c.seq < end)
        .order_by(leaves.c.seq)
    ).all()
    for expected, row in enumerate(rows, start):
        if row.seq != expected:
            raise LogTampered(log_id, expected, "leaf is missing")
    if len(rows) != end - start:
        raise LogTampered(log_id, start + len(rows), "leaf is missing")
    return [bytes(r.data) for r in rows]


def hash_reader(session: Session, log_id: str) -> HashReader:
    """A HashReader over the log's stored subtree hashes: one query per call."""

    def read(coords: Sequence[Coord]) -> list[bytes]:
        positions = [merkle.stored_hash_index(level, index) for level, index in coords]
        rows = session.execute(
            sa.select(hashes.c.position, hashes.c.hash).where(
                hashes.c.log_id == log_id, hashes.c.position.in_(positions)
            )
        ).all()
        found = {r.position: bytes(r.hash) for r in rows}
        for (level, index), position in zip(coords, positions):
            if position not in found:
                raise LogTampered(log_id, index << level, f"stored hash of subtree {(level, index)} is missing")
        return [found[p] for p in positions]

    return read


def stored_size(session: Session, log_id: str) -> int:
    """How many leaves are stored (one more than the highest seq)."""
    top = session.execute(sa.select(sa.func.max(leaves.c.seq)).where(leaves.c.log_id == log_id)).scalar()
    return 0 if top is None else int(top) + 1


def check_head(session: Session, log_id: str, verifier: CheckpointVerifier) -> StoredCheckpoint:
    """Compare the stored tree with the latest checkpoint in O(log n) reads; return that checkpoint.

    Raises LogTampered when the stored leaves run past or short of it, its signature fails,
    or the stored hashes give another root.
    """
    return _verified_head(session, log_id, verifier)[0]


def _verified_head(
    session: Session, log_id: str, verifier: CheckpointVerifier
) -> tuple[StoredCheckpoint, merkle.Frontier, bytes]:
    """`check_head`, also returning what an append goes on from: the tree's right edge and the
    last leaf's hash (the empty root for an empty log), read together in one query."""
    head = latest_checkpoint(session, log_id)
    try:
        signed = verifier.open_checkpoint(head.note)
    except CheckpointError as exc:
        raise LogTampered(log_id, None, f"latest checkpoint (size {head.size}) does not verify: {exc}") from exc
    if signed.size != head.size or signed.root != head.root:
        raise LogTampered(log_id, None, f"latest checkpoint row (size {head.size}) differs from its signed note")
    size = stored_size(session, log_id)
    if size > head.size:
        raise LogTampered(log_id, head.size, f"{size - head.size} stored leaves are not covered by a signed checkpoint")
    if size < head.size:
        raise LogTampered(log_id, size, f"leaves [{size}, {head.size}) signed in a checkpoint are missing")
    coords = merkle.subtrees(0, size)
    last = [(0, size - 1)] if size and coords[-1] != (0, size - 1) else []
    got = hash_reader(session, log_id)(coords + last) if size else []
    frontier = merkle.Frontier(size, [(level, h) for (level, _), h in zip(coords, got)])
    if not merkle.equal(frontier.root(), head.root):
        raise LogTampered(log_id, None, f"stored tree of size {size} does not match its signed root")
    return head, frontier, got[-1] if size else merkle.EMPTY_ROOT


def append(
    session: Session, log_id: str, entries: Sequence[Mapping[str, Any]], *, signer: Signer, at: datetime
) -> list[Receipt]:
    """Append `entries` as consecutive leaves and sign a checkpoint covering them, all or nothing.

    Each entry needs a string "type" and may not set "v", "seq", "prev" or "at", which the
    ledger adds. Raises EntryError or CanonicalError for a bad entry (nothing is written),
    UnknownLog, LogTampered when the stored log does not match its last checkpoint, and
    AppendConflict when another writer won a race (nothing is written; retry).
    """
    if not entries:
        raise EntryError("nothing to append")
    stamp = format_time(at)
    info = _lock(session, log_id)
    # The signer's keys (current and, during a rotation, incoming) and the keys they retired check
    # the head; the log's current key signs first (it may be the incoming one, should a rotation
    # have finished since the signer was loaded).
    keys = key_set(session, log_id, signer.verifiers)
    signer = signer.led_by(info.vkey)
    head, frontier, prev = _verified_head(session, log_id, keys)

    leaf_rows: list[dict[str, Any]] = []
    hash_rows: list[dict[str, Any]] = []
    receipts: list[Receipt] = []
    new_size = head.size + len(entries)
    position = merkle.stored_hash_count(head.size)  # pushes complete subtrees in stored-hashes order
    for offset, entry in enumerate(entries):
        seq = head.size + offset
        data = canonical.encode(_leaf(entry, seq=seq, prev=prev, stamp=stamp))
        prev = merkle.leaf_hash(data)
        leaf_rows.append({"log_id": log_id, "seq": seq, "data": data})
        for _coord, h in frontier.push(prev):
            hash_rows.append({"log_id": log_id, "position": position, "hash": h})
            position += 1
        receipts.append(Receipt(log_id, seq, prev, new_size))
    checkpoint = Checkpoint(info.origin, new_size, frontier.root())
    try:
        with session.begin_nested():
            session.execute(sa.insert(leaves), leaf_rows)
            session.execute(sa.insert(hashes), hash_rows)
            _insert_checkpoint(session, log_id, checkpoint, signer.sign_checkpoint(checkpoint), at)
    except (IntegrityError, OperationalError) as exc:
        raise AppendConflict(f"another writer appended to log {log_id!r} first; retry") from exc
    return receipts


def _leaf(entry: Mapping[str, Any], *, seq: int, prev: bytes, stamp: str) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise EntryError("an entry must be a JSON object")
    clash = RESERVED_KEYS & entry.keys()
    if clash:
        raise EntryError(f"entry may not set {sorted(clash)}: the ledger sets them")
    kind = entry.get("type")
    if not isinstance(kind, str) or not kind:
        raise EntryError('entry needs a non-empty string "type"')
    return {**entry, "v": LEAF_VERSION, "seq": seq, "prev": base64.b64encode(prev).decode(), "at": stamp}


def _lock(session: Session, log_id: str) -> LogInfo:
    """Serialize appends to one log. PostgreSQL: lock the log's row until commit. SQLite: every
    transaction already holds the database's write lock (see database.create_engine)."""
    query = _LOG.where(logs.c.id == log_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=logs)
    row = session.execute(query).one_or_none()
    if row is None:
        raise UnknownLog(log_id)
    return LogInfo(row.id, row.origin, row.vkey, row.created_at)


def lock_logs(session: Session, log_ids: Sequence[str]) -> None:
    """Take the append locks of several logs at once, in id order, before a transaction that
    writes to all of them (and to rows of its own), so two such transactions never deadlock.
    Raises UnknownLog."""
    for log_id in sorted(set(log_ids)):
        _lock(session, log_id)


def _insert_checkpoint(session: Session, log_id: str, checkpoint: Checkpoint, note: bytes, at: datetime) -> None:
    session.execute(
        sa.insert(checkpoints).values(
            log_id=log_id, size=checkpoint.size, root=checkpoint.root, note=note, signed_at=at
        )
    )


@dataclass(frozen=True)
class InclusionProof:
    """A leaf, its audit path and the signed checkpoint whose root it leads to."""

    index: int
    tree_size: int
    leaf: bytes
    leaf_hash: bytes
    root: bytes
    path: list[bytes]
    checkpoint: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    """Two signed checkpoints and the proof that the older tree is a prefix of the newer."""

    old: StoredCheckpoint
    new: StoredCheckpoint
    path: list[bytes]


def prove_inclusion(session: Session, log_id: str, index: int, tree_size: int | None = None) -> InclusionProof:
    """The inclusion proof of leaf `index` in the signed tree of `tree_size` (default: latest).

    Raises UnknownLog, NoSuchCheckpoint for an unsigned size, ProofError for a bad index.
    """
    cp = latest_checkpoint(session, log_id) if tree_size is None else get_checkpoint(session, log_id, tree_size)
    merkle.check_index(index, cp.size)
    read = hash_reader(session, log_id)
    leaf = read_leaves(session, log_id, index, index + 1)[0]
    path = merkle.inclusion_proof(index, cp.size, read)
    return InclusionProof(index, cp.size, leaf, merkle.leaf_hash(leaf), cp.root, path, cp.note)


def prove_consistency(
    session: Session, log_id: str, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """The consistency proof between two signed sizes (new default: latest).

    Raises UnknownLog, NoSuchCheckpoint for an unsigned size, ProofError if old > new.
    """
    new = latest_checkpoint(session, log_id) if new_size is None else get_checkpoint(session, log_id, new_size)
    merkle.check_sizes(old_size, new.size)
    old = get_checkpoint(session, log_id, old_size)
    path = merkle.consistency_proof(old.size, new.size, hash_reader(session, log_id))
    return ConsistencyProof(old, new, path)
