"""Volunteers and elders: registration and sign-up, status, tags, relatives, training, heirs, personal data."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="Volunteers and elders: registration and sign-up, status, tags, relatives, training, heirs, personal data.")
