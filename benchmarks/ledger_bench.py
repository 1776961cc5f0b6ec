"""Kept for `make bench`: runs `timebank bench` (see docs/bench/README.md), passing its arguments on."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.cli_bench import bench  # noqa: E402

if __name__ == "__main__":
    bench()
