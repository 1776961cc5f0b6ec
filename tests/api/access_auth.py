"""Who may call the sign-in, session, token and user endpoints."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from apiworld import NOW, PASSWORD, ROLES, SIGNED_IN, ApiWorld, Rule

from timebank import users

_n = itertools.count()


def _token_body(_world: ApiWorld) -> tuple[str, Any]:
    return "/api/v1/auth/tokens", {"name": "x", "scopes": ["read"], "expires_at": (NOW + timedelta(days=2)).isoformat()}


def _own_token(world: ApiWorld) -> tuple[str, Any]:
    """A token of the administrator's, which only they (and nobody out of scope) may revoke."""
    with world.session() as s:
        _, row = users.issue_token(s, user_id=world.ids["user:administrator"], name="t", scopes=["read"],
                                   expires_at=NOW + timedelta(days=2), at=NOW)
        s.commit()
        return f"/api/v1/auth/tokens/{row.id}", None


def _new_user(world: ApiWorld) -> tuple[str, Any]:
    return "/api/v1/users", {"username": f"matrix.{next(_n)}", "password": PASSWORD, "role": "coordinator",
                             "subject_id": world.ids["coordinator"]}


def _other_user(world: ApiWorld) -> tuple[str, Any]:
    """A fresh coordinator user in 海州区, to disable."""
    with world.session() as s:
        user = users.create_user(s, username=f"victim.{next(_n)}", password=PASSWORD, role="coordinator",
                                 subject_id=world.ids["coordinator"], at=NOW)
        s.commit()
        return f"/api/v1/users/{user.id}/active", {"active": False}


RULES = [
    Rule("POST", "/api/v1/auth/sign-in", frozenset(ROLES),
         lambda w: ("/api/v1/auth/sign-in", {"username": w.usernames["auditor"], "password": PASSWORD}),
         fresh_session=True),
    Rule("POST", "/api/v1/auth/sign-out", frozenset(ROLES), fresh_session=True),
    Rule("GET", "/api/v1/auth/session", frozenset(ROLES)),
    Rule("POST", "/api/v1/auth/password", frozenset(),  # nobody with a wrong old password (401 for all)
         lambda w: ("/api/v1/auth/password", {"old": "not it at all", "new": "a brand new password"}),
         fresh_session=True),
    Rule("GET", "/api/v1/auth/tokens", SIGNED_IN),
    Rule("POST", "/api/v1/auth/tokens", SIGNED_IN, _token_body),
    Rule("DELETE", "/api/v1/auth/tokens/{token_id}", frozenset({"administrator"}), _own_token),
    Rule("POST", "/api/v1/users", frozenset({"administrator"}), _new_user),
    Rule("PUT", "/api/v1/users/{user_id}/active", frozenset({"administrator"}), _other_user),
]
