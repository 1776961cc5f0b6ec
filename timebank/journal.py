"""Domain entries in the ledger: every state change that matters is one leaf, written in the same
transaction as the change, with a row here that points at it (log, index, leaf hash)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.writer import Writer

from .model import Base, new_id
from .regions import Region

ENTRY_TYPES = (
    "bank",          # a bank opened its log
    "policy",        # a policy version was set
    "record",        # a service record changed state (submitted, confirmed, disputed, rejected, rated)
    "deposit",       # a verified record posted as credit
    "reversal",      # a posted entry cancelled, naming the seq it corrects
    "redemption",    # credit held, released or paid for a redeemed service
    "away",          # the other bank's side of a redemption away from home (通存通兑)
    "link",          # names the other bank's entry of a pair, closing the cross reference
    "settlement",    # clearing positions between two banks retired
    "gift",          # credit given to a relative
    "estate",        # credit of a deceased person passed on
    "points",        # points spent on goods
    "expiry",        # credit expired by policy
    "status",        # a volunteer's or elder's status changed
    "care",          # a care agreement signed or ended
    "school",        # a student linked to or unlinked from a school (consent recorded)
    "certificate",   # a certificate (志愿服务证明) issued
    "recognition",   # a recognition level reached, or an award or honour granted
    "dispatch",      # a volunteer sent to give a requested (redeemed) service
)


class Entry(Base):
    """A domain leaf: where it is in which log, and what it was about."""

    __tablename__ = "entry"
    __table_args__ = (sa.UniqueConstraint("log_id", "seq"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    log_id: Mapped[str] = mapped_column(sa.String(64))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    leaf_hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    type: Mapped[str] = mapped_column(sa.String(20))
    subject_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    policy_version: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(index=True)

    def reference(self, origin: str) -> dict[str, Any]:
        """How another log's leaf names this one: origin, index and leaf hash."""
        return {"origin": origin, "index": self.seq, "leaf_hash": base64.b64encode(self.leaf_hash).decode("ascii")}

    def receipt(self) -> dict[str, Any]:
        return {"log": self.log_id, "index": self.seq, "leaf_hash": base64.b64encode(self.leaf_hash).decode("ascii")}


def commitment(*parts: str | None) -> tuple[str, str]:
    """A salted commitment to text that must not be public (a reason, a comment): returns
    (salt, digest), both base64; keep the salt and text in the database, publish only the digest."""
    salt = secrets.token_bytes(16)
    text = "\n".join(p or "" for p in parts).encode("utf-8")
    return base64.b64encode(salt).decode(), base64.b64encode(hashlib.sha256(salt + text).digest()).decode()


def check_commitment(salt: str, digest: str, *parts: str | None) -> bool:
    text = "\n".join(p or "" for p in parts).encode("utf-8")
    expected = base64.b64encode(hashlib.sha256(base64.b64decode(salt) + text).digest()).decode()
    return secrets.compare_digest(expected, digest)


def write(
    session: Session,
    writer: Writer,
    *,
    bank: Region,
    type: str,
    body: Mapping[str, Any],
    at: datetime,
    subject_id: str | None = None,
    policy_version: int | None = None,
) -> Entry:
    """Append one leaf `{"type", "bank", "policy"?, **body}` to the bank's log and record where it went.

    `body` must hold opaque ids only, never personal data. Raises what `Writer.append` raises.
    """
    assert type in ENTRY_TYPES, type
    assert bank.log_id is not None, "only a bank has a log"
    leaf: dict[str, Any] = {"type": type, "bank": bank.id, **body}
    if policy_version is not None:
        leaf["policy"] = policy_version
    (receipt,) = writer.append(session, bank.log_id, [leaf], at=at)
    entry = Entry(
        id=new_id("ent"),
        bank_id=bank.id,
        log_id=bank.log_id,
        seq=receipt.index,
        leaf_hash=receipt.leaf_hash,
        type=type,
        subject_id=subject_id,
        policy_version=policy_version,
        at=at,
    )
    session.add(entry)
    session.flush()
    return entry


def entries_about(session: Session, subject_id: str) -> list[Entry]:
    """Every entry about one record, redemption or person, oldest first."""
    return list(session.scalars(sa.select(Entry).where(Entry.subject_id == subject_id).order_by(Entry.at, Entry.seq)))
