"""Gifts of credit to relatives, and what happens to a person's credit on death.

A gift records the relationship (what the recipient is to the giver, one of policy.RELATIONS) in
the database; the public leaf carries only a salted commitment to it. Where the register of an
elder's relatives links the two people, the stated relationship must agree with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import accounts, idempotency, interbank, journal, people, policy
from .accounts import Account
from .errors import Conflict, InsufficientCredit, InvalidInput, Refused
from .model import Base, new_id
from .people import Elder, Relative, Volunteer
from .redemption import check_active, person_balance_at
from .regions import Region, get_region

# what B is to A, given what A is to B
INVERSE = {"spouse": "spouse", "parent": "child", "child": "parent", "grandparent": "grandchild",
           "grandchild": "grandparent", "sibling": "sibling", "other_relative": "other_relative", "friend": "friend"}
MAX_GIFT = 10_000_000


class Gift(Base):
    """Credit given by one person to another, with the relationship recorded."""

    __tablename__ = "gift"
    __table_args__ = (sa.CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    giver_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    recipient_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    giver_bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"))
    recipient_bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"))
    minutes: Mapped[int] = mapped_column(sa.BigInteger)
    relation: Mapped[str] = mapped_column(sa.String(20))  # what the recipient is to the giver
    relation_salt: Mapped[str] = mapped_column(sa.String(40))  # opens the leaf's relation_commitment
    relative_id: Mapped[str | None] = mapped_column(sa.ForeignKey("relative.id"))  # the register row that agrees
    policy_version: Mapped[int]
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))  # in the giver's bank
    away_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))  # in the recipient's bank
    link_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


class Estate(Base):
    """A deceased person's credit passed on: to their heir, or to their bank's pool."""

    __tablename__ = "estate"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    person_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    heir_id: Mapped[str | None] = mapped_column(sa.String(40))  # None: returned to the pool
    minutes: Mapped[int] = mapped_column(sa.BigInteger)
    settled_by: Mapped[str] = mapped_column(sa.String(40))
    entry_ids: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    at: Mapped[datetime]


def _check_minutes(minutes: int) -> None:
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= MAX_GIFT:
        raise InvalidInput(f"minutes must be a whole number from 1 to {MAX_GIFT}", field="minutes")


def _register_row(session: Session, giver: Volunteer | Elder, recipient: Volunteer | Elder,
                  relation: str) -> Relative | None:
    """The elder's register row linking the two, if any; InvalidInput when it says otherwise."""
    row, stated_by_row = None, None
    if isinstance(recipient, Elder):
        row = people.relation_between(session, recipient.id, giver.id)  # the giver is the elder's <row.relation>
        stated_by_row = INVERSE[row.relation] if row is not None else None
    if row is None and isinstance(giver, Elder):
        row = people.relation_between(session, giver.id, recipient.id)  # the recipient is the giver's <relation>
        stated_by_row = row.relation if row is not None else None
    if row is not None and stated_by_row != relation:
        raise InvalidInput(f"the register of relatives makes {recipient.id} the giver's {stated_by_row}, not "
                           f"{relation}; state that relation or correct the register", field="relation")
    return row


def give_credit(
    session: Session,
    writer: Writer,
    *,
    giver_id: str,
    recipient_id: str,
    minutes: int,
    relation: str,
    at: datetime,
    idempotency_key: str | None = None,
) -> Gift:
    """Give `minutes` of credit to a relative (or, where policy allows, a friend); `relation` is
    what the recipient is to the giver. In one bank: "gift" entry, giver −X, recipient +X. Across
    banks, a pair: the giver's bank writes giver −X, clearing[recipient's bank] +X; the
    recipient's bank writes issuance −X, recipient +X naming it; the giver's bank links back.

    Preconditions: both are registered, active and different; `relation` is in the giver's
    policy `gift_relations` and agrees with the register of relatives where that links them;
    across banks, both banks accept each other; the giver's balance covers X.
    Raises NotFound, InvalidInput (minutes, relation), Refused (rule self, status,
    gift_relations, accepted_banks), InsufficientCredit, Conflict (idempotency key reused).
    """
    giver, recipient = people.person(session, giver_id), people.person(session, recipient_id)
    giver_bank, recipient_bank = people.home_bank(session, giver.id), people.home_bank(session, recipient.id)
    assert giver_bank.log_id is not None and recipient_bank.log_id is not None
    store.lock_logs(session, [giver_bank.log_id, recipient_bank.log_id])
    params = {"giver": giver.id, "recipient": recipient.id, "minutes": minutes, "relation": relation}
    done = idempotency.replay(session, idempotency_key, "gifts.give", params)
    if done is not None:
        return session.get_one(Gift, done)
    session.refresh(giver)
    session.refresh(recipient)
    _check_minutes(minutes)
    if relation not in policy.RELATIONS:
        raise InvalidInput(f"relation must be one of {', '.join(policy.RELATIONS)}", field="relation")
    if giver.id == recipient.id:
        raise Refused("a gift goes to someone else; credit cannot be given to oneself", rule="self",
                      field="recipient_id")
    check_active(giver, "giver_id")
    check_active(recipient, "recipient_id")
    giver_policy = policy.effective(session, get_region(session, giver.region_id))
    if relation not in giver_policy.gift_relations:
        raise Refused(f"policy lets credit be given only to: {', '.join(giver_policy.gift_relations)}; "
                      f"not to a {relation}", rule="gift_relations")
    row = _register_row(session, giver, recipient, relation)
    recipient_policy = policy.effective(session, get_region(session, recipient.region_id), giver_policy.version)
    interbank.check_accepted(giver_bank, giver_policy, recipient_bank, recipient_policy)
    held = person_balance_at(session, giver_bank, giver.id)
    if held < minutes:
        raise InsufficientCredit(f"{giver.id} holds {held} credit minutes; {minutes} cannot be given", needed=minutes,
                                 balance=held)
    gift_id = new_id("gft")
    salt, digest = journal.commitment(relation)
    body = {"gift": gift_id, "giver": giver.id, "recipient": recipient.id, "minutes": minutes,
            "relation_commitment": digest}
    gift = Gift(id=gift_id, giver_id=giver.id, recipient_id=recipient.id, giver_bank_id=giver_bank.id,
                recipient_bank_id=recipient_bank.id, minutes=minutes, relation=relation, relation_salt=salt,
                relative_id=row.id if row is not None else None, policy_version=giver_policy.version, at=at)
    with session.begin_nested():
        giver_account = accounts.person_account(session, bank=giver_bank, person_id=giver.id, at=at)
        recipient_account = accounts.person_account(session, bank=recipient_bank, person_id=recipient.id, at=at)
        if giver_bank.id == recipient_bank.id:
            entry = accounts.transfer(session, writer, bank=giver_bank, type="gift", body=body, at=at,
                                      moves=[(giver_account, -minutes), (recipient_account, minutes)],
                                      subject_id=gift_id, policy_version=giver_policy.version)
            gift.entry_id = entry.id
        else:
            pair = _across(session, writer, giver_bank, recipient_bank, "gift", body, giver_account,
                           recipient_account, minutes, at, gift_id, giver_policy.version)
            gift.entry_id, gift.away_entry_id, gift.link_entry_id = pair.first.id, pair.second.id, pair.link.id
        session.add(gift)
        session.flush()
        idempotency.remember(session, idempotency_key, "gifts.give", params, gift.id, at)
    return gift


def _across(session: Session, writer: Writer, source: Region, target: Region, type: str, body: dict[str, Any],
            source_account: Account, target_account: Account, minutes: int, at: datetime, subject_id: str,
            policy_version: int | None) -> interbank.Pair:
    """Credit leaving `source_account` for `target_account` in another bank, as a pair."""
    return interbank.write_pair(
        session, writer, first_bank=source, second_bank=target, first_type=type, second_type=type,
        first_body=body, second_body=body,
        first_moves=[(source_account, -minutes), (interbank.clearing_account(session, bank=source, other=target,
                                                                             at=at), minutes)],
        second_moves=[(accounts.bank_account(session, target, "issuance", at), -minutes), (target_account, minutes)],
        at=at, subject_id=subject_id, policy_version=policy_version)


def gifts_of(session: Session, person_id: str) -> list[Gift]:
    """Gifts a person gave or received, newest first."""
    return list(session.scalars(sa.select(Gift).where(sa.or_(Gift.giver_id == person_id,
                                                             Gift.recipient_id == person_id))
                                .order_by(Gift.at.desc(), Gift.id)))


# --- estates ------------------------------------------------------------------------------------

def set_heir(session: Session, *, person_id: str, heir_id: str | None) -> Volunteer | Elder:
    """Name (or, with None, clear) the registered person who inherits `person_id`'s credit.

    Raises NotFound (person, heir), InvalidInput (oneself), Conflict (the person has died: heirs are
    named in life), Refused (rule status: the heir has died).
    """
    person = people.person(session, person_id)
    if person.status == "deceased":
        raise Conflict(f"{person.id} has died; an heir is named in life", field="person_id")
    if heir_id is not None:
        heir = people.person(session, heir_id)
        if heir.id == person.id:
            raise InvalidInput("a person is not their own heir", field="heir_id")
        if heir.status == "deceased":
            raise Refused(f"{heir.id} has died and cannot inherit", rule="status", field="heir_id")
    person.heir_id = heir_id
    session.flush()
    return person


def settle_estate(
    session: Session,
    writer: Writer,
    *,
    person_id: str,
    settled_by: str,
    at: datetime,
    idempotency_key: str | None = None,
) -> Estate:
    """Pass a deceased person's whole credit on: to their heir ("estate" entry, person −X, heir
    +X; a pair when the heir's bank is another), or, with no living heir, to the bank's pool.
    Estates are inheritance, not redemption: `accepted_banks` does not apply.

    `settled_by` is staff covering the person's region. Credit arriving after a settlement (a late
    record) can be settled again.
    Raises NotFound (person, staff), NotPermitted (settled_by), Conflict (not deceased; nothing
    left to settle; idempotency key reused).
    """
    person = people.person(session, person_id)
    heir = people.person(session, person.heir_id) if person.heir_id else None
    heir_bank = people.home_bank(session, heir.id) if heir is not None else None
    held = list(session.scalars(sa.select(Account).where(
        Account.kind == "person", Account.unit == "credit", Account.owner_id == person.id, Account.balance > 0)
        .order_by(Account.bank_id)))
    banks = {acc.bank_id: get_region(session, acc.bank_id) for acc in held}
    if heir_bank is not None:
        banks[heir_bank.id] = heir_bank
    store.lock_logs(session, [bank.log_id for bank in banks.values() if bank.log_id])
    params = {"person": person.id, "by": settled_by}
    done = idempotency.replay(session, idempotency_key, "gifts.estate", params)
    if done is not None:
        return session.get_one(Estate, done)
    session.refresh(person)
    if person.status != "deceased":
        raise Conflict(f"{person.id} is {person.status}; an estate is settled only after death is recorded",
                       field="person_id")
    people.get_staff(session, settled_by, region_id=person.region_id)
    balances = {acc.id: accounts.balance_of(session, acc.id) for acc in held}
    total = sum(balances.values())
    if total <= 0:
        raise Conflict(f"{person.id} has no credit left; the estate is already settled", field="person_id")
    if heir is not None and heir.status == "deceased":
        heir, heir_bank = None, None
    estate = Estate(id=new_id("est"), person_id=person.id, heir_id=heir.id if heir else None, minutes=total,
                    settled_by=settled_by, entry_ids=[], at=at)
    entry_ids: list[str] = []
    with session.begin_nested():
        for acc in held:
            amount, bank = balances[acc.id], banks[acc.bank_id]
            if amount <= 0:
                continue
            body = {"estate": estate.id, "person": person.id, "heir": estate.heir_id, "minutes": amount,
                    "to": "heir" if heir else "pool", "by": settled_by}
            if heir is not None and heir_bank is not None and heir_bank.id != bank.id:
                heir_account = accounts.person_account(session, bank=heir_bank, person_id=heir.id, at=at)
                pair = _across(session, writer, bank, heir_bank, "estate", body, acc, heir_account, amount, at,
                               estate.id, None)
                entry_ids += [pair.first.id, pair.second.id, pair.link.id]
                continue
            target = (accounts.person_account(session, bank=bank, person_id=heir.id, at=at) if heir is not None
                      else accounts.bank_account(session, bank, "pool", at))
            entry_ids.append(accounts.transfer(session, writer, bank=bank, type="estate", body=body, at=at,
                                               moves=[(acc, -amount), (target, amount)], subject_id=estate.id).id)
        estate.entry_ids = entry_ids
        session.add(estate)
        session.flush()
        idempotency.remember(session, idempotency_key, "gifts.estate", params, estate.id, at)
    return estate
