"""Balances re-derived from the ledger: sum every leaf's postings and compare with the kept balances,
the posting rows and the entry rows. Any difference is reported, never repaired."""

from __future__ import annotations

import hmac
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import merkle, store

from .accounts import Account, Posting
from .journal import Entry
from .regions import Region

PAGE = 1000


@dataclass
class Reconciliation:
    """What re-deriving one bank's balances from its log found."""

    bank_id: str
    log_id: str
    leaves: int = 0
    accounts: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def derive_balances(
    session: Session, log_id: str, progress: Callable[[int], None] | None = None
) -> tuple[dict[str, int], dict[str, str], list[str], int]:
    """Sum the postings of every leaf of `log_id`: (balance by account, unit by account, problems
    found in the leaves themselves, leaves read)."""
    balances: dict[str, int] = defaultdict(int)
    units: dict[str, str] = {}
    problems: list[str] = []
    size = store.stored_size(session, log_id)
    for start in range(0, size, PAGE):
        batch = store.read_leaves(session, log_id, start, min(start + PAGE, size))
        for offset, data in enumerate(batch):
            seq = start + offset
            postings = json.loads(data).get("postings") or []
            sums: dict[str, int] = defaultdict(int)
            for posting in postings:
                account, amount, unit = posting["account"], posting["amount"], posting["unit"]
                balances[account] += amount
                sums[unit] += amount
                if units.setdefault(account, unit) != unit:
                    problems.append(f"leaf {seq}: account {account} posted in two units")
            for unit, total in sums.items():
                if total:
                    problems.append(f"leaf {seq}: {unit} postings sum to {total}, not 0")
        if progress:
            progress(len(batch))
    return dict(balances), units, problems, size


def reconcile(session: Session, bank: Region, progress: Callable[[int], None] | None = None) -> Reconciliation:
    """Re-derive `bank`'s balances from its log and compare them with the kept balances, the
    posting rows and the entry rows (each must point at a leaf with the recorded hash)."""
    assert bank.log_id is not None
    result = Reconciliation(bank.id, bank.log_id)
    derived, units, problems, result.leaves = derive_balances(session, bank.log_id, progress)
    result.differences.extend(problems)
    kept = {a.id: a for a in session.scalars(sa.select(Account).where(Account.bank_id == bank.id))}
    result.accounts = len(kept)
    posted = dict(session.execute(
        sa.select(Posting.account_id, sa.func.sum(Posting.amount))
        .join(Account, Account.id == Posting.account_id)
        .where(Account.bank_id == bank.id)
        .group_by(Posting.account_id)
    ).all())
    for account_id in sorted(set(kept) | set(derived)):
        want = derived.get(account_id, 0)
        acc = kept.get(account_id)
        if acc is None:
            result.differences.append(f"account {account_id}: in the ledger ({want}) but not in the accounts table")
            continue
        if acc.balance != want:
            result.differences.append(f"account {account_id} ({acc.kind}): balance {acc.balance}, ledger says {want}")
        if int(posted.get(account_id) or 0) != want:
            result.differences.append(
                f"account {account_id} ({acc.kind}): posting rows sum to {posted.get(account_id) or 0}, "
                f"ledger says {want}")
        if acc.kind != "issuance" and want < 0:
            result.differences.append(f"account {account_id} ({acc.kind}): ledger balance {want} is below zero")
        if account_id in units and units[account_id] != acc.unit:
            result.differences.append(f"account {account_id}: unit {acc.unit}, ledger says {units[account_id]}")
    result.differences.extend(_entry_rows(session, bank.log_id, result.leaves))
    return result


def _entry_rows(session: Session, log_id: str, size: int) -> list[str]:
    """Every entry row names a leaf that exists and has the recorded hash."""
    problems = []
    rows = session.execute(sa.select(Entry.id, Entry.seq, Entry.leaf_hash).where(Entry.log_id == log_id)
                           .order_by(Entry.seq)).all()
    for start in range(0, len(rows), PAGE):
        page = rows[start:start + PAGE]
        wanted = [seq for _, seq, _ in page if 0 <= seq < size]
        leaves = {}
        if wanted:
            lo, hi = min(wanted), max(wanted) + 1
            leaves = dict(zip(range(lo, hi), store.read_leaves(session, log_id, lo, hi), strict=True))
        for entry_id, seq, leaf_hash in page:
            data = leaves.get(seq)
            if data is None:
                problems.append(f"entry {entry_id}: names leaf {seq}, which the log does not hold")
            elif not hmac.compare_digest(merkle.leaf_hash(data), leaf_hash):
                problems.append(f"entry {entry_id}: leaf {seq} does not have the recorded hash")
    return problems
