"""What every page view needs: who is signed in (or a trip to the sign-in page), one transaction
per change, a form key so a repeated submission moves no credit twice, and the CSRF check for
forms sent before signing in."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from flask import abort, current_app, request, session
from sqlalchemy.orm import Session

from ledger.writer import Writer
from timebank.errors import DomainError
from timebank.sealing import Sealer

from .. import auth
from ..db import get_session

FORM_KEY = "form_key"


def writer() -> Writer:
    """The app's one ledger write path."""
    return current_app.extensions["timebank.writer"]  # type: ignore[no-any-return]


def sealer() -> Sealer:
    """The app's personal-data sealer."""
    return current_app.extensions["timebank.sealer"]  # type: ignore[no-any-return]


def signed_in(*roles: str) -> auth.Caller:
    """The caller with one of `roles`; Unauthenticated (→ the sign-in page) or NotPermitted (→ 403)."""
    return auth.require(*roles)


@contextmanager
def change() -> Iterator[Session]:
    """One transaction for a change: committed when the block ends, rolled back when it raises (a
    refusal that must keep its changes, such as a counted wrong attempt, is committed)."""
    session = get_session()
    try:
        yield session
    except DomainError as exc:
        session.commit() if exc.keep_changes else session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


def csrf_token() -> str:
    """The session's CSRF token, made for a visitor who has not signed in yet, too."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Refuse (400) a form without this session's token. Signed-in callers are checked already by
    api.auth; this covers forms sent before signing in (sign-in, sign-up, confirming by code)."""
    if request.method in auth.SAFE_METHODS:
        return
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="csrf")


def new_form_key() -> str:
    """A key for one showing of a form that moves credit; sent back hidden with the form."""
    return secrets.token_urlsafe(16)


def form_key(who: auth.Caller | None) -> str | None:
    """The idempotency key of this submission, the caller's own, or None when the form sent none."""
    sent = request.form.get(FORM_KEY, "").strip()
    if not sent or len(sent) > 64:
        return None
    return f"web:{who.user_id if who else 'anonymous'}:{sent}"
