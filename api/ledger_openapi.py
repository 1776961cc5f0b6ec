"""The auditors' ledger endpoints (api/ledger_api.py, fixed by ledger-format.md §5) described in the
OpenAPI document too, so the document covers every path under /api/v1."""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import Flask

INT = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
B64 = {"type": "string", "format": "byte", "description": "standard base64, padded"}
TEXT = {"text/plain": {"schema": {"type": "string"}}}
LOG_ID = {"name": "log_id", "in": "path", "required": True,
          "schema": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,63}$"}, "description": "the log (a bank's) id"}
ERROR = {"description": "an error: {code, status, message, errors}", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}


def _query(name: str, schema: dict[str, Any], required: bool = False, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _get(summary: str, ok: dict[str, Any], *parameters: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"tags": ["ledger"], "summary": summary, "security": [], "parameters": list(parameters),
                    "responses": {"200": ok, "default": ERROR}}}


CHECKPOINT_NOTE = {"description": "a C2SP signed checkpoint, byte for byte", "content": TEXT}
PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/ledger/logs": _get("Every log: id, origin, verifier key and size", _json({"type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string"}, "origin": {"type": "string"},
                                         "vkey": {"type": "string"}, "size": INT}}}, "the logs")),
    "/api/v1/ledger/logs/{log_id}/vkey": _get("The log's verifier key (C2SP note form)", {
        "description": "the verifier key", "content": TEXT}, LOG_ID),
    "/api/v1/ledger/logs/{log_id}/checkpoint": _get("The latest signed checkpoint", CHECKPOINT_NOTE, LOG_ID),
    "/api/v1/ledger/logs/{log_id}/checkpoint/{size}": _get(
        "The archived checkpoint of exactly this size (404 if none was signed)", CHECKPOINT_NOTE, LOG_ID,
        {"name": "size", "in": "path", "required": True, "schema": INT}),
    "/api/v1/ledger/logs/{log_id}/checkpoints": _get(
        "Archived checkpoints, newest first", _json({"type": "array", "items": {"type": "object", "properties": {
            "size": INT, "at": {"type": "string", "format": "date-time"}}}}, "sizes and signing times"),
        LOG_ID, _query("before", INT, description="only sizes below this"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})),
    "/api/v1/ledger/logs/{log_id}/entries": _get(
        "The exact leaf bytes of [start, end), at most 1000", _json({"type": "object", "properties": {
            "start": INT, "leaves_b64": {"type": "array", "items": B64}}}, "leaves"),
        LOG_ID, _query("start", INT, required=True), _query("end", INT, required=True)),
    "/api/v1/ledger/logs/{log_id}/proof/inclusion": _get(
        "RFC 9162 inclusion proof of one leaf in a signed tree", _json({"type": "object", "properties": {
            "index": INT, "tree_size": INT, "leaf_hash": B64, "leaf_b64": B64, "root_hash": B64,
            "proof": {"type": "array", "items": B64}, "checkpoint": {"type": "string"}}}, "the proof"),
        LOG_ID, _query("index", INT, required=True),
        _query("tree_size", INT, description="a signed size; default the latest")),
    "/api/v1/ledger/logs/{log_id}/proof/consistency": _get(
        "RFC 9162 consistency proof between two signed trees", _json({"type": "object", "properties": {
            "old_size": INT, "old_root": B64, "new_size": INT, "new_root": B64,
            "proof": {"type": "array", "items": B64}, "old_checkpoint": {"type": "string"},
            "new_checkpoint": {"type": "string"}}}, "the proof"),
        LOG_ID, _query("old_size", INT, required=True),
        _query("new_size", INT, description="a signed size; default the latest")),
}


def document(spec: APISpec, app: Flask) -> None:
    """Add the ledger's paths to the API's OpenAPI document (each from its Flask rule)."""
    spec.tag({"name": "ledger", "description": "The public, tamper-evident ledger (no sign-in)"})
    rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule): rule for rule in app.url_map.iter_rules()}
    for path, operations in PATHS.items():
        spec.path(rule=rules[path], operations=operations)
