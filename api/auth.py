"""Who is calling: a browser session (signed cookie, with a CSRF token for every change) or a
bearer token (schools, integrations). Views ask `require(...)` for the roles they allow."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Flask, g, request, session

from timebank import people, regions, users
from timebank.errors import NotPermitted, Unauthenticated
from timebank.regions import Region

from .db import get_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
STAFF_ROLES = ("coordinator", "administrator")


@dataclass(frozen=True)
class Caller:
    """The signed-in user as views need them: role, what they act as, and their region scope."""

    user_id: str
    username: str
    role: str
    subject_id: str | None
    region: Region | None  # staff: the subtree they cover
    token_scopes: tuple[str, ...] | None  # None for a browser session

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def now() -> datetime:
    return datetime.now(timezone.utc)


def init_app(app: Flask, *, secure_cookies: bool = False) -> None:
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="timebank_session", SESSION_COOKIE_SECURE=secure_cookies)
    app.before_request(_identify)


def _caller_for(user: users.User, scopes: tuple[str, ...] | None) -> Caller:
    region = None
    if user.role in STAFF_ROLES and user.subject_id:
        staff = get_session().get(people.Staff, user.subject_id)
        region = regions.get_region(get_session(), staff.region_id) if staff is not None and staff.active else None
    return Caller(user.id, user.username, user.role, user.subject_id, region, scopes)


def _identify() -> None:
    """Resolve the caller once per request; refuse a change sent with a session but no CSRF token."""
    g.caller = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user, token = users.authenticate_token(get_session(), header[7:].strip(), now())
        g.caller = _caller_for(user, tuple(token.scopes))
        return
    user_id = session.get("user_id")
    if not user_id:
        return
    user = get_session().get(users.User, user_id)
    if user is None or not user.active or session.get("epoch") != _epoch(user):
        session.clear()
        return
    if request.method not in SAFE_METHODS and request.endpoint not in CSRF_EXEMPT:
        sent = request.headers.get(CSRF_HEADER) or (request.form.get("csrf_token") if request.form else None) or ""
        if not hmac.compare_digest(sent, session.get("csrf", "")):
            raise NotPermitted(f"missing or wrong CSRF token: send the {CSRF_HEADER} header given by "
                               "GET /api/v1/auth/session", field="csrf_token")
    g.caller = _caller_for(user, None)


# sign-in itself has no session to protect yet
CSRF_EXEMPT = frozenset({"auth.sign_in"})


def _epoch(user: users.User) -> str:
    """Changes when the password changes, so old sessions end."""
    return user.password_hash[-16:]


def start_session(user: users.User) -> str:
    """Sign the browser in; returns its CSRF token."""
    session.clear()
    session["user_id"], session["epoch"] = user.id, _epoch(user)
    session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def end_session() -> None:
    session.clear()


def csrf_token() -> str | None:
    return session.get("csrf")


def caller() -> Caller | None:
    return g.get("caller")


def require(*roles: str, write: bool = False) -> Caller:
    """The caller, if signed in with one of `roles` (any role when none are named). A token must
    carry the `write` scope for changes. Raises Unauthenticated, NotPermitted."""
    who = caller()
    if who is None:
        raise Unauthenticated("sign in first (POST /api/v1/auth/sign-in) or send an API token")
    if roles and who.role not in roles:
        raise NotPermitted(f"this needs one of the roles {', '.join(roles)}; you are signed in as {who.role}")
    changing = write or request.method not in SAFE_METHODS
    if who.token_scopes is not None and changing and "write" not in who.token_scopes:
        raise NotPermitted("this API token may only read; ask for a token with the write scope")
    if who.is_staff and who.region is None:
        raise NotPermitted("your staff record is inactive")
    return who
