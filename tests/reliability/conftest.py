"""Reliability suites (issue 8). `make test` runs their short form; `make reliability` sets
TIMEBANK_RELIABILITY=full and runs them long (more rounds, more processes, the 10-minute load)."""

from __future__ import annotations

import os

FULL = os.environ.get("TIMEBANK_RELIABILITY") == "full"


def rounds(short: int, full: int) -> int:
    """How many rounds a reliability test runs: `short` inside `make test`, `full` in `make reliability`."""
    return full if FULL else short
