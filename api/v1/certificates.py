"""Certificates (志愿服务证明): issued from verified records, signed, verifiable by anyone, superseded when a record behind them is reversed."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("certificates", __name__, url_prefix="/api/v1", description="Certificates (志愿服务证明): issued from verified records, signed, verifiable by anyone, superseded when a record behind them is reversed.")
