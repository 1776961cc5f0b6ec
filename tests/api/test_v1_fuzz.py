"""The whole OpenAPI document, fuzzed with schemathesis inside the suite on a fixed budget: no
request it generates gets a 5xx, and every response matches its documented schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from apiworld import NOW
from hypothesis import HealthCheck, given, settings

from timebank import users

EXAMPLES = 8  # per operation and caller: a fixed budget that keeps the suite fast and deterministic
# What the API promises: no 5xx, and every response (errors included) as documented. Not checked:
# that a schema-valid request is accepted (rules OpenAPI cannot state refuse some: `to` before
# `from`, an unknown id) or that a broken cookie beside a valid token is refused (either suffices).
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


@pytest.fixture(scope="module")
def admin_token(api_world: Any) -> str:
    """A bearer token of the administrator of 海州区, with the write scope."""
    with api_world.session() as session:
        token, _ = users.issue_token(session, user_id=api_world.ids["user:administrator"], name="fuzz",
                                     scopes=["read", "write"], expires_at=NOW + timedelta(days=1), at=NOW)
        session.commit()
    return token


def fuzz(app: Any, headers: dict[str, str]) -> list[str]:
    """Run every operation of the document on its budget; the failures found, one line each."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 (collect every operation's failure, then report them all)
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc).strip()[:1500]}")
    return failures


def test_no_generated_request_gets_a_5xx_or_an_undocumented_response(api_world: Any, admin_token: str) -> None:
    failures = fuzz(api_world.app, {"Authorization": f"Bearer {admin_token}"})
    assert not failures, "\n\n".join(failures)


def test_anonymous_requests_never_get_a_5xx_or_an_undocumented_response(api_world: Any) -> None:
    failures = fuzz(api_world.app, {})
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("body", [b'"\xdf"', b"\xdf\xff", b"{not json", b"[1, 2]"])
def test_a_body_that_is_not_json_or_not_utf8_is_a_400_naming_it(api_world: Any, body: bytes) -> None:
    """Found by the stateful fuzzing: a body that was not UTF-8 made webargs' error a list, and that a 500."""
    client = api_world.client_for("administrator")
    response = client.client.post("/api/v1/auth/tokens", data=body,
                                  headers={"Content-Type": "application/json", "X-CSRF-Token": client.csrf})
    assert response.status_code == 400, response.get_data()
    assert response.json["code"] == "bad_request" and response.json["errors"]


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=1899-12-31"])
def test_a_date_no_one_could_mean_is_a_400_naming_it(api_world: Any, query: str) -> None:
    """Found by the stateful fuzzing: year 1 in China time is before year 1 in UTC, an overflow and a 500."""
    response = api_world.client_for("volunteer").get(f"/api/v1/records?{query}")
    assert response.status_code == 400, response.get_data()
    assert query.split("=")[0] in response.json["errors"]


@pytest.mark.parametrize("how", ["body", "path", "query"])
def test_a_nul_character_anywhere_is_a_400_not_a_database_error(api_world: Any, how: str) -> None:
    """Found by the stateful fuzzing on PostgreSQL, which cannot hold NUL in text: a 500 before."""
    client = api_world.client_for("administrator")
    if how == "body":
        response = client.post("/api/v1/redemptions", json={"redeemer_id": api_world.ids["elder"],
                                                           "catalogue_code": "MEAL", "minutes": 30,
                                                           "region_id": "\u0000"})
    elif how == "path":
        response = client.get("/api/v1/elders/eld%00x")
    else:
        response = client.get("/api/v1/records?status=posted%00")
    assert response.status_code == 400, response.get_data()
    assert response.json["errors"]["field"] == how
