"""Balances and history, redemptions, gifts, estates, points and expiry."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("credits", __name__, url_prefix="/api/v1", description="Balances and history, redemptions, gifts, estates, points and expiry.")
