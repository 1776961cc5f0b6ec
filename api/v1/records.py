"""Service records: submit, confirm, verify, reject, dispute, reverse, rate, complain, queues."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("records", __name__, url_prefix="/api/v1", description="Service records: submit, confirm, verify, reject, dispute, reverse, rate, complain, queues.")
