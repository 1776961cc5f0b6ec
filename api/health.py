"""/healthz: the database answers, and which ledger logs refuse writes since the start-up check."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from ledger.writer import Writer

from .db import get_session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    get_session().execute(text("SELECT 1"))
    writer: Writer = current_app.extensions["timebank.writer"]
    logs = {
        status.id: {"ok": status.id not in writer.frozen, "size": status.size, "problem": writer.frozen.get(status.id)}
        for status in current_app.extensions["timebank.log_status"]
    }
    for log_id, problem in writer.frozen.items():
        logs.setdefault(log_id, {"ok": False, "size": None, "problem": problem})
    healthy = all(entry["ok"] for entry in logs.values())
    return jsonify({"status": "ok" if healthy else "ledger_tampered", "database": "ok", "logs": logs}), (
        200 if healthy else 503
    )
