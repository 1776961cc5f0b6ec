"""通存通兑 between banks: redemptions away from home recorded in both logs, and settlement of positions."""

from __future__ import annotations
