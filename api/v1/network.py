"""Regions, banks, stations, organisations, staff, the catalogue, policy, statistics and settlement."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("network", __name__, url_prefix="/api/v1", description="Regions, banks, stations, organisations, staff, the catalogue, policy, statistics and settlement.")
