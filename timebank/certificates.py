"""Certificates (志愿服务证明): issued from verified records, verifiable by anyone, superseded by reversals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import canonical, store
from ledger.errors import CanonicalError, LedgerError
from ledger.note import Verifier
from ledger.writer import Writer

from . import journal
from .catalogue import CatalogueItem
from . import recognition
from .checks import CHINA, a_date, aware, china_date, china_days
from .errors import Conflict, InvalidInput, NotFound, NotPermitted, Refused
from .model import Base, new_id
from .people import Staff, Volunteer, get_staff, get_volunteer, masked_name, opened, seal_into, where
from .records import ServiceRecord
from .regions import bank_of, get_region
from .sealing import Sealer

NOTE_HEADER = "timebank.certificate/v1"  # first line of a signed certificate note: never a checkpoint origin
MAX_PERIOD_DAYS = 366 * 10


class Certificate(Base):
    """One issued certificate: the facts as issued (frozen), their salted digest and its ledger entry."""

    __tablename__ = "certificate"
    __table_args__ = (sa.UniqueConstraint("year", "serial"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    year: Mapped[int] = mapped_column(sa.Integer)
    serial: Mapped[int] = mapped_column(sa.Integer)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    name_sealed: Mapped[str] = mapped_column(sa.Text)  # the name as issued
    period_start: Mapped[date]
    period_end: Mapped[date]
    minutes: Mapped[int] = mapped_column(sa.Integer)
    record_ids: Mapped[list[Any]] = mapped_column(sa.JSON)
    content: Mapped[list[Any]] = mapped_column(sa.JSON)  # [{code, name_zh, name_en, minutes, records}]
    recognition: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)  # levels held and awards, at issue
    bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"))
    unit_zh: Mapped[str] = mapped_column(sa.String(100))
    unit_en: Mapped[str] = mapped_column(sa.String(100))
    issued_on: Mapped[date]
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(sa.String(40))
    lang: Mapped[str] = mapped_column(sa.String(2))
    salt: Mapped[str] = mapped_column(sa.String(40))
    digest: Mapped[str] = mapped_column(sa.String(64))
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))


SEALED_COLUMNS: dict[type[Base], tuple[str, ...]] = {Certificate: ("name_sealed",)}


def hours_text(minutes: int) -> str:
    """Minutes as hours with two decimals, rounded half up ("12.50"): text, so no float reaches the ledger."""
    return str((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))



def mask_name(name: str) -> str:
    """The name as a certificate shows it publicly: first and last character kept (张*华)."""
    return masked_name(name, keep_last=True)


def facts_of(cert: Certificate, name: str) -> dict[str, Any]:
    """Every fact the digest commits to, the full name included (canonical-JSON ready)."""
    return {
        "number": cert.number,
        "volunteer": cert.volunteer_id,
        "name": name,
        "start": cert.period_start.isoformat(),
        "end": cert.period_end.isoformat(),
        "minutes": cert.minutes,
        "hours": hours_text(cert.minutes),
        "records": list(cert.record_ids),
        "content": [{"code": c["code"], "minutes": c["minutes"], "records": c["records"]} for c in cert.content],
        "recognition": [dict(r) for r in cert.recognition or []],
        "bank": cert.bank_id,
        "unit_zh": cert.unit_zh,
        "unit_en": cert.unit_en,
        "issued_on": cert.issued_on.isoformat(),
    }


def facts_digest(salt: str, facts: dict[str, Any]) -> str:
    """base64(SHA-256(salt ‖ canonical JSON of `facts`)): in the ledger leaf instead of the facts."""
    return base64.b64encode(hashlib.sha256(base64.b64decode(salt) + canonical.encode(facts)).digest()).decode()


def _issuer(session: Session, volunteer: Volunteer, issued_by: str) -> str:
    if issued_by == volunteer.id:
        return issued_by
    if session.get(Staff, issued_by) is None:
        raise NotPermitted("a certificate is issued by the volunteer themself or staff covering their region",
                           field="issued_by")
    return get_staff(session, issued_by, region_id=volunteer.region_id).id


def _recognition(session: Session, volunteer_id: str, at: datetime) -> list[dict[str, Any]]:
    """What the certificate shows of the volunteer's recognition at issue: the level held in each
    scheme (星级 and others) and every award or honour, with its granting unit."""
    shown: list[dict[str, Any]] = []
    for row in recognition.standing(session, volunteer_id=volunteer_id, at=at):
        level, scheme = row["current"], row["scheme"]
        if level is not None:
            shown.append({"kind": "level", "scheme": scheme.code, "level": level["level"],
                          "name_zh": f"{scheme.name_zh} {level['name_zh']}",
                          "name_en": f"{scheme.name_en} {level['name_en']}"})
    for award in recognition.awards_of(session, volunteer_id):
        shown.append({"kind": award.kind, "name_zh": award.name, "name_en": award.name, "unit": award.granting_unit,
                      "granted_on": award.granted_on.isoformat()})
    return shown


def _next_serial(session: Session, year: int) -> int:
    top = session.scalar(sa.select(sa.func.max(Certificate.serial)).where(Certificate.year == year))
    return (top or 0) + 1


def issue_certificate(
    session: Session, writer: Writer, sealer: Sealer, *, volunteer_id: str, start: date, end: date, issued_by: str,
    at: datetime, lang: str = "zh",
) -> Certificate:
    """Certify the volunteer's posted records served in the China days `start`..`end` (inclusive).

    Writes a "certificate" leaf in the volunteer's home bank holding the certificate and volunteer
    ids, the number, the minutes and hours and a salted digest of all the facts (the name included);
    the name itself never enters the ledger.
    Raises InvalidInput (start, end, lang), NotFound (volunteer, staff), NotPermitted (issued_by
    neither the volunteer nor staff covering them), Refused (no posted records in the period),
    Conflict (another bank's concurrent issue took the number: the session must be rolled back).
    """
    at = aware(at, "at")
    start, end = a_date(start, "start"), a_date(end, "end")
    if end < start:
        raise InvalidInput("end must be on or after start", field="end")
    if end > china_date(at):
        raise InvalidInput("end must not be in the future (China time)", field="end")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput("a certificate covers at most ten years", field="start")
    if lang not in ("zh", "en"):
        raise InvalidInput("lang must be zh or en", field="lang")
    volunteer = get_volunteer(session, volunteer_id)
    issuer = _issuer(session, volunteer, issued_by)
    bank = bank_of(session, get_region(session, volunteer.region_id))
    store.lock_logs(session, [bank.log_id or ""])
    lo, hi = china_days(start, date.fromordinal(end.toordinal() + 1))
    records = list(session.scalars(
        sa.select(ServiceRecord).where(ServiceRecord.volunteer_id == volunteer.id, ServiceRecord.status == "posted",
                                       ServiceRecord.started_at >= lo, ServiceRecord.started_at < hi)
        .order_by(ServiceRecord.started_at, ServiceRecord.id)))
    if not records:
        raise Refused(f"volunteer {volunteer.id} has no verified (posted) service records from {start} to {end}; "
                      "choose a period with verified service", rule="no_records")
    content: dict[str, dict[str, Any]] = {}
    for record in records:
        item = session.get(CatalogueItem, record.catalogue_code)
        row = content.setdefault(record.catalogue_code, {
            "code": record.catalogue_code, "name_zh": item.name_zh if item else record.catalogue_code,
            "name_en": item.name_en if item else record.catalogue_code, "minutes": 0, "records": 0})
        row["minutes"] += record.minutes
        row["records"] += 1
    year = at.astimezone(CHINA).year
    serial = _next_serial(session, year)
    cert = Certificate(
        id=new_id("crt"), number=f"TB-{year}-{serial:06d}", year=year, serial=serial, volunteer_id=volunteer.id,
        period_start=start, period_end=end, minutes=sum(r.minutes for r in records),
        record_ids=[r.id for r in records], content=sorted(content.values(), key=lambda c: (-c["minutes"], c["code"])),
        bank_id=bank.id, unit_zh=bank.name_zh, unit_en=bank.name_en, issued_on=china_date(at), issued_at=at,
        issued_by=issuer, lang=lang, salt=base64.b64encode(secrets.token_bytes(16)).decode(),
        recognition=_recognition(session, volunteer.id, at),
    )
    name = opened(sealer, volunteer)["name"] or ""
    seal_into(sealer, cert, name=name)
    cert.digest = facts_digest(cert.salt, facts_of(cert, name))
    entry = journal.write(session, writer, bank=bank, type="certificate", at=at, subject_id=cert.id, body={
        "certificate": cert.id, "number": cert.number, "volunteer": volunteer.id, "minutes": cert.minutes,
        "hours": hours_text(cert.minutes), "facts_digest": cert.digest})
    cert.entry_id = entry.id
    session.add(cert)
    try:
        session.flush()
    except IntegrityError as exc:  # another bank took this number in a concurrent transaction
        raise Conflict(f"certificate number {cert.number} was just taken; roll back and try again",
                       field="number") from exc
    return cert


def get_certificate(session: Session, number: str) -> Certificate:
    """The certificate numbered `number`. Raises NotFound."""
    cert = session.scalar(sa.select(Certificate).where(Certificate.number == number))
    if cert is None:
        raise NotFound(f"no certificate {number!r}", field="number")
    return cert


def certificates_of(session: Session, volunteer_id: str) -> list[Certificate]:
    """A volunteer's certificates, newest first."""
    return list(session.scalars(sa.select(Certificate).where(Certificate.volunteer_id == volunteer_id)
                                .order_by(Certificate.year.desc(), Certificate.serial.desc())))


# -- verification --------------------------------------------------------------------------------


@dataclass
class Verification:
    """What anyone may learn of a certificate, and whether it stands.

    status: "valid"; "superseded" (a record behind it was reversed after issue: `reversed` names
    them); "invalid" (the stored facts no longer match the digest in the signed leaf: `problems`).
    """

    number: str
    status: str
    facts: dict[str, Any]
    certificate_entry: dict[str, Any]
    records: list[dict[str, Any]]
    checkpoints: dict[str, dict[str, Any]]
    reversed: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "status": self.status, "facts": self.facts,
                "certificate_entry": self.certificate_entry, "records": self.records,
                "checkpoints": self.checkpoints, "reversed": self.reversed, "problems": self.problems}


def public_facts(cert: Certificate, name: str) -> dict[str, Any]:
    """The facts with the least personal data: the name masked, no ids of people."""
    return {
        "number": cert.number, "name": mask_name(name), "start": cert.period_start.isoformat(),
        "end": cert.period_end.isoformat(), "minutes": cert.minutes, "hours": hours_text(cert.minutes),
        "content": [dict(c) for c in cert.content], "unit_zh": cert.unit_zh, "unit_en": cert.unit_en,
        "issued_on": cert.issued_on.isoformat(), "record_count": len(cert.record_ids),
        "recognition": [dict(r) for r in cert.recognition or []],
    }


def _proof(session: Session, entry: journal.Entry, checkpoints: dict[str, dict[str, Any]]) -> dict[str, Any]:
    proof = store.prove_inclusion(session, entry.log_id, entry.seq)
    if entry.log_id not in checkpoints:
        info = store.get_log(session, entry.log_id)
        checkpoints[entry.log_id] = {"origin": info.origin, "vkey": info.vkey, "size": proof.tree_size,
                                     "root": base64.b64encode(proof.root).decode(),
                                     "note": proof.checkpoint.decode("utf-8")}
    return {**entry.receipt(), "tree_size": proof.tree_size,
            "path": [base64.b64encode(h).decode() for h in proof.path]}


def verify_certificate(session: Session, sealer: Sealer, *, number: str) -> Verification:
    """Check a certificate against the ledger: its leaf's digest against the stored facts, and every
    record behind it still posted; with inclusion proofs against each log's latest checkpoint.

    Needs the sealer to open the name the digest covers. Raises NotFound.
    """
    cert = get_certificate(session, number)
    name = sealer.open(cert.name_sealed, where=where(cert, "name_sealed")) or ""
    problems: list[str] = []
    checkpoints: dict[str, dict[str, Any]] = {}
    entry = session.get(journal.Entry, cert.entry_id)
    assert entry is not None
    try:
        (leaf_bytes,) = store.read_leaves(session, entry.log_id, entry.seq, entry.seq + 1)
        leaf = canonical.decode(leaf_bytes)
        cert_proof = _proof(session, entry, checkpoints)
    except LedgerError as exc:
        problems.append(f"the certificate's ledger entry cannot be read: {exc}")
        leaf, cert_proof = {}, entry.receipt()
    expected = facts_digest(cert.salt, facts_of(cert, name))
    if not hmac.compare_digest(str(leaf.get("facts_digest", "")), expected):
        problems.append("the certificate's facts do not match the digest in its ledger entry")
    if not hmac.compare_digest(expected, cert.digest):
        problems.append("the stored digest does not match the certificate's facts")
    for key, value in (("number", cert.number), ("certificate", cert.id), ("minutes", cert.minutes),
                       ("hours", hours_text(cert.minutes))):
        if leaf and leaf.get(key) != value:
            problems.append(f"the ledger entry's {key} differs from the certificate's")
    records = []
    gone = []
    for record_id in cert.record_ids:
        record = session.get(ServiceRecord, record_id)
        deposit = session.get(journal.Entry, record.deposit_entry_id) if record and record.deposit_entry_id else None
        if record is None or deposit is None:
            problems.append(f"record {record_id} or its deposit entry is missing")
            continue
        records.append({"record": record.id, "code": record.catalogue_code, "minutes": record.minutes,
                        "status": record.status, "deposit": _proof(session, deposit, checkpoints)})
        if record.status == "reversed":
            reversal = session.get(journal.Entry, record.reversal_entry_id) if record.reversal_entry_id else None
            gone.append({"record": record.id, "reversed_at": record.reversed_at.isoformat() if record.reversed_at
                         else None, "reversal": _proof(session, reversal, checkpoints) if reversal else None})
    status = "invalid" if problems else "superseded" if gone else "valid"
    return Verification(cert.number, status, public_facts(cert, name), cert_proof, records, checkpoints, gone,
                        problems)


@dataclass(frozen=True)
class SignedCertificate:
    """The machine-readable version: a C2SP signed note, by the home bank's log key, over
    `NOTE_HEADER` and one line of canonical JSON; `vkey` checks it."""

    text: bytes
    note: bytes
    vkey: str
    document: dict[str, Any]


def signed_certificate(session: Session, writer: Writer, sealer: Sealer, *, number: str) -> SignedCertificate:
    """The verification, signed with the certificate's bank log key. Raises NotFound, KeyFileError."""
    verification = verify_certificate(session, sealer, number=number)
    cert = get_certificate(session, number)
    bank = get_region(session, cert.bank_id)
    info = store.get_log(session, bank.log_id or "")
    document = {"type": "certificate", "log": info.id, "origin": info.origin, **verification.as_json()}
    text = f"{NOTE_HEADER}\n".encode() + canonical.encode(document) + b"\n"
    note = writer.keyring.signer(info.id, info.origin).sign(text)
    return SignedCertificate(text, note, info.vkey, document)


def open_signed(note: bytes, vkey: str) -> dict[str, Any]:
    """Check a signed certificate note with the bank's published `vkey`; return its document.

    Raises CheckpointError (bad signature) and CanonicalError (not a certificate note)."""
    text = Verifier.from_vkey(vkey).open(note)
    header, _, body = text.partition(b"\n")
    if header.decode() != NOTE_HEADER:
        raise CanonicalError(f"not a certificate note (first line {header[:40]!r})")
    document: dict[str, Any] = canonical.decode(body.rstrip(b"\n"))
    return document
