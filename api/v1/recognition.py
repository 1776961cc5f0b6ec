"""Recognition: star ratings and other schemes by verified hours, levels reached recorded once, awards and honours, leaderboards."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("recognition", __name__, url_prefix="/api/v1", description="Recognition: star ratings and other schemes by verified hours, levels reached recorded once, awards and honours, leaderboards.")
