"""Balances re-derived from the ledger: sum every leaf's postings and compare with the kept balances,
the posting rows and the entry rows; in the same pass, service records and policy versions are
compared with the leaves that state them (`audit_rows`). Any difference is reported, never repaired."""

from __future__ import annotations

import hmac
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import merkle, store

from .accounts import Account, Posting
from .audit_rows import LeafFacts, audit_rows
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
    records: int = 0
    policies: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass
class Derived:
    """Balances summed from a log's leaves."""

    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    units: dict[str, str] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)  # the last leaf that posted to each account
    problems: list[str] = field(default_factory=list)  # found in the leaves themselves
    size: int = 0


def derive_balances(
    session: Session, log_id: str, progress: Callable[[int], None] | None = None,
    observe: Callable[[int, dict[str, Any]], None] | None = None,
) -> Derived:
    """Sum the postings of every leaf of `log_id`, handing each decoded leaf to `observe` too."""
    derived = Derived(size=store.stored_size(session, log_id))
    for start in range(0, derived.size, PAGE):
        batch = store.read_leaves(session, log_id, start, min(start + PAGE, derived.size))
        for offset, data in enumerate(batch):
            seq = start + offset
            leaf = json.loads(data)
            if observe is not None:
                observe(seq, leaf)
            sums: dict[str, int] = defaultdict(int)
            for posting in leaf.get("postings") or []:
                account, amount, unit = posting["account"], posting["amount"], posting["unit"]
                derived.balances[account] += amount
                derived.last_seq[account] = seq
                sums[unit] += amount
                if derived.units.setdefault(account, unit) != unit:
                    derived.problems.append(f"leaf {seq}: account {account} posted in two units")
            for unit, total in sums.items():
                if total:
                    derived.problems.append(f"leaf {seq}: {unit} postings sum to {total}, not 0")
        if progress:
            progress(len(batch))
    return derived


def reconcile(session: Session, bank: Region, progress: Callable[[int], None] | None = None) -> Reconciliation:
    """Re-derive `bank`'s balances from its log and compare them with the kept balances, the
    posting rows and the entry rows (each must point at a leaf with the recorded hash); compare its
    service records and policy versions with the leaves that state them (`audit_rows`)."""
    assert bank.log_id is not None
    result = Reconciliation(bank.id, bank.log_id)
    facts = LeafFacts(bank.log_id)
    found = derive_balances(session, bank.log_id, progress, facts.see)
    derived, units, result.leaves = found.balances, found.units, found.size
    result.differences.extend(found.problems)
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
        last = f" (last posted by leaf {found.last_seq[account_id]})" if account_id in found.last_seq else ""
        if acc.balance != want:
            result.differences.append(
                f"account {account_id} ({acc.kind}): balance {acc.balance}, ledger says {want}{last}")
        if int(posted.get(account_id) or 0) != want:
            result.differences.append(
                f"account {account_id} ({acc.kind}): posting rows sum to {posted.get(account_id) or 0}, "
                f"ledger says {want}")
        if acc.kind != "issuance" and want < 0:
            result.differences.append(f"account {account_id} ({acc.kind}): ledger balance {want} is below zero")
        if account_id in units and units[account_id] != acc.unit:
            result.differences.append(f"account {account_id}: unit {acc.unit}, ledger says {units[account_id]}")
    result.differences.extend(_entry_rows(session, bank.log_id, result.leaves))
    rows = audit_rows(session, bank, facts)
    result.records, result.policies = rows.records, rows.policies
    result.differences.extend(rows.differences)
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
