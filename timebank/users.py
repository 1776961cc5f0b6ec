"""Users who sign in, their roles and scopes, API tokens, sign-in throttling, and the log of who
read or changed personal data.

A user has one role and, for most roles, the thing it acts as: a volunteer, an elder, a relative
acting as proxy, a staff member (whose region subtree is the scope), or a school (an organisation
whose students are the scope). Passwords are hashed with Argon2id (memory-hard); API tokens are
random, shown once, and stored only as a SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from .model import Base, new_id
from .people import Elder, Relative, Staff, Volunteer
from .regions import Organisation

ROLES = ("volunteer", "elder", "proxy", "coordinator", "administrator", "school", "auditor")
SUBJECTS: dict[str, type[Base] | None] = {
    "volunteer": Volunteer, "elder": Elder, "proxy": Relative, "coordinator": Staff, "administrator": Staff,
    "school": Organisation, "auditor": None,
}
TOKEN_SCOPES = ("read", "write")
LOCK_AFTER = 5  # failed sign-ins in a row lock the account…
LOCK_FOR = timedelta(minutes=15)  # …for this long
IP_WINDOW = timedelta(minutes=15)
IP_LIMIT = 30  # failed sign-ins from one address in the window
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # Argon2id, the library's (RFC 9106 low-memory) parameters
_DUMMY = _hasher.hash("timebank: a hash to spend time on when the user does not exist")


class User(Base):
    """Someone who signs in."""

    __tablename__ = "app_user"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(16))
    subject_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for a school or an integration: scoped, expiring, revocable."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(sa.JSON)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class SignInFailure(Base):
    """A failed sign-in, kept to throttle guessing from one address."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class AccessRecord(Base):
    """Who read or changed whose personal data, when, and which fields."""

    __tablename__ = "access_record"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    user_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    action: Mapped[str] = mapped_column(sa.String(8))
    subject_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    fields: Mapped[list[Any]] = mapped_column(sa.JSON)
    at: Mapped[datetime]


def _username(value: str) -> str:
    name = (value or "").strip().lower()
    if not (3 <= len(name) <= 64 and name.isascii() and all(c.isalnum() or c in "._-@" for c in name)):
        raise InvalidInput("username must be 3–64 letters, digits or . _ - @", field="username")
    return name


def check_password_strength(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 200:
        raise InvalidInput(f"password must be {MIN_PASSWORD} to 200 characters", field="password")
    if password.isdigit() or len(set(password)) < 4:
        raise InvalidInput("password is too easy to guess: use a few words or mixed characters", field="password")
    return password


def create_user(
    session: Session, *, username: str, password: str, role: str, at: datetime, subject_id: str | None = None,
    created_by: str | None = None,
) -> User:
    """Add a user acting as `subject_id` (a volunteer, elder, relative, staff member or school,
    as the role needs; none for an auditor).

    Raises InvalidInput (username, password, role, a subject of the wrong kind), NotFound
    (subject), Conflict (username taken).
    """
    name = _username(username)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    model = SUBJECTS[role]
    if model is None:
        subject_id = None
    else:
        subject = session.get(model, subject_id) if subject_id else None
        if subject is None:
            raise NotFound(f"a {role} user needs the id of an existing {model.__tablename__}", field="subject_id")
        if model is Staff and subject.role != role:  # type: ignore[attr-defined]
            raise InvalidInput(f"staff {subject_id} is a {subject.role}, not a {role}", field="role")  # type: ignore[attr-defined]
    check_password_strength(password)
    if session.scalar(sa.select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"username {name!r} is taken", field="username")
    user = User(id=new_id("usr"), username=name, password_hash=_hasher.hash(password), role=role,
                subject_id=subject_id, active=True, failed_attempts=0, created_by=created_by, created_at=at)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id!r}", field="user_id")
    return user


def sign_in(session: Session, *, username: str, password: str, address: str, at: datetime) -> User:
    """The user whose password this is. A wrong password counts against the account (locked for
    15 minutes after 5 in a row) and against the address (at most 30 in 15 minutes); those counts
    are changes the caller must keep even when this raises (`keep_changes`).

    Raises Unauthenticated (the same message whether the user exists or not), TooManyAttempts.
    """
    name = (username or "").strip().lower()[:64]
    recent = session.scalar(sa.select(sa.func.count()).select_from(SignInFailure).where(
        SignInFailure.address == address[:64], SignInFailure.at > at - IP_WINDOW)) or 0
    if recent >= IP_LIMIT:
        raise TooManyAttempts("too many failed sign-ins from this address; wait 15 minutes",
                              retry_after=int(IP_WINDOW.total_seconds()))
    user = session.scalar(sa.select(User).where(User.username == name))
    if user is not None and user.locked_until is not None and user.locked_until > at:
        wait = int((user.locked_until - at).total_seconds()) + 1
        raise TooManyAttempts(f"this account is locked after {LOCK_AFTER} wrong passwords; try again in "
                              f"{(wait + 59) // 60} minutes", retry_after=wait)
    # verify against a dummy hash for unknown users too, so timing does not tell who exists
    right = _verify(user.password_hash if user is not None else _DUMMY, password)
    if user is None or not user.active or not right:
        session.add(SignInFailure(address=address[:64], username=name, at=at))
        if user is not None:
            user.failed_attempts += 1
            if user.failed_attempts >= LOCK_AFTER:
                user.locked_until, user.failed_attempts = at + LOCK_FOR, 0
        session.flush()
        error = Unauthenticated("wrong username or password")
        error.keep_changes = True
        raise error
    user.failed_attempts, user.locked_until, user.last_sign_in_at = 0, None, at
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.flush()
    return user


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password or "")
    except (VerificationError, InvalidHashError):
        return False


def change_password(session: Session, *, user_id: str, old: str, new: str, at: datetime) -> User:
    """Raises Unauthenticated (old password wrong), InvalidInput (new password too weak)."""
    user = get_user(session, user_id)
    if not _verify(user.password_hash, old):
        raise Unauthenticated("the current password is wrong")
    user.password_hash = _hasher.hash(check_password_strength(new))
    session.flush()
    return user


def set_active(session: Session, *, user_id: str, active: bool, at: datetime) -> User:
    """Enable or disable a user; disabling revokes their API tokens. Raises NotFound."""
    user = get_user(session, user_id)
    user.active = active
    if not active:
        for token in session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                               ApiToken.revoked_at.is_(None))):
            token.revoked_at = at
    session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, *, user_id: str, name: str, scopes: list[str], expires_at: datetime, at: datetime
) -> tuple[str, ApiToken]:
    """A new bearer token (shown once: only its digest is kept). Raises InvalidInput, NotFound."""
    user = get_user(session, user_id)
    if not scopes or any(s not in TOKEN_SCOPES for s in scopes):
        raise InvalidInput(f"scopes must be some of {', '.join(TOKEN_SCOPES)}", field="scopes")
    if not (at < expires_at <= at + timedelta(days=366)):
        raise InvalidInput("expires_at must be in the future and within a year", field="expires_at")
    label = (name or "").strip()
    if not 0 < len(label) <= 100:
        raise InvalidInput("name must be 1 to 100 characters", field="name")
    token = "tb_" + secrets.token_urlsafe(32)
    row = ApiToken(id=new_id("tok"), user_id=user.id, name=label, digest=_digest(token), scopes=sorted(set(scopes)),
                   expires_at=expires_at, created_at=at)
    session.add(row)
    session.flush()
    return token, row


def authenticate_token(session: Session, token: str, at: datetime) -> tuple[User, ApiToken]:
    """The user and token a bearer token stands for. Raises Unauthenticated (unknown, revoked,
    expired, or the user disabled)."""
    row = session.scalar(sa.select(ApiToken).where(ApiToken.digest == _digest(token or "")))
    if row is None or not hmac.compare_digest(row.digest, _digest(token or "")):
        raise Unauthenticated("unknown API token")
    if row.revoked_at is not None:
        raise Unauthenticated("this API token was revoked")
    if row.expires_at <= at:
        raise Unauthenticated("this API token has expired; ask for a new one")
    user = get_user(session, row.user_id)
    if not user.active:
        raise Unauthenticated("this API token's user is disabled")
    return user, row


def revoke_token(session: Session, *, token_id: str, at: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id!r}", field="token_id")
    if row.revoked_at is None:
        row.revoked_at = at
        session.flush()
    return row


def tokens_of(session: Session, user_id: str) -> list[ApiToken]:
    return list(session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.created_at.desc())))


def record_access(session: Session, *, user_id: str, action: str, subject_id: str, fields: list[str],
                  at: datetime) -> None:
    """Log that `user_id` read or changed personal data of `subject_id`."""
    assert action in ("read", "change")
    session.add(AccessRecord(user_id=user_id, action=action, subject_id=subject_id, fields=sorted(fields), at=at))
    session.flush()


def access_log(session: Session, subject_id: str, limit: int = 100) -> list[AccessRecord]:
    return list(session.scalars(sa.select(AccessRecord).where(AccessRecord.subject_id == subject_id)
                                .order_by(AccessRecord.id.desc()).limit(limit)))

