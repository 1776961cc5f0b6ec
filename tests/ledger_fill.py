"""Synthetic ledger entries for the ledger API and page tests: two logs filled with plausible,
anonymous entries, without the domain behind them (the real demo is `timebank.demo`).

Entries name people only by opaque ids (never names or ID numbers), as every real leaf must.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ledger import store
from ledger.writer import Writer

CATALOGUE = [("MEAL", 60, 100), ("BATH", 45, 120), ("CLEAN", 90, 100), ("VISIT", 30, 100), ("ESCORT", 120, 100)]
BANKS = [("lianyungang", "连云港市"), ("suqian", "宿迁市")]


@dataclass(frozen=True)
class DemoResult:
    """What the demo load did."""

    created: list[str]
    entries: dict[str, int]


def load_demo(
    session: Session,
    writer: Writer,
    *,
    origin_host: str,
    now: datetime,
    entries_per_bank: int = 120,
    batch: int = 10,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Create the demo banks' logs and fill each with `entries_per_bank` entries, in batches of
    `batch` (one signed checkpoint a batch). Logs that exist already are left alone, so loading
    twice changes nothing. Commits after each batch so a large load can be watched."""
    rng = random.Random(seed)
    existing = {log.id for log in store.list_logs(session)}
    created, counts = [], {}
    for log_id, _name in BANKS:
        if log_id in existing:
            continue
        start = now - timedelta(days=90)
        writer.create_log(session, log_id=log_id, origin=f"{origin_host}/{log_id}", at=start)
        session.commit()
        created.append(log_id)
        for first in range(0, entries_per_bank, batch):
            count = min(batch, entries_per_bank - first)
            at = start + timedelta(hours=18 * (first // batch + 1))
            writer.append(session, log_id, [_entry(rng, log_id, first + i) for i in range(count)], at=at)
            session.commit()
            if progress:
                progress(count)
        counts[log_id] = entries_per_bank
    return DemoResult(created, counts)


def _entry(rng: random.Random, bank: str, n: int) -> dict[str, Any]:
    code, minutes, weight = rng.choice(CATALOGUE)
    minutes = rng.choice([minutes, minutes + 15, minutes + 30])
    return {
        "type": "deposit",
        "bank": bank,
        "record": f"rec-{bank[:3]}-{n:05d}",
        "volunteer": f"vol-{rng.randrange(1, 40):04d}",
        "elder": f"eld-{rng.randrange(1, 25):04d}",
        "catalogue": code,
        "minutes": minutes,
        "weight_pct": weight,
        "credit_minutes": minutes * weight // 100,
        "policy": 1,
    }
