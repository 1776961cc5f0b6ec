"""The role × endpoint matrix: every path of the OpenAPI document is covered by a rule, and every
rule holds for every role (allowed roles get through, others get 401, 403 or 404, nobody a 5xx)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from apiworld import ROLES, Rule

FEATURES = sorted(p.stem for p in Path(__file__).parent.glob("access_*.py"))
RULES: list[Rule] = [rule for name in FEATURES for rule in importlib.import_module(name).RULES]
DENIED = {401, 403, 404}
OUTSIDE = ("/api/v1/ledger/", "/api/v1/docs")  # the ledger's own endpoints are public and tested apart


def test_every_endpoint_of_the_openapi_document_has_a_rule(api_world: Any) -> None:
    document = api_world.anonymous().get("/api/v1/openapi.json").json
    endpoints = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                 if method in ("get", "post", "put", "patch", "delete") and not path.startswith(OUTSIDE)}
    ruled = {(rule.method, rule.path) for rule in RULES}
    assert endpoints - ruled == set(), "endpoints without a rule in tests/api/access_*.py"
    assert ruled - endpoints == set(), "rules for endpoints the document does not have"
    assert len(ruled) == len(RULES), "two rules for one endpoint"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method} {r.path}")
def test_the_rule_holds_for_every_role(api_world: Any, rule: Rule) -> None:
    wrong = []
    for role in ROLES:
        response = rule.attempt(api_world, role)
        allowed = role in rule.allowed
        if response.status_code >= 500 or (allowed and response.status_code in DENIED) or (
                not allowed and response.status_code not in DENIED):
            wrong.append(f"{role}: {response.status_code} {(response.json or {}).get('message', '')}")
    assert not wrong, f"{rule.method} {rule.path} ({'allowed: ' + ', '.join(sorted(rule.allowed))})\n" + "\n".join(wrong)


def test_the_openapi_document_is_valid_and_covers_the_ledger(api_world: Any) -> None:
    from openapi_spec_validator import validate

    document = api_world.anonymous().get("/api/v1/openapi.json").json
    validate(document)
    assert "/api/v1/ledger/logs/{log_id}/proof/inclusion" in document["paths"]
    assert document["components"]["schemas"]["Error"]["properties"]["status"]["type"] == "integer"
