"""Sign-in, sessions, API tokens and users."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from timebank import people, regions, users
from timebank.errors import NotFound, NotPermitted

from .. import auth
from ..db import get_session
from ..transact import writes
from .common import Id, Strict, now

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in, sessions, API tokens and users")


class SignInBody(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class UserOut(Schema):
    id = fields.String()
    username = fields.String()
    role = fields.String()
    subject_id = fields.String(allow_none=True)


class SessionOut(Schema):
    user = fields.Nested(UserOut, allow_none=True)
    csrf_token = fields.String(allow_none=True, metadata={"description": "send as X-CSRF-Token with every change"})


class PasswordBody(Strict):
    old = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    new = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class TokenBody(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.String(validate=validate.OneOf(users.TOKEN_SCOPES)), required=True,
                         validate=validate.Length(min=1, max=2))
    expires_at = fields.AwareDateTime(required=True, format="iso", default_timezone=None)
    user_id = Id(load_default=None, metadata={"description": "an administrator may issue for a user in scope"})


class TokenOut(Schema):
    id = fields.String()
    user_id = fields.String()
    name = fields.String()
    scopes = fields.List(fields.String())
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class NewTokenOut(TokenOut):
    token = fields.String(metadata={"description": "shown once; keep it secret"})


class UserBody(Strict):
    username = fields.String(required=True, validate=validate.Length(min=3, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    role = fields.String(required=True, validate=validate.OneOf(users.ROLES))
    subject_id = Id(load_default=None)


def _user_json(user: users.User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "username": user.username, "role": user.role,
                                      "subject_id": user.subject_id}


@blp.route("/auth/sign-in", methods=["POST"])
@blp.doc(security=[])
@writes
@blp.arguments(SignInBody)
@blp.response(200, SessionOut)
def sign_in(body: dict[str, Any]) -> dict[str, Any]:
    """Sign in with a username and password; starts a browser session.

    Five wrong passwords in a row lock the account for 15 minutes (429)."""
    user = users.sign_in(get_session(), username=body["username"], password=body["password"],
                         address=request.remote_addr or "unknown", at=now())
    return {"user": _user_json(user), "csrf_token": auth.start_session(user)}


@blp.route("/auth/sign-out", methods=["POST"])
@blp.doc(security=[])
@blp.response(204)
def sign_out() -> None:
    """End the browser session."""
    auth.end_session()


@blp.route("/auth/session", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, SessionOut)
def current_session() -> dict[str, Any]:
    """Who is signed in, and the CSRF token to send with changes."""
    who = auth.caller()
    user = get_session().get(users.User, who.user_id) if who else None
    return {"user": _user_json(user), "csrf_token": auth.csrf_token() if who and who.token_scopes is None else None}


@blp.route("/auth/password", methods=["POST"])
@writes
@blp.arguments(PasswordBody)
@blp.response(204)
def change_password(body: dict[str, Any]) -> None:
    """Change your password; other sessions end."""
    who = auth.require()
    user = users.change_password(get_session(), user_id=who.user_id, old=body["old"], new=body["new"], at=now())
    if who.token_scopes is None:
        auth.start_session(user)


def _token_owner(who: auth.Caller, user_id: str | None) -> str:
    """Yourself, or (an administrator) a user acting as something in your subtree."""
    if user_id is None or user_id == who.user_id:
        return who.user_id
    if who.role != "administrator":
        raise NotPermitted("only an administrator issues tokens for other users", field="user_id")
    target = get_session().get(users.User, user_id)
    if target is None or not _in_scope(who, target):
        raise NotFound(f"no user {user_id!r}", field="user_id")
    return target.id


def _in_scope(who: auth.Caller, target: users.User) -> bool:
    """Whether an administrator's subtree covers what the user acts as (auditors: any administrator)."""
    session = get_session()
    if target.role == "auditor":
        return True
    subject = target.subject_id
    region_id = None
    for model in (people.Volunteer, people.Elder, people.Staff, regions.Organisation):
        row = session.get(model, subject) if subject else None
        if row is not None:
            region_id = row.region_id
    if target.role == "proxy" and subject:
        relative = session.get(people.Relative, subject)
        elder = session.get(people.Elder, relative.elder_id) if relative else None
        region_id = elder.region_id if elder else None
    return region_id is not None and regions.covers(who.region, regions.get_region(session, region_id))  # type: ignore[arg-type]


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenOut(many=True))
    def get(self) -> list[users.ApiToken]:
        """Your API tokens (never their secret)."""
        who = auth.require()
        return users.tokens_of(get_session(), who.user_id)

    @writes
    @blp.arguments(TokenBody)
    @blp.response(201, NewTokenOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Issue a bearer token (for a school or an integration): scoped, expiring within a year."""
        who = auth.require()
        owner = _token_owner(who, body.get("user_id"))
        token, row = users.issue_token(get_session(), user_id=owner, name=body["name"], scopes=body["scopes"],
                                       expires_at=body["expires_at"], at=now())
        return {**{name: getattr(row, name) for name in TokenOut().fields}, "token": token}


@blp.route("/auth/tokens/<token_id>", methods=["DELETE"])
@writes
@blp.response(204)
def revoke_token(token_id: str) -> None:
    """Revoke one of your tokens (an administrator: one of a user in scope)."""
    who = auth.require()
    session = get_session()
    row = session.get(users.ApiToken, token_id)
    owner = session.get(users.User, row.user_id) if row else None
    if row is None or owner is None or (owner.id != who.user_id and not (who.role == "administrator"
                                                                         and _in_scope(who, owner))):
        raise NotFound(f"no API token {token_id!r}", field="token_id")
    users.revoke_token(session, token_id=token_id, at=now())


class ActiveBody(Strict):
    active = fields.Boolean(required=True)


@blp.route("/users/<user_id>/active", methods=["PUT"])
@writes
@blp.arguments(ActiveBody)
@blp.response(200, UserOut)
def set_active(body: dict[str, Any], user_id: str) -> users.User:
    """Enable or disable a user in your subtree (disabling revokes their tokens and ends their sessions)."""
    who = auth.require("administrator")
    session = get_session()
    target = session.get(users.User, user_id)
    if target is None or not _in_scope(who, target) or target.id == who.user_id:
        raise NotFound(f"no user {user_id!r} you may change", field="user_id")
    return users.set_active(session, user_id=target.id, active=body["active"], at=now())


@blp.route("/users", methods=["POST"])
@writes
@blp.arguments(UserBody)
@blp.response(201, UserOut)
def create_user(body: dict[str, Any]) -> users.User:
    """Add a user (an administrator, for people, staff and schools in their subtree, or an auditor)."""
    who = auth.require("administrator")
    user = users.create_user(get_session(), username=body["username"], password=body["password"], role=body["role"],
                             subject_id=body.get("subject_id"), created_by=who.user_id, at=now())
    if not _in_scope(who, user):
        raise NotFound(f"no {body['role']} {body.get('subject_id')!r} in your region", field="subject_id")
    return user
