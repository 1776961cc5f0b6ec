"""One transaction per changing request: commit when the view succeeds, roll back when it fails
(keeping what a refusal must keep), and honour the Idempotency-Key header."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, make_response, request

from timebank import idempotency
from timebank.errors import DomainError
from timebank.sealing import Sealer

from .auth import caller, now
from .db import get_session, writing

View = TypeVar("View", bound=Callable[..., Any])
KEY_HEADER = "Idempotency-Key"


def use_case_key() -> str | None:
    """The request's Idempotency-Key for a use case that moves credit, made the caller's own (so
    one caller's keys never collide with, or reveal, another's)."""
    key = request.headers.get(KEY_HEADER)
    who = caller()
    return None if key is None else f"{who.user_id if who else 'anonymous'}:{key}"[:200]


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    digest.update(request.get_data())
    return digest.hexdigest()


def commits(view: View) -> View:
    """A read that logs access to personal data: commit the log rows when the view succeeds."""

    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        session = writing()
        try:
            result = view(*args, **kwargs)
        except BaseException:
            session.rollback()
            raise
        session.commit()
        return result

    return run  # type: ignore[return-value]


def _sealer() -> Sealer:
    return current_app.extensions["timebank.sealer"]


def writes(view: View) -> View:
    """Run a changing view in one transaction. With an Idempotency-Key header, the first response
    is stored with the change and returned again, unchanged, for a retry of the same request."""

    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Response:
        session = get_session()
        key = request.headers.get(KEY_HEADER)
        who = caller()
        owner = who.user_id if who else "anonymous"
        if key is not None:
            stored = idempotency.stored_response(session, key=key, user_id=owner, fingerprint=_fingerprint())
            if stored is not None:
                body = _sealer().open(stored.body, where=f"stored_response.body:{owner}:{key}")
                replay = Response(body, status=stored.status, mimetype="application/json")
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
        try:
            response = make_response(view(*args, **kwargs))
        except DomainError as exc:
            session.commit() if exc.keep_changes else session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        if response.status_code >= 400:
            session.rollback()
            return response
        if key is not None:
            # the body may hold personal data (a sign-up echoes it): kept sealed, like every such value
            body = _sealer().seal(response.get_data(as_text=True), where=f"stored_response.body:{owner}:{key}")
            idempotency.store_response(session, key=key, user_id=owner, fingerprint=_fingerprint(),
                                       status=response.status_code, body=body or "", at=now())
        session.commit()
        return response

    return run  # type: ignore[return-value]
