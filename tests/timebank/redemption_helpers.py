"""Plain helpers for the tests of redemption, gifts, 通存通兑 and points: credit given directly,
the books checked, and a snapshot to prove a refusal changed nothing."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from world import World

from ledger import canonical, merkle, store
from timebank import accounts, journal, people
from timebank.accounts import Account, Posting
from timebank.people import Elder, Volunteer
from timebank.regions import Region


def give(world: World, person: Volunteer | Elder, minutes: int, *, at: datetime | None = None,
         unit: str = "credit") -> journal.Entry:
    """Credit (or points) straight into a person's home-bank account, as a verified record would."""
    s, at = world.session, at or world.now
    bank = people.home_bank(s, person.id)
    return accounts.transfer(
        s, world.writer, bank=bank, type="deposit", at=at, body={"test_deposit": person.id, "unit": unit},
        moves=[(accounts.bank_account(s, bank, "issuance", at, unit=unit), -minutes),
               (accounts.person_account(s, bank=bank, person_id=person.id, at=at, unit=unit), minutes)],
    )


def balance(session: Session, bank: Region, kind: str, owner_id: str | None = None, unit: str = "credit") -> int:
    """A kept balance, 0 for an account never opened."""
    return int(session.scalar(sa.select(Account.balance).where(
        Account.bank_id == bank.id, Account.kind == kind, Account.unit == unit,
        Account.owner_id == (owner_id or bank.id))) or 0)


def credit(session: Session, person: Volunteer | Elder) -> int:
    return accounts.person_balance(session, person.id)


def check_books(session: Session) -> None:
    """Every entry's postings sum to zero per unit, no balance but issuance is negative, and every
    kept balance equals the sum of its postings."""
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for entry_id, unit, amount in session.execute(
            sa.select(Posting.entry_id, Account.unit, Posting.amount).join(Account, Account.id == Posting.account_id)):
        sums[(entry_id, unit)] += amount
    assert {key: total for key, total in sums.items() if total} == {}
    negative = session.scalars(sa.select(Account).where(Account.kind != "issuance", Account.balance < 0)).all()
    assert negative == []
    derived = dict(session.execute(sa.select(Posting.account_id, sa.func.sum(Posting.amount))
                                   .group_by(Posting.account_id)).all())
    for acc in session.scalars(sa.select(Account)):
        assert acc.balance == int(derived.get(acc.id, 0)), acc.id


@dataclass(frozen=True)
class Snapshot:
    balances: dict[str, int]
    sizes: dict[str, int]
    entries: int


def snapshot(session: Session) -> Snapshot:
    """Every account's balance (and which accounts exist), every log's size, the number of entries."""
    session.expire_all()
    return Snapshot(
        dict(session.execute(sa.select(Account.id, Account.balance)).all()),
        {log.id: store.stored_size(session, log.id) for log in store.list_logs(session)},
        int(session.scalar(sa.select(sa.func.count()).select_from(journal.Entry)) or 0),
    )


def leaf(session: Session, entry: journal.Entry) -> dict[str, Any]:
    """The decoded public leaf of an entry."""
    return canonical.decode(store.read_leaves(session, entry.log_id, entry.seq, entry.seq + 1)[0])


def check_names(session: Session, reference: dict[str, Any], entry: journal.Entry) -> None:
    """`reference` (origin, index, leaf_hash) names exactly `entry`'s stored leaf."""
    assert reference["origin"] == store.get_log(session, entry.log_id).origin
    assert reference["index"] == entry.seq
    stored = store.read_leaves(session, entry.log_id, reference["index"], reference["index"] + 1)[0]
    assert base64.b64decode(reference["leaf_hash"]) == merkle.leaf_hash(stored)
