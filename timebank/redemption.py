"""Redemption: credit held for a requested catalogue service, paid to the provider when done, returned on cancellation."""

from __future__ import annotations
