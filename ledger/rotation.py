"""Rotating a log's signing key: begin (an incoming key co-signs every checkpoint), then finish
(the incoming key becomes the current one; the old one is retired at the log's size).

Both take the log's append lock and run in the caller's transaction; the caller commits. Key files
change before the commit, in an order that a second run of the same step completes if the first
was interrupted anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import store
from .database import log_keys
from .errors import KeyFileError, LedgerError
from .keys import Keyring, create_key, key_path, load_key, move_key, next_key_path, retired_key_path
from .log_keys import LogKey, Retirement, keys_of
from .note import Signer


class RotationError(LedgerError):
    """A rotation step does not fit the log's state (one already in progress, or none to finish)."""


@dataclass(frozen=True)
class Begun:
    """A rotation in progress: `incoming` co-signs from the next checkpoint on."""

    log_id: str
    current: str
    incoming: str


@dataclass(frozen=True)
class Finished:
    """A finished rotation: `retired` signs nothing beyond `size`; `current` signs alone."""

    log_id: str
    retired: str
    retired_key_id: str
    size: int
    current: str
    retired_file: str


def _in_progress(keys: list[LogKey]) -> tuple[LogKey, LogKey] | None:
    active = [key for key in keys if key.retired_size is None]
    return (active[0], active[-1]) if len(active) > 1 else None


def begin(session: Session, keyring: Keyring, log_id: str, *, at: datetime) -> Begun:
    """Create the incoming key file `<log>.next.key` (or take the one an interrupted begin left)
    and record it. From then on `Keyring.signer` co-signs with it.

    Raises UnknownLog, RotationError when a rotation is already in progress, KeyFileError.
    """
    store.lock_logs(session, [log_id])
    info = store.get_log(session, log_id)
    keys = keys_of(session, log_id)
    if _in_progress(keys):
        raise RotationError(f"a key rotation of log {log_id!r} is in progress: finish it first (--finish)")
    current = load_key(key_path(keyring.key_dir, log_id), info.origin)
    if current.vkey != info.vkey:
        raise KeyFileError(f"key file {key_path(keyring.key_dir, log_id)} does not hold log {log_id!r}'s current key")
    path = next_key_path(keyring.key_dir, log_id)
    incoming = load_key(path, info.origin) if path.exists() else create_key(path, info.origin)
    if incoming.vkey == current.vkey:
        raise KeyFileError(f"key file {path} holds the current key; remove it and begin again")
    size = store.latest_checkpoint(session, log_id).size
    number = keys[-1].number + 1 if keys else 0
    rows = []
    if not keys:  # the key the log was created with, recorded at its first rotation
        rows.append(_row(log_id, number, current, info.created_at, 0))
        number += 1
    rows.append(_row(log_id, number, incoming, at, size))
    session.execute(sa.insert(log_keys), rows)
    return Begun(log_id, current.vkey, incoming.vkey)


def finish(session: Session, keyring: Keyring, log_id: str, *, at: datetime) -> Finished:
    """Retire the current key at the log's signed size, make the incoming key current, and move
    the key files: `<log>.key` to `<log>.retired-<key id>.key` (for the operator to destroy
    offline), `<log>.next.key` to `<log>.key`. The retirement statement is signed by the incoming key.

    Raises UnknownLog, RotationError when no rotation is in progress, KeyFileError when the key
    files are not where a rotation leaves them.
    """
    store.lock_logs(session, [log_id])
    info = store.get_log(session, log_id)
    pair = _in_progress(keys_of(session, log_id))
    if pair is None:
        raise RotationError(f"no key rotation of log {log_id!r} is in progress (begin one with --begin)")
    old, new = pair
    current_path, next_path = key_path(keyring.key_dir, log_id), next_key_path(keyring.key_dir, log_id)
    retired_path = retired_key_path(keyring.key_dir, log_id, old.key_id)
    incoming = load_key(next_path if next_path.exists() else current_path, info.origin)
    if incoming.vkey != new.vkey:
        raise KeyFileError(f"neither {next_path} nor {current_path} holds the incoming key {new.key_id}")
    size = store.latest_checkpoint(session, log_id).size
    statement = Retirement(info.origin, old.vkey, size, new.vkey).sign(incoming)
    session.execute(
        sa.update(log_keys)
        .where(log_keys.c.log_id == log_id, log_keys.c.number == old.number)
        .values(retired_at=at, retired_size=size, retirement=statement)
    )
    if next_path.exists():  # else an interrupted finish already moved the files
        if current_path.exists():
            _check_holds(current_path, info.origin, old)
            move_key(current_path, retired_path)
        move_key(next_path, current_path)
    return Finished(log_id, old.vkey, old.key_id, size, new.vkey, str(retired_path))


def _check_holds(path: Path, origin: str, key: LogKey) -> None:
    if load_key(path, origin).vkey != key.vkey:
        raise KeyFileError(f"key file {path} does not hold the key being retired ({key.key_id})")


def _row(log_id: str, number: int, signer: Signer, at: datetime, size: int) -> dict[str, object]:
    return {
        "log_id": log_id, "number": number, "key_id": signer.verifier.key_id.hex(), "vkey": signer.vkey,
        "added_at": at, "added_size": size,
    }
