"""通存通兑 between banks: redemptions away from home recorded in both logs, and settlement of positions.

A movement between two banks is a *pair*: an entry in the first bank's log, an entry in the second
bank's log that names the first by (origin, index, leaf hash), and a `link` entry in the first log
that names the second the same way, so each log holds the other's leaf hash. Credit that leaves
its home bank waits in the home bank's `clearing` account for the other bank (what home owes it)
until the two banks settle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import accounts, idempotency, journal, people
from .accounts import Account, Posting
from .errors import Conflict, InvalidInput, NotPermitted, Refused
from .model import Base, new_id
from .policy import Policy
from .regions import Region, covers, get_region, list_banks


class Settlement(Base):
    """Two banks' clearing balances retired at once: what each owed the other, and the net."""

    __tablename__ = "settlement"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    bank_a_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    bank_b_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    a_owed: Mapped[int] = mapped_column(sa.BigInteger)  # a's clearing balance for b, retired
    b_owed: Mapped[int] = mapped_column(sa.BigInteger)  # b's clearing balance for a, retired
    net: Mapped[int] = mapped_column(sa.BigInteger)  # a_owed - b_owed: positive when a owed b on balance
    settled_by: Mapped[str] = mapped_column(sa.String(40))
    a_entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    b_entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    link_entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


@dataclass(frozen=True)
class Pair:
    """The three entries of a movement between two banks."""

    first: journal.Entry  # in the first bank's log
    second: journal.Entry  # in the second bank's log, naming `first`
    link: journal.Entry  # in the first bank's log, naming `second`


def origin_of(session: Session, bank: Region) -> str:
    """The origin line of a bank's log (how other logs name it)."""
    assert bank.log_id is not None, "only a bank has a log"
    return store.get_log(session, bank.log_id).origin


def clearing_account(session: Session, *, bank: Region, other: Region, at: datetime) -> Account:
    """`bank`'s clearing account for `other`: credit `bank` owes `other` until they settle."""
    return accounts.account(session, bank=bank, unit="credit", kind="clearing", owner_id=other.id, at=at)


def check_accepted(home: Region, home_policy: Policy, serving: Region, serving_policy: Policy) -> None:
    """Both banks' policies accept each other (`accepted_banks`). Raises Refused(rule="accepted_banks")."""
    if home.id == serving.id:
        return
    if not home_policy.accepts(serving.id):
        raise Refused(f"{home.name_zh}'s policy does not let its members use credit in {serving.name_zh}; "
                      "add that bank to accepted_banks first", rule="accepted_banks")
    if not serving_policy.accepts(home.id):
        raise Refused(f"{serving.name_zh}'s policy does not accept credit from {home.name_zh}; "
                      "add that bank to its accepted_banks first", rule="accepted_banks")


def post(
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
    """`accounts.transfer`, or an entry with no postings when nothing moves (one side of a settlement)."""
    if moves:
        return accounts.transfer(session, writer, bank=bank, type=type, body=body, moves=moves, at=at,
                                 subject_id=subject_id, policy_version=policy_version)
    return journal.write(session, writer, bank=bank, type=type, body={**body, "postings": []}, at=at,
                         subject_id=subject_id, policy_version=policy_version)


def write_pair(
    session: Session,
    writer: Writer,
    *,
    first_bank: Region,
    second_bank: Region,
    first_type: str,
    second_type: str,
    first_body: Mapping[str, Any],
    second_body: Mapping[str, Any],
    first_moves: Sequence[tuple[Account, int]],
    second_moves: Sequence[tuple[Account, int]],
    at: datetime,
    subject_id: str | None = None,
    policy_version: int | None = None,
) -> Pair:
    """Write a movement between two banks as a pair of entries that name each other's leaves.

    The caller has taken `store.lock_logs` on both logs and checked every guard; the three entries
    are written all or nothing. Raises what `accounts.transfer` raises.
    """
    if first_bank.id == second_bank.id:
        raise InvalidInput("a pair joins two different banks", field="bank")
    with session.begin_nested():
        first = post(session, writer, bank=first_bank, type=first_type, body={**first_body, "to_bank": second_bank.id},
                     moves=first_moves, at=at, subject_id=subject_id, policy_version=policy_version)
        second = post(session, writer, bank=second_bank, type=second_type,
                      body={**second_body, "from_bank": first_bank.id,
                            "counterpart": first.reference(origin_of(session, first_bank))},
                      moves=second_moves, at=at, subject_id=subject_id, policy_version=policy_version)
        link = journal.write(session, writer, bank=first_bank, type="link", at=at, subject_id=subject_id,
                             body={"of": first.reference(origin_of(session, first_bank)), "kind": second_type,
                                   "counterpart": second.reference(origin_of(session, second_bank))})
    return Pair(first, second, link)


# --- settlement ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Two banks' mutual position over a period [start, end), from their clearing postings.

    `a_to_b`: credit a's members used in b (redeemed there, or given to b's members) in the period,
    so a owes it to b; `a_settled`: what a retired by settlement in the period; `a_owes_b_*`: a's
    clearing balance for b at the start and end of the period. Likewise for b. `reconciled` is
    True when each kept clearing balance equals the sum of its postings.
    """

    bank_a_id: str
    bank_b_id: str
    a_to_b: int
    b_to_a: int
    a_settled: int
    b_settled: int
    a_owes_b_opening: int
    a_owes_b_closing: int
    b_owes_a_opening: int
    b_owes_a_closing: int
    reconciled: bool

    @property
    def net(self) -> int:
        """The period's net: positive when a's members used more in b than b's did in a."""
        return self.a_to_b - self.b_to_a

    def owes(self) -> tuple[str, str, int] | None:
        """(debtor bank, creditor bank, minutes) for the period's net, or None when even."""
        if self.net == 0:
            return None
        if self.net > 0:
            return self.bank_a_id, self.bank_b_id, self.net
        return self.bank_b_id, self.bank_a_id, -self.net


@dataclass
class _Side:
    used: int = 0
    settled: int = 0
    opening: int = 0
    closing: int = 0
    reconciled: bool = True


def settlement_report(session: Session, *, start: datetime, end: datetime) -> list[Position]:
    """For every pair of banks with a clearing account between them, what each bank's members used
    in the other during [start, end) and the resulting positions, derived from the postings.

    Raises InvalidInput when `end` is not after `start`.
    """
    if end <= start:
        raise InvalidInput("end must be after start", field="end")
    in_period = sa.and_(Posting.at >= start, Posting.at < end)
    def total(condition: sa.ColumnElement[bool]) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, Posting.amount), else_=0)), 0)

    rows = session.execute(
        sa.select(Account.bank_id, Account.owner_id, Account.balance,
                  total(sa.and_(in_period, Posting.amount > 0)), total(sa.and_(in_period, Posting.amount < 0)),
                  total(Posting.at < start), total(Posting.at < end), total(sa.true()))
        .outerjoin(Posting, Posting.account_id == Account.id)
        .where(Account.kind == "clearing", Account.unit == "credit")
        .group_by(Account.id, Account.bank_id, Account.owner_id, Account.balance)
    ).all()
    sides: dict[tuple[str, str], _Side] = {}
    for bank_id, other_id, balance, used, settled, opening, closing, everything in rows:
        sides[(bank_id, other_id)] = _Side(int(used), -int(settled), int(opening), int(closing),
                                           int(balance) == int(everything))
    order = {bank.id: i for i, bank in enumerate(list_banks(session))}

    def rank(bank_id: str) -> tuple[int, str]:
        return order.get(bank_id, len(order)), bank_id

    pairs = {tuple(sorted(key, key=rank)) for key in sides}
    positions = []
    for a, b in sorted(pairs, key=lambda pair: (rank(pair[0]), rank(pair[1]))):
        ab, ba = sides.get((a, b), _Side()), sides.get((b, a), _Side())
        positions.append(Position(a, b, ab.used, ba.used, ab.settled, ba.settled, ab.opening, ab.closing,
                                  ba.opening, ba.closing, ab.reconciled and ba.reconciled))
    return positions


def _balance(session: Session, bank: Region, other: Region) -> int:
    return int(session.scalar(sa.select(Account.balance).where(
        Account.bank_id == bank.id, Account.unit == "credit", Account.kind == "clearing",
        Account.owner_id == other.id)) or 0)


def _check_settler(session: Session, staff_id: str, a: Region, b: Region) -> None:
    staff = people.get_staff(session, staff_id)
    region = get_region(session, staff.region_id)
    if staff.role != "administrator" or not (covers(region, a) or covers(region, b)):
        raise NotPermitted(f"staff {staff_id} is not an administrator over {a.name_zh} or {b.name_zh}; "
                           "an administrator of one of the two banks settles", field="settled_by")


def settle(
    session: Session,
    writer: Writer,
    *,
    bank_a_id: str,
    bank_b_id: str,
    settled_by: str,
    at: datetime,
    idempotency_key: str | None = None,
) -> Settlement:
    """Retire both banks' clearing balances for each other against their own issuance: a writes
    clearing[b] −x, issuance +x; b writes clearing[a] −y, issuance +y and names a's entry; a links
    b's. The settlement records x, y and the net (positive: a owed b on balance).

    `settled_by` is an administrator covering one of the two banks.
    Raises NotFound (bank, staff), InvalidInput (not two banks), NotPermitted (settled_by),
    Conflict (nothing to settle; an idempotency key reused for another request).
    """
    a, b = get_region(session, bank_a_id), get_region(session, bank_b_id)
    if not (a.is_bank and b.is_bank) or a.id == b.id:
        raise InvalidInput("settlement is between two different banks", field="bank_b_id")
    assert a.log_id is not None and b.log_id is not None
    store.lock_logs(session, [a.log_id, b.log_id])
    params = {"a": a.id, "b": b.id, "by": settled_by}
    done = idempotency.replay(session, idempotency_key, "interbank.settle", params)
    if done is not None:
        return session.get_one(Settlement, done)
    _check_settler(session, settled_by, a, b)
    x, y = _balance(session, a, b), _balance(session, b, a)
    if x == 0 and y == 0:
        raise Conflict(f"{a.name_zh} and {b.name_zh} owe each other nothing; nothing to settle", field="bank_b_id")
    settlement_id = new_id("stl")
    with session.begin_nested():
        a_moves = [(clearing_account(session, bank=a, other=b, at=at), -x),
                   (accounts.bank_account(session, a, "issuance", at), x)] if x else []
        b_moves = [(clearing_account(session, bank=b, other=a, at=at), -y),
                   (accounts.bank_account(session, b, "issuance", at), y)] if y else []
        pair = write_pair(
            session, writer, first_bank=a, second_bank=b, first_type="settlement", second_type="settlement",
            first_body={"settlement": settlement_id, "owed": x, "owed_to_us": y, "net": x - y, "by": settled_by},
            second_body={"settlement": settlement_id, "owed": y, "owed_to_us": x, "net": y - x, "by": settled_by},
            first_moves=a_moves, second_moves=b_moves, at=at, subject_id=settlement_id)
        settlement = Settlement(id=settlement_id, bank_a_id=a.id, bank_b_id=b.id, a_owed=x, b_owed=y, net=x - y,
                                settled_by=settled_by, a_entry_id=pair.first.id, b_entry_id=pair.second.id,
                                link_entry_id=pair.link.id, at=at)
        session.add(settlement)
        session.flush()
        idempotency.remember(session, idempotency_key, "interbank.settle", params, settlement.id, at)
    return settlement


def settlements(session: Session, bank_id: str) -> list[Settlement]:
    """Settlements a bank took part in, newest first."""
    return list(session.scalars(sa.select(Settlement).where(
        sa.or_(Settlement.bank_a_id == bank_id, Settlement.bank_b_id == bank_id)).order_by(Settlement.at.desc())))
