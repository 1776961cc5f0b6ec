"""Recognition: star ratings and other schemes by verified hours, levels reached recorded once, awards and honours, leaderboards."""

from __future__ import annotations
