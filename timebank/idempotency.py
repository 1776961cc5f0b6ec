"""Idempotency keys: an operation that moves credit, retried with the same key and the same request,
returns the first result instead of counting twice; the same key for another request is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .errors import Conflict, InvalidInput
from .model import Base

MAX_KEY = 200


class IdempotencyKey(Base):
    """A key already used: which operation, a digest of its request, and what it produced."""

    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(sa.String(MAX_KEY), primary_key=True)
    operation: Mapped[str] = mapped_column(sa.String(40))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    result_id: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[datetime]


def fingerprint(operation: str, params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps([operation, params], sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str) -> str:
    if not (0 < len(key) <= MAX_KEY and key.isascii() and key.isprintable()):
        raise InvalidInput(
            f"idempotency key must be 1 to {MAX_KEY} printable ASCII characters", field="idempotency_key"
        )
    return key


def replay(session: Session, key: str | None, operation: str, params: Mapping[str, Any]) -> str | None:
    """The result id of an earlier identical request with `key`, or None if the key is new.

    Raises Conflict when the key was used for a different operation or request.
    """
    if key is None:
        return None
    row = session.get(IdempotencyKey, check_key(key))
    if row is None:
        return None
    if row.operation != operation or row.fingerprint != fingerprint(operation, params):
        raise Conflict(
            f"idempotency key {key!r} was already used for a different request; use a new key", field="idempotency_key"
        )
    return row.result_id


def remember(
    session: Session, key: str | None, operation: str, params: Mapping[str, Any], result_id: str, at: datetime
) -> None:
    """Record that `key` produced `result_id`. A concurrent request that took the key first makes
    this raise Conflict (retry: the replay then returns its result)."""
    if key is None:
        return
    try:
        with session.begin_nested():
            session.add(IdempotencyKey(key=check_key(key), operation=operation,
                                       fingerprint=fingerprint(operation, params), result_id=result_id, at=at))
            session.flush()
    except IntegrityError as exc:
        message = f"idempotency key {key!r} is being used by another request; retry"
        raise Conflict(message, field="idempotency_key") from exc


class StoredResponse(Base):
    """What a request sent with an Idempotency-Key returned, to be returned again on a retry."""

    __tablename__ = "stored_response"

    key: Mapped[str] = mapped_column(sa.String(MAX_KEY), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime]


def stored_response(session: Session, *, key: str, user_id: str, fingerprint: str) -> StoredResponse | None:
    """The response stored for this caller's key, or None. Raises Conflict when the key was used for
    another request."""
    row = session.get(StoredResponse, (check_key(key), user_id))
    if row is not None and row.fingerprint != fingerprint:
        raise Conflict(f"Idempotency-Key {key!r} was already used for a different request; use a new key",
                       field="idempotency_key")
    return row


def store_response(session: Session, *, key: str, user_id: str, fingerprint: str, status: int, body: str,
                   at: datetime) -> None:
    """Keep a response for retries, in the request's own transaction. A concurrent request that
    stored the same key first makes this raise Conflict (retry to get its response)."""
    try:
        with session.begin_nested():
            session.add(StoredResponse(key=check_key(key), user_id=user_id, fingerprint=fingerprint, status=status,
                                       body=body, at=at))
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Idempotency-Key {key!r} is being used by another request; retry",
                       field="idempotency_key") from exc
