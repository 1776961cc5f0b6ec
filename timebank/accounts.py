"""Double-entry accounts: every transfer's postings sum to zero per unit, and no balance but a
bank's issuance goes below zero. Balances are kept here for speed; `reconcile` re-derives them
from the ledger."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import journal
from .errors import InsufficientCredit, InvalidInput, NotFound
from .model import Base, new_id
from .regions import Region

UNITS = ("credit", "point")
# person: a volunteer's or elder's own account. issuance: the bank's liability (may go negative).
# backstop: credit paid for services a station gave (政府兜底). escrow: credit held for a requested
# redemption. pool: donated hours and credit returned to the bank. clearing: credit owed to another
# bank for services it gave our people (通存通兑). goods: points spent on goods.
KINDS = ("person", "issuance", "backstop", "escrow", "pool", "clearing", "goods")
BANK_ACCOUNTS = (("credit", "issuance"), ("credit", "backstop"), ("credit", "escrow"), ("credit", "pool"),
                 ("point", "issuance"), ("point", "goods"))


class Account(Base):
    """One balance in one unit at one bank."""

    __tablename__ = "account"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "unit", "kind", "owner_id", name="uq_account_owner"),
        sa.CheckConstraint("kind = 'issuance' OR balance >= 0", name="balance_not_negative"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    unit: Mapped[str] = mapped_column(sa.String(8))
    kind: Mapped[str] = mapped_column(sa.String(12))
    # the person for `person`, the other bank for `clearing`, the bank itself otherwise (never NULL,
    # so the unique constraint holds on PostgreSQL too)
    owner_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime]


class Posting(Base):
    """One line of a transfer: an amount into (positive) or out of (negative) an account."""

    __tablename__ = "posting"
    # an account's postings newest first, a page at a time: one index range however long the log
    __table_args__ = (sa.Index("ix_posting_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"), index=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("account.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    at: Mapped[datetime]


def account(session: Session, *, bank: Region, unit: str, kind: str, owner_id: str | None = None,
            at: datetime) -> Account:
    """The account, opened (balance 0) on first use."""
    assert unit in UNITS and kind in KINDS, (unit, kind)
    owner = owner_id or bank.id
    found = session.scalar(
        sa.select(Account).where(Account.bank_id == bank.id, Account.unit == unit, Account.kind == kind,
                                 Account.owner_id == owner)
    )
    if found is None:
        found = Account(id=new_id("acc"), bank_id=bank.id, unit=unit, kind=kind, owner_id=owner, balance=0,
                        created_at=at)
        session.add(found)
        session.flush()
    return found


def get_account(session: Session, account_id: str) -> Account:
    found = session.get(Account, account_id)
    if found is None:
        raise NotFound(f"no account {account_id!r}", field="account_id")
    return found


def person_account(session: Session, *, bank: Region, person_id: str, at: datetime, unit: str = "credit") -> Account:
    return account(session, bank=bank, unit=unit, kind="person", owner_id=person_id, at=at)


def bank_account(session: Session, bank: Region, kind: str, at: datetime, unit: str = "credit") -> Account:
    return account(session, bank=bank, unit=unit, kind=kind, at=at)


def balance_of(session: Session, account_id: str) -> int:
    """The kept balance, read fresh from the database."""
    return session.scalar(sa.select(Account.balance).where(Account.id == account_id)) or 0


def person_balance(session: Session, person_id: str, unit: str = "credit") -> int:
    """A person's balance over all banks (normally one: their home bank)."""
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Account.balance), 0)).where(
        Account.kind == "person", Account.owner_id == person_id, Account.unit == unit)) or 0)


def check_balanced(moves: Sequence[tuple[Account, int]]) -> None:
    """Postings sum to zero in each unit and no amount is zero. Raises InvalidInput."""
    sums: dict[str, int] = defaultdict(int)
    for acc, amount in moves:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise InvalidInput("every posting moves a non-zero whole number of minutes", field="amount")
        sums[acc.unit] += amount
    unbalanced = {unit: total for unit, total in sums.items() if total}
    if unbalanced:
        raise InvalidInput(f"postings do not sum to zero: {unbalanced}", field="postings")


def transfer(
    session: Session,
    writer: Writer,
    *,
    bank: Region,
    type: str,
    body: Mapping[str, Any],
    moves: Sequence[tuple[Account, int]],
    at: datetime,
    subject_id: str | None = None,
    policy_version: int | None = None,
) -> journal.Entry:
    """Apply `moves` to the balances and write one ledger entry that carries them as `postings`,
    all or nothing (a savepoint). Every account must belong to `bank`.

    Callers that also change rows of their own should take `store.lock_logs` first.
    Raises InvalidInput (unbalanced, or an account of another bank), InsufficientCredit (a
    non-issuance balance would go below zero; nothing is changed), and what `journal.write` raises.
    """
    check_balanced(moves)
    if any(acc.bank_id != bank.id for acc, _ in moves):
        raise InvalidInput("a transfer stays inside one bank; use a redemption away for another bank", field="postings")
    assert bank.log_id is not None
    # the log first, then accounts in id order: every writer takes locks in that order, so two
    # transfers (or a transfer and a redemption across banks) never deadlock on PostgreSQL
    store.lock_logs(session, [bank.log_id])
    with session.begin_nested():
        # in account-id order, so two transfers on the same accounts never deadlock
        for acc, amount in sorted(moves, key=lambda m: m[0].id):
            updated = session.execute(
                sa.update(Account)
                .where(Account.id == acc.id, sa.or_(Account.kind == "issuance", Account.balance + amount >= 0))
                .values(balance=Account.balance + amount)
                .execution_options(synchronize_session=False)
            )
            if updated.rowcount != 1:
                raise InsufficientCredit(
                    f"account {acc.id} holds {balance_of(session, acc.id)} {acc.unit} minutes, {-amount} needed",
                    account=acc.id, needed=-amount,
                )
        postings = [{"account": acc.id, "amount": amount, "unit": acc.unit} for acc, amount in moves]
        entry = journal.write(session, writer, bank=bank, type=type, body={**body, "postings": postings}, at=at,
                              subject_id=subject_id, policy_version=policy_version)
        session.add_all(Posting(entry_id=entry.id, account_id=acc.id, amount=amount, at=at) for acc, amount in moves)
        session.flush()
    for acc, _ in moves:
        session.expire(acc, ["balance"])
    return entry


def history(
    session: Session, account_id: str, *, limit: int = 100, before: int | None = None
) -> list[tuple[Posting, journal.Entry]]:
    """An account's postings with their entries, newest first."""
    query = (
        sa.select(Posting, journal.Entry)
        .join(journal.Entry, journal.Entry.id == Posting.entry_id)
        .where(Posting.account_id == account_id)
        .order_by(Posting.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Posting.id < before)
    return [(p, e) for p, e in session.execute(query)]


def person_history(
    session: Session, person_id: str, *, unit: str | None = None, before: int | None = None,
    since: datetime | None = None, until: datetime | None = None, limit: int = 100,
) -> list[tuple[Posting, Account, journal.Entry]]:
    """A person's postings in every bank (optionally one unit), newest first, with their account
    and entry; `before` is the last posting id of the previous page.

    The person's few accounts are read first and their postings then by (account_id, id), so a page
    costs the same at a thousand postings as at a million (asking the database to join and sort
    made PostgreSQL walk every posting backwards)."""
    query = sa.select(Account).where(Account.kind == "person", Account.owner_id == person_id)
    if unit is not None:
        query = query.where(Account.unit == unit)
    held = {acc.id: acc for acc in session.scalars(query)}
    if not held:
        return []
    postings = (
        sa.select(Posting, journal.Entry)
        .join(journal.Entry, journal.Entry.id == Posting.entry_id)
        .where(Posting.account_id.in_(held))
        .order_by(Posting.id.desc())
        .limit(limit)
    )
    if before is not None:
        postings = postings.where(Posting.id < before)
    if since is not None:
        postings = postings.where(Posting.at >= since)
    if until is not None:
        postings = postings.where(Posting.at < until)
    return [(posting, held[posting.account_id], entry) for posting, entry in session.execute(postings)]
