"""Domain rows checked against the leaves that state them: service records and policy versions.

The leaves hold opaque ids, amounts, times and commitments, never personal data, so every row field
a leaf states can be compared with it: a record's volunteer, elder, minutes, times and status, its
deposit's credit and the commitment over its confirmed fields, a policy version's region and knob
values. A row the ledger never saw, a leaf with no row, and every field that differs are reported,
naming the row and the leaf's seq. Nothing is repaired. `reconcile` runs this in its one pass over
a bank's leaves.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import canonical, store

from .errors import DomainError
from .journal import Entry, check_commitment
from .policy import PolicyVersion
from .records import ServiceRecord, commitment_parts
from .regions import Region, bank_of

PAGE = 1000
_UNSET = object()
# row column → the key of the "record" leaf of event "submitted" that states it
SUBMITTED = (("volunteer_id", "volunteer"), ("elder_id", "elder"), ("catalogue_code", "catalogue"),
             ("minutes", "minutes"), ("started_at", "started"), ("ended_at", "ended"), ("paid", "paid"),
             ("organisation_id", "organisation"), ("responsible", "responsible"), ("submitted_by", "by"),
             ("details_commitment", "details_commitment"), ("bank_id", "bank"))
CONFIRMED = (("confirmed_kind", "kind"), ("confirmed_by", "actor"), ("on_behalf_of", "on_behalf_of"))
DEPOSITED = (("volunteer_id", "volunteer"), ("elder_id", "elder"), ("catalogue_code", "catalogue"),
             ("minutes", "minutes"), ("bank_id", "record_bank"), ("credit_minutes", "credit_minutes"),
             ("points", "points"), ("verified_by", "verified_by"), ("policy_version", "policy"))
REVERSED = (("reversal_approver", "approver"),)
# the status a record event leaves a record in ("dispute_resolved" names it in the leaf)
STATUS_AFTER = {"submitted": "submitted", "confirmed": "confirmed", "disputed": "disputed", "rejected": "rejected"}

Stated = tuple[int, dict[str, Any]]  # a leaf's seq and the leaf


@dataclass
class RecordLeaves:
    """What one log's leaves state about one service record."""

    submitted: Stated | None = None
    confirmed: Stated | None = None
    status: tuple[int, str] | None = None  # from the last record event that set one
    deposit: Stated | None = None
    reversal: Stated | None = None


@dataclass
class LeafFacts:
    """What a log's leaves state about rows, gathered leaf by leaf (`see`) in one pass."""

    log_id: str
    records: dict[str, RecordLeaves] = field(default_factory=lambda: defaultdict(RecordLeaves))
    policies: dict[int, Stated] = field(default_factory=dict)

    def see(self, seq: int, leaf: dict[str, Any]) -> None:
        """Take note of leaf `seq` if it states a record or a policy version."""
        kind, subject = leaf.get("type"), leaf.get("record")
        if kind == "record" and isinstance(subject, str):
            facts, event = self.records[subject], leaf.get("event")
            if event == "submitted":
                facts.submitted = (seq, leaf)
            elif event == "confirmed":
                facts.confirmed = (seq, leaf)
            status = leaf.get("status") if event == "dispute_resolved" else STATUS_AFTER.get(str(event))
            if isinstance(status, str):
                facts.status = (seq, status)
        elif kind == "deposit" and isinstance(subject, str):
            self.records[subject].deposit = (seq, leaf)
        elif kind == "reversal" and isinstance(subject, str):
            self.records[subject].reversal = (seq, leaf)
        elif kind == "policy" and isinstance(leaf.get("version"), int):
            self.policies[leaf["version"]] = (seq, leaf)


@dataclass
class RowAudit:
    """What comparing one bank's rows with its leaves found."""

    records: int = 0
    policies: int = 0
    differences: list[str] = field(default_factory=list)


def _stated(value: Any) -> Any:
    """A row value as a leaf states it (times as the ledger formats them)."""
    return store.format_time(value) if isinstance(value, datetime) else value


def _compare(row: Any, what: str, columns: Iterable[tuple[str, str]], stated: Stated, about: str) -> list[str]:
    seq, leaf = stated
    return [f"{what}: {column} {_stated(getattr(row, column))!r}, but leaf {seq} ({about}) says {leaf.get(key)!r}"
            for column, key in columns if _stated(getattr(row, column)) != leaf.get(key)]


class _Rows:
    """The rows one bank's audit reads, and the entry rows that place their leaves."""

    def __init__(self, session: Session, bank: Region, facts: LeafFacts) -> None:
        self.session = session
        self.bank = bank
        self.log_id = facts.log_id
        mine = sa.select(ServiceRecord.__table__).where(ServiceRecord.bank_id == bank.id)
        self.records = {row.id: row for row in session.execute(mine)}
        wanted = sorted(set(facts.records) - set(self.records))
        for start in range(0, len(wanted), PAGE):
            query = sa.select(ServiceRecord.__table__).where(ServiceRecord.id.in_(wanted[start:start + PAGE]))
            self.records.update((row.id, row) for row in session.execute(query))
        self.entries: dict[str, tuple[str, int]] = {
            entry_id: (log_id, seq) for entry_id, log_id, seq in session.execute(
                sa.select(Entry.id, Entry.log_id, Entry.seq).where(Entry.log_id == self.log_id))}

    def place(self, entry_id: str | None) -> tuple[str, int] | None:
        """The (log, seq) an entry row names, None for no entry."""
        if entry_id is None:
            return None
        if entry_id not in self.entries:
            found = self.session.execute(sa.select(Entry.log_id, Entry.seq).where(Entry.id == entry_id)).one_or_none()
            self.entries[entry_id] = (found.log_id, found.seq) if found is not None else ("", -1)
        return self.entries[entry_id]

    def leaf_of(self, entry_id: str | None) -> dict[str, Any] | None:
        """The leaf an entry row names, read from whichever log holds it; None if there is none."""
        placed = self.place(entry_id)
        if placed is None or placed[1] < 0 or placed[1] >= store.stored_size(self.session, placed[0]):
            return None
        leaf = canonical.decode(store.read_leaves(self.session, placed[0], placed[1], placed[1] + 1)[0])
        return leaf if isinstance(leaf, dict) else None


def audit_rows(session: Session, bank: Region, facts: LeafFacts) -> RowAudit:
    """Compare `bank`'s service records and policy versions, and the records its log posted
    credit for, with what `facts` (its log's leaves) state. Never raises for bad data."""
    result = RowAudit()
    rows = _Rows(session, bank, facts)
    for record_id in sorted(set(rows.records) | set(facts.records)):
        result.records += 1
        result.differences += _record(rows, record_id, facts.records.get(record_id))
    result.policies, problems = _policies(session, bank, facts, rows)
    result.differences += problems
    return result


def _record(rows: _Rows, record_id: str, stated: RecordLeaves | None) -> list[str]:
    what, log = f"service record {record_id}", rows.log_id
    row = rows.records.get(record_id)
    if row is None:
        seqs = [s[0] for s in (stated.submitted, stated.deposit, stated.reversal) if stated and s]
        return [f"{what}: leaf {min(seqs) if seqs else '?'} of log {log} states it, but there is no such row"]
    stated = stated or RecordLeaves()
    problems: list[str] = []
    if row.bank_id == rows.bank.id:
        if stated.submitted is None:
            return [f"{what}: no leaf of log {log} states its submission: a row the ledger never saw"]
        problems += _compare(row, what, SUBMITTED, stated.submitted, "record submitted")
        problems += _placed(rows, what, "submit_entry_id", row.submit_entry_id, stated.submitted[0])
        if stated.confirmed is not None:
            problems += _compare(row, what, CONFIRMED, stated.confirmed, "record confirmed")
        elif row.confirmed_kind is not None or row.confirmed_by is not None:
            problems.append(f"{what}: confirmed_by {row.confirmed_by!r}, but no leaf of log {log} confirms it")
        problems += _status(rows, what, row, stated)
    if stated.deposit is not None:
        problems += _deposit(rows, what, row, stated.deposit)
    if stated.reversal is not None:
        problems += _compare(row, what, REVERSED, stated.reversal, "reversal")
        problems += _placed(rows, what, "reversal_entry_id", row.reversal_entry_id, stated.reversal[0])
        if row.status != "reversed":
            problems.append(f"{what}: status {row.status!r}, but leaf {stated.reversal[0]} (reversal) reversed it")
    return problems


def _placed(rows: _Rows, what: str, column: str, entry_id: str | None, seq: int) -> list[str]:
    """The row's pointer to its entry names the leaf that states it."""
    if rows.place(entry_id) != (rows.log_id, seq):
        return [f"{what}: {column} names {rows.place(entry_id)}, but leaf {seq} of log {rows.log_id} states it"]
    return []


def _status(rows: _Rows, what: str, row: Any, stated: RecordLeaves) -> list[str]:
    """A record's status is the one its leaves leave it in: the last record event, then a deposit
    (posted) and a reversal (reversed), which may be in the volunteer's home log."""
    seq, status = stated.status or (stated.submitted[0] if stated.submitted else -1, "submitted")
    if row.status in ("posted", "reversed"):
        deposit = stated.deposit[1] if stated.deposit else rows.leaf_of(row.deposit_entry_id)
        if deposit is None or deposit.get("type") != "deposit" or deposit.get("record") != row.id:
            return [f"{what}: status {row.status!r}, but no deposit leaf states it; leaf {seq} (record) leaves it "
                    f"{status!r}"]
        if row.status == "reversed":
            reversal = stated.reversal[1] if stated.reversal else rows.leaf_of(row.reversal_entry_id)
            if reversal is None or reversal.get("type") != "reversal" or reversal.get("record") != row.id:
                return [f"{what}: status 'reversed', but no reversal leaf states it"]
        return []
    if stated.deposit is not None:
        return []  # reported by _deposit: a posted record whose row says otherwise
    if row.status != status:
        return [f"{what}: status {row.status!r}, but leaf {seq} (record) leaves it {status!r}"]
    return []


def _deposit(rows: _Rows, what: str, row: Any, deposit: Stated) -> list[str]:
    seq, leaf = deposit
    problems = _compare(row, what, DEPOSITED, deposit, "deposit")
    problems += _placed(rows, what, "deposit_entry_id", row.deposit_entry_id, seq)
    if row.status not in ("posted", "reversed"):
        problems.append(f"{what}: status {row.status!r}, but leaf {seq} (deposit) posted it")
    digest = leaf.get("record_commitment")
    if not (row.record_salt and isinstance(digest, str)
            and check_commitment(row.record_salt, digest, *commitment_parts(row))):
        problems.append(f"{what}: its fields (volunteer, elder, times, minutes, confirmation) no longer open the "
                        f"record_commitment of leaf {seq} (deposit)")
    return problems


def _policies(session: Session, bank: Region, facts: LeafFacts, rows: _Rows) -> tuple[int, list[str]]:
    """Every policy version set under `bank` is stated by a "policy" leaf of its log, and vice versa."""
    problems: list[str] = []
    banks: dict[str, str | None] = {}
    seen: set[int] = set()
    for row in session.scalars(sa.select(PolicyVersion).order_by(PolicyVersion.version)):
        if row.region_id not in banks:
            region = session.get(Region, row.region_id)
            try:
                banks[row.region_id] = bank_of(session, region).id if region is not None else None
            except DomainError:
                banks[row.region_id] = None
        stated = facts.policies.get(row.version)
        if banks[row.region_id] != bank.id and stated is None:
            continue  # another bank's
        what = f"policy version {row.version} (region {row.region_id})"
        seen.add(row.version)
        if stated is None:
            problems.append(f"{what}: no leaf of log {bank.log_id} states it: a row the ledger never saw")
            continue
        seq, leaf = stated
        if row.region_id != leaf.get("region"):
            problems.append(f"{what}: region {row.region_id!r}, but leaf {seq} (policy) sets it on "
                            f"{leaf.get('region')!r}")
        if row.set_by != leaf.get("by"):
            problems.append(f"{what}: set_by {row.set_by!r}, but leaf {seq} (policy) says {leaf.get('by')!r}")
        problems += _knobs(what, row.values_json, seq, leaf.get("set"))
        problems += _placed(rows, what, "entry_id", row.entry_id, seq)
    for version in sorted(set(facts.policies) - seen):
        problems.append(f"policy version {version}: leaf {facts.policies[version][0]} of log {bank.log_id} sets it, "
                        "but there is no such row")
    return len(seen), problems


def _knobs(what: str, values_json: str, seq: int, stated: Any) -> list[str]:
    try:
        values = json.loads(values_json)
    except ValueError:
        return [f"{what}: its values are not JSON; leaf {seq} (policy) sets {stated!r}"]
    if not isinstance(values, dict) or not isinstance(stated, dict):
        return [f"{what}: values {values!r}, but leaf {seq} (policy) sets {stated!r}"]
    return [f"{what}: {knob} {values.get(knob, '(unset)')!r}, but leaf {seq} (policy) sets "
            f"{stated.get(knob, '(unset)')!r}"
            for knob in sorted(set(values) | set(stated)) if values.get(knob, _UNSET) != stated.get(knob, _UNSET)]

