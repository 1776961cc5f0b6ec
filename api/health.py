"""/healthz: the database answers, and which ledger logs refuse writes (and why)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from ledger import store
from ledger.errors import LedgerError
from ledger.writer import Writer

from .db import get_session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    session = get_session()
    session.execute(text("SELECT 1"))
    writer: Writer = current_app.extensions["timebank.writer"]
    logs: dict[str, dict[str, Any]] = {}
    for log in store.list_logs(session):
        problem = writer.frozen.get(log.id)
        try:
            size: int | None = store.latest_checkpoint(session, log.id).size
        except LedgerError as exc:
            size, problem = None, problem or str(exc)
        logs[log.id] = {"ok": problem is None, "size": size, "problem": problem}
    healthy = all(entry["ok"] for entry in logs.values())
    body = {"status": "ok" if healthy else "ledger_tampered", "database": "ok", "logs": logs}
    return jsonify(body), 200 if healthy else 503
