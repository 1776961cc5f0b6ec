"""Care agreements, contacts and the compliance list."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("care", __name__, url_prefix="/api/v1", description="Care agreements, contacts and the compliance list.")
