"""One JSON shape for every API error, and the one table from domain errors to HTTP statuses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, HTTPException

from ledger.errors import (
    AppendConflict,
    CanonicalError,
    CheckpointError,
    EntryError,
    KeyFileError,
    LedgerError,
    LogTampered,
    NoSuchCheckpoint,
    ProofError,
    UnknownLog,
)
from timebank.errors import (
    Conflict,
    DomainError,
    InsufficientCredit,
    InvalidInput,
    NotFound,
    NotPermitted,
    Refused,
    TooManyAttempts,
    Unauthenticated,
)

log = logging.getLogger(__name__)

# Domain error → (status, code). Integrity failures are never the user's fault: 500, logged.
STATUS: list[tuple[type[Exception], int, str]] = [
    (UnknownLog, 404, "not_found"),
    (NoSuchCheckpoint, 400, "no_such_checkpoint"),
    (ProofError, 400, "bad_request"),
    (EntryError, 400, "bad_request"),
    (CanonicalError, 400, "bad_request"),
    (AppendConflict, 409, "conflict"),
    (LogTampered, 500, "ledger_integrity"),
    (CheckpointError, 500, "ledger_integrity"),
    (KeyFileError, 500, "ledger_key"),
    (LedgerError, 500, "ledger_error"),
    (NotFound, 404, "not_found"),
    (Unauthenticated, 401, "unauthenticated"),
    (TooManyAttempts, 429, "too_many_attempts"),
    (InvalidInput, 400, "bad_request"),
    (NotPermitted, 403, "forbidden"),
    (Conflict, 409, "conflict"),
    (InsufficientCredit, 422, "insufficient_credit"),
    (Refused, 422, "refused"),
    (DomainError, 422, "refused"),
]


def error_response(status: int, code: str, message: str, errors: Any = None) -> tuple[Response, int]:
    """The JSON error: {"code", "status", "message", "errors"}."""
    return jsonify({"code": code, "status": status, "message": message, "errors": errors or {}}), status


def _as_page(exc: Exception) -> Any:
    """The HTML error page for `exc` when the request came from a web page (api.web registers how),
    else None (the API's JSON)."""
    hook = current_app.extensions.get("timebank.html_errors")
    if hook is None or not hook[0]():
        return None
    return next(handler(exc) for kind, handler in hook[1].items() if isinstance(exc, kind))


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> tuple[Response, int]:
        if (page := _as_page(BadRequest())) is not None:
            return page
        return error_response(400, "bad_request", _summary(exc.messages), exc.messages)

    @app.errorhandler(LedgerError)
    def _ledger(exc: LedgerError) -> tuple[Response, int]:
        if (page := _as_page(exc)) is not None:
            return page
        status, code = next((status, code) for kind, status, code in STATUS if isinstance(exc, kind))
        if status >= 500:
            log.error("%s %s: %s", request.method, request.path, exc)
        return error_response(status, code, str(exc))

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> tuple[Response, int]:
        if (page := _as_page(exc)) is not None:
            return page
        status, code = next((status, code) for kind, status, code in STATUS if isinstance(exc, kind))
        details = {k: v for k, v in exc.details.items() if isinstance(v, str | int | bool)}
        response = error_response(status, code, exc.message, {**details, **exc.details.get("errors", {})})
        if "retry_after" in exc.details:
            response[0].headers["Retry-After"] = str(exc.details["retry_after"])
        if status == 401:
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="timebank"'
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        if (page := _as_page(exc)) is not None:
            return page
        status = exc.code or 500
        messages = (getattr(exc, "data", None) or {}).get("messages")  # webargs: {"json": {field: [...]}}
        if messages:
            # per location ("json", "query"): {field: [...]}, or a list when the body itself is bad
            # (not JSON, not UTF-8: webargs says "Invalid JSON body.")
            flat = {field: msgs for where, found in messages.items()
                    for field, msgs in (found.items() if isinstance(found, dict) else [(f"_{where}", found)])}
            return error_response(400 if status == 422 else status, "bad_request", _summary(flat), flat)
        return error_response(status, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        if (page := _as_page(exc)) is not None:
            return page
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal_error", "internal error; it has been logged")


def _summary(messages: Any) -> str:
    """One line naming each bad field and what is wrong with it."""
    if not isinstance(messages, dict):
        return str(messages)
    return "; ".join(
        f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}" for field, msgs in messages.items()
    )
