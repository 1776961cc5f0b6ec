"""Full verification of a stored log, streamed in pages so memory stays flat at any size.

Checks every leaf's canonical form, `seq` and `prev` chain, every stored subtree hash, every
archived checkpoint's signature and root (so all checkpoints are consistent with one another
and with the leaves), and that the signed checkpoints cover exactly the stored leaves.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import canonical, merkle
from .database import checkpoints, hashes, leaves, logs
from .errors import CanonicalError, CheckpointError, UnknownLog
from .log_keys import current_vkey
from .note import CheckpointVerifier, unb64

PAGE = 1000
_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_BROKEN_CHAIN = "leaf's prev is not the previous leaf's hash: the chain is broken"


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: at a leaf index, at a checkpoint size, or in the log itself."""

    log_id: str
    reason: str
    index: int | None = None
    checkpoint_size: int | None = None

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"first bad index {self.index}")
        if self.checkpoint_size is not None:
            where.append(f"checkpoint of size {self.checkpoint_size}")
        return f"log {self.log_id}: {', '.join(where) + ': ' if where else ''}{self.reason}"


@dataclass(frozen=True)
class Report:
    """What a verification saw, and the first problem if any."""

    log_id: str
    size: int
    checkpoints: int
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Found(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def count_leaves(session: Session, log_id: str) -> int:
    """How many leaf rows the log has (for progress bars)."""
    return int(session.execute(sa.select(sa.func.count()).where(leaves.c.log_id == log_id)).scalar() or 0)


def verify_log(
    session: Session,
    log_id: str,
    verifier: CheckpointVerifier,
    *,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
    kept: Sequence[bytes] = (),
) -> Report:
    """Verify log `log_id` against the trusted `verifier` (a key, or the log's key set, see
    `store.key_set`); never raises for bad data, reports it.

    `kept` are signed checkpoints an auditor saved earlier: the stored log must still hold each
    one's size and root, which exposes a rollback that also deleted the later checkpoints.
    Raises UnknownLog when there is no such log, CheckpointError when a kept checkpoint is not
    this log's or does not verify under `verifier`.
    """
    row = session.execute(sa.select(logs.c.origin, current_vkey()).where(logs.c.id == log_id)).one_or_none()
    if row is None:
        raise UnknownLog(log_id)
    witnessed = {cp.size: cp.root for cp in (verifier.open_checkpoint(note) for note in kept)}
    state = _Walk(session, log_id, verifier, page, witnessed)
    try:
        if row.origin != verifier.name:
            state.fail(f"origin {row.origin!r} is not the trusted key's name {verifier.name!r}")
        if not verifier.trusts(row.vkey):
            state.fail("the log's current verifier key stored in the database is not a trusted one")
        state.run(progress)
    except _Found as found:
        return Report(log_id, state.frontier.size, state.checked, found.problem)
    return Report(log_id, state.frontier.size, state.checked, None)


class _Walk:
    """One pass over leaves, stored hashes and checkpoints, all in increasing order."""

    def __init__(
        self, session: Session, log_id: str, verifier: CheckpointVerifier, page: int, witnessed: dict[int, bytes]
    ) -> None:
        self.session = session
        self.witnessed = witnessed
        self.log_id = log_id
        self.verifier = verifier
        self.page = page
        self.frontier = merkle.Frontier()
        self.checked = 0
        # A broken prev link at index i, with the tree as it would be had leaf i-1 hashed to what
        # leaf i's prev says; the next signed root tells which of the two leaves was altered.
        self.suspect: tuple[int, merkle.Frontier] | None = None

    def fail(self, reason: str, index: int | None = None, checkpoint_size: int | None = None) -> None:
        if self.suspect is not None:  # an earlier anomaly comes first
            index, checkpoint_size, reason = self.suspect[0], None, _BROKEN_CHAIN
        raise _Found(Problem(self.log_id, reason, index, checkpoint_size))

    def _break_in_chain(self, index: int, claimed: Any, before_previous: tuple[int, list[tuple[int, bytes]]]) -> None:
        """Leaf `index` does not name the previous leaf's hash: suspect it, or the previous leaf.
        `before_previous` is the tree's (size, edge) before the previous leaf was added."""
        if index == 0 or self.suspect is not None:
            self.fail(_BROKEN_CHAIN, index=index)
        try:
            claimed_hash = unb64(claimed, "prev") if isinstance(claimed, str) else b""
        except CheckpointError:
            claimed_hash = b""
        if len(claimed_hash) != merkle.HASH_SIZE:
            self.fail("leaf's prev is not a base64 SHA-256 hash", index=index)
        alternative = merkle.Frontier(before_previous[0], list(before_previous[1]))
        alternative.push(claimed_hash)
        self.suspect = (index, alternative)

    def _settle_suspect(self, size: int, root: bytes) -> None:
        """At a signed root covering a broken link: name the leaf that was altered."""
        assert self.suspect is not None
        index, alternative = self.suspect
        self.suspect = None
        if merkle.equal(root, alternative.root()):
            self.fail(
                f"leaf was altered: leaf {index}'s prev and the signed root at size {size} both "
                "record another hash for it",
                index=index - 1,
            )
        self.fail(_BROKEN_CHAIN, index=index)

    def run(self, progress: Callable[[int], None] | None) -> None:
        stored_hashes = self._rows(hashes, hashes.c.position, hashes.c.position, hashes.c.hash)
        signed = self._rows(checkpoints, checkpoints.c.size, checkpoints.c.size, checkpoints.c.root, checkpoints.c.note)
        next_cp = next(signed, None)
        if next_cp is None:
            self.fail("the log has no signed checkpoint", index=0)
        frontier, witnessed = self.frontier, self.witnessed
        prev = base64.b64encode(merkle.EMPTY_ROOT).decode()
        before_previous: tuple[int, list[tuple[int, bytes]]] = (0, [])
        next_cp = self._check_checkpoints(next_cp, signed)
        index = 0
        # The stored-hashes layout numbers subtree hashes in the order leaf by leaf pushes complete
        # them, so the expected position is a running count.
        position = 0
        for seq, data in self._rows(leaves, leaves.c.seq, leaves.c.seq, leaves.c.data):
            if seq != index:
                self.fail(f"leaf is missing (the next stored leaf is seq {seq})", index=index)
            if next_cp is None:
                self.fail("leaf is not covered by any signed checkpoint", index=index)
            leaf_hash, claimed = self._check_leaf(index, bytes(data))
            if claimed != prev:
                self._break_in_chain(index, claimed, before_previous)
            before_previous = (frontier.size, frontier.edge[:])
            prev = base64.b64encode(leaf_hash).decode()
            if self.suspect is not None:
                self.suspect[1].push(leaf_hash)
            for (level, node), h in frontier.push(leaf_hash):
                got = next(stored_hashes, None)
                if got is None or got[0] != position or bytes(got[1]) != h:
                    self._bad_hash(got, position, level, node, h, index)
                position += 1
            index += 1
            if witnessed or next_cp[0] <= index:
                next_cp = self._check_checkpoints(next_cp, signed)
            if progress and index % self.page == 0:
                progress(self.page)
        if progress:
            progress(index % self.page)
        if next_cp is not None:
            self.fail(
                f"the log ends at {index} leaves but a checkpoint signs {next_cp[0]}: leaves were removed",
                index=index,
            )
        beyond = [size for size in self.witnessed if size > index]
        if beyond:
            self.fail(
                f"a checkpoint you kept signs {max(beyond)} entries but the log holds {index}: "
                "entries were removed (a rollback)",
                index=index,
            )
        extra = next(stored_hashes, None)
        if extra is not None:
            self.fail(f"stored hash at position {extra[0]} belongs to no leaf", index=index)

    def _check_leaf(self, index: int, data: bytes) -> tuple[bytes, Any]:
        """Check a leaf's form; return its hash and the `prev` it claims."""
        try:
            leaf: Any = canonical.decode(data)
        except CanonicalError as exc:
            self.fail(f"leaf bytes are not canonical JSON: {exc}", index=index)
        if not isinstance(leaf, dict):
            self.fail("leaf is not a JSON object", index=index)
        seq, version, at, kind = leaf.get("seq"), leaf.get("v"), leaf.get("at"), leaf.get("type")
        if seq != index or isinstance(seq, bool):
            self.fail(f"leaf says seq {seq!r}", index=index)
        if not isinstance(version, int) or isinstance(version, bool):
            self.fail("leaf has no integer schema version v", index=index)
        if not isinstance(at, str) or not _AT.fullmatch(at):
            self.fail("leaf's at is not an RFC 3339 UTC time in whole seconds", index=index)
        if not isinstance(kind, str) or not kind:
            self.fail("leaf has no type", index=index)
        return merkle.leaf_hash(data), leaf.get("prev")

    def _bad_hash(
        self, got: tuple[Any, ...] | None, position: int, level: int, node: int, expected: bytes, index: int
    ) -> None:
        """Report the stored hash at `position` (the subtree `level`, `node`) missing, misplaced or wrong."""
        span = f"leaves [{node << level}, {(node + 1) << level})"
        if got is None or got[0] > position:
            self.fail(f"stored hash of {span} is missing", index=index)
        if got[0] < position:
            self.fail(f"stored hash at position {got[0]} belongs to no subtree", index=index)
        if not merkle.equal(bytes(got[1]), expected):
            self.fail(f"stored hash of {span} differs from the hash of the leaves", index=index)

    def _check_checkpoints(
        self, current: tuple[Any, ...] | None, rest: Iterator[tuple[Any, ...]]
    ) -> tuple[Any, ...] | None:
        """Check every checkpoint whose size the walk has reached; return the next one ahead."""
        kept_root = self.witnessed.get(self.frontier.size)
        if kept_root is not None and not merkle.equal(kept_root, self.frontier.root()):
            self.fail(
                "the stored leaves do not give the root of the checkpoint you kept: history was rewritten",
                checkpoint_size=self.frontier.size,
            )
        while current is not None and current[0] <= self.frontier.size:
            size, root, note = current[0], bytes(current[1]), bytes(current[2])
            try:
                cp = self.verifier.open_checkpoint(note)
            except CheckpointError as exc:
                self.fail(f"signature does not verify: {exc}", checkpoint_size=size)
            if cp.size != size or not merkle.equal(cp.root, root):
                self.fail("stored size or root differs from the signed note", checkpoint_size=size)
            if self.suspect is not None:
                self._settle_suspect(size, root)
            if not merkle.equal(root, self.frontier.root()):
                self.fail("signed root is not the root of the stored leaves", checkpoint_size=size)
            self.checked += 1
            current = next(rest, None)
        return current

    def _rows(self, table: sa.Table, key: sa.Column, *columns: sa.Column) -> Iterator[tuple[Any, ...]]:
        """Rows of `table` for this log in increasing `key`, fetched a page at a time."""
        after: int | None = None
        while True:
            query = sa.select(*columns).where(table.c.log_id == self.log_id)
            if after is not None:
                query = query.where(key > after)
            rows = self.session.execute(query.order_by(key).limit(self.page)).all()
            yield from rows
            if len(rows) < self.page:
                return
            after = rows[-1][0]
