"""Sign-in, sessions and CSRF, API tokens, users: /api/v1/auth and /api/v1/users."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from apiworld import NOW, PASSWORD, ApiClient


def test_signing_in_starts_a_session_with_a_csrf_token(api_world: Any) -> None:
    client = api_world.anonymous()
    response = client.post("/api/v1/auth/sign-in", json={"username": "volunteer.user", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["user"]["role"] == "volunteer" and response.json["csrf_token"]
    session = client.get("/api/v1/auth/session").json
    assert session["user"]["username"] == "volunteer.user"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_wrong_password_is_401_with_the_same_message_as_an_unknown_user(api_world: Any) -> None:
    client = api_world.anonymous()
    wrong = client.post("/api/v1/auth/sign-in", json={"username": "auditor.user", "password": "not the password"})
    unknown = client.post("/api/v1/auth/sign-in", json={"username": "nobody.here", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["message"] == unknown.json["message"] == "wrong username or password"


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(fresh_api_world: Any) -> None:
    client = fresh_api_world.anonymous()
    for _ in range(5):
        assert client.post("/api/v1/auth/sign-in", json={"username": "elder.user", "password": "wrong wrong"}
                           ).status_code == 401
    locked = client.post("/api/v1/auth/sign-in", json={"username": "elder.user", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "locked" in locked.json["message"]


def test_a_change_without_the_csrf_token_is_refused(api_world: Any) -> None:
    signed_in = api_world.as_user("volunteer")
    no_csrf = ApiClient(signed_in.client)
    response = no_csrf.post("/api/v1/auth/tokens", json={"name": "x", "scopes": ["read"],
                                                          "expires_at": (NOW + timedelta(days=1)).isoformat()})
    assert response.status_code == 403 and "CSRF" in response.json["message"]


def test_a_read_token_reads_and_cannot_write_and_a_revoked_token_is_401(fresh_api_world: Any) -> None:
    school = fresh_api_world.as_user("school")
    made = school.post("/api/v1/auth/tokens", json={"name": "教务系统", "scopes": ["read"],
                                                    "expires_at": (NOW + timedelta(days=30)).isoformat()})
    assert made.status_code == 201, made.json
    bearer = ApiClient(fresh_api_world.app.test_client(), token=made.json["token"])
    assert bearer.get("/api/v1/auth/session").json["user"]["role"] == "school"
    refused = bearer.post("/api/v1/auth/tokens", json={"name": "y", "scopes": ["read"],
                                                       "expires_at": (NOW + timedelta(days=1)).isoformat()})
    assert refused.status_code == 403 and "write scope" in refused.json["message"]
    assert school.delete(f"/api/v1/auth/tokens/{made.json['id']}").status_code == 204
    assert bearer.get("/api/v1/auth/session").status_code == 401


def test_an_administrator_adds_a_user_only_in_their_region(fresh_api_world: Any) -> None:
    admin = fresh_api_world.as_user("administrator")
    ids = fresh_api_world.ids
    made = admin.post("/api/v1/users", json={"username": "new.coord", "password": PASSWORD, "role": "coordinator",
                                             "subject_id": ids["coordinator"]})
    assert made.status_code == 201, made.json
    other = admin.post("/api/v1/users", json={"username": "sneaky", "password": PASSWORD, "role": "coordinator",
                                              "subject_id": ids["other_coordinator"]})
    assert other.status_code == 404
    assert fresh_api_world.anonymous().post("/api/v1/auth/sign-in", json={"username": "sneaky", "password": PASSWORD}
                                            ).status_code == 401


def test_a_disabled_user_is_signed_out_and_cannot_sign_in_again(fresh_api_world: Any) -> None:
    volunteer = fresh_api_world.as_user("volunteer")
    admin = fresh_api_world.as_user("administrator")
    user_id = fresh_api_world.ids["user:volunteer"]
    assert admin.put(f"/api/v1/users/{user_id}/active", json={"active": False}).status_code == 200
    assert volunteer.get("/api/v1/auth/session").json["user"] is None
    again = fresh_api_world.anonymous().post("/api/v1/auth/sign-in",
                                             json={"username": "volunteer.user", "password": PASSWORD})
    assert again.status_code == 401
    other = fresh_api_world.ids["user:other_volunteer"]  # 宿迁's: not the administrator's to change
    assert admin.put(f"/api/v1/users/{other}/active", json={"active": False}).status_code == 404


def test_behind_a_proxy_failed_sign_ins_count_against_the_forwarded_address(api_world: Any) -> None:
    import dataclasses

    import sqlalchemy as sa

    from api.app import create_app
    from timebank.users import SignInFailure

    app = create_app(dataclasses.replace(api_world.settings, proxy_hops=1))
    try:
        response = app.test_client().post("/api/v1/auth/sign-in", json={"username": "nobody.x", "password": "wrong one"},
                                          headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 401
        with api_world.session() as session:
            addresses = session.scalars(sa.select(SignInFailure.address).where(SignInFailure.username == "nobody.x"))
            assert list(addresses) == ["203.0.113.7"]
    finally:
        app.extensions["timebank.engine"].dispose()
