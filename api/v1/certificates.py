"""Certificates (志愿服务证明): issued from verified records, verifiable by anyone, superseded by reversals."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from timebank import certificate_pdf, journal
from timebank.certificates import (
    Certificate,
    get_certificate,
    hours_text,
    issue_certificate,
    public_facts,
    signed_certificate,
    verify_certificate,
)
from timebank.errors import NotFound
from timebank.people import Volunteer, where

from .. import access, auth
from ..db import get_session
from ..paging import PageQuery, page
from ..transact import commits, writes
from .certificates_schemas import CertificatePage, IssueBody, IssuedOut, LangQuery, SignedOut, VerificationOut
from .common import now, sealer, writer

blp = Blueprint("certificates", __name__, url_prefix="/api/v1",
                description="Certificates (志愿服务证明): issued from verified records, verifiable by anyone, "
                            "superseded when a record behind them is reversed.")

ISSUERS = ("volunteer", *auth.STAFF_ROLES)


def page_url(number: str) -> str:
    """The absolute address of the public verification page, from this request's host."""
    return f"{request.host_url.rstrip('/')}/certificates/{number}"


def _own_certificate(session: Session, who: auth.Caller, number: str) -> Certificate:
    """The certificate, if the caller is its volunteer or staff covering them. Raises NotFound."""
    try:
        cert = get_certificate(session, number)
        access.check_person(session, who, cert.volunteer_id)
    except NotFound:
        raise NotFound(f"no certificate {number!r}", field="number") from None
    if not (who.subject_id == cert.volunteer_id or who.is_staff):
        raise NotFound(f"no certificate {number!r}", field="number")
    return cert


def _name(cert: Certificate) -> str:
    return sealer().open(cert.name_sealed, where=where(cert, "name_sealed")) or ""


def _item(session: Session, cert: Certificate) -> dict[str, Any]:
    entry = session.get(journal.Entry, cert.entry_id)
    return {"id": cert.id, "number": cert.number, "start": cert.period_start.isoformat(),
            "end": cert.period_end.isoformat(), "minutes": cert.minutes, "hours": hours_text(cert.minutes),
            "issued_on": cert.issued_on.isoformat(), "receipt": entry.receipt() if entry else None}


@blp.route("/certificates", methods=["POST"])
@writes
@blp.arguments(IssueBody)
@blp.response(201, IssuedOut)
def issue(body: dict[str, Any]) -> dict[str, Any]:
    """Issue a certificate of the volunteer's verified service in a period: the volunteer for
    themself, or staff covering them. The response names the volunteer only masked (张*华)."""
    who = auth.require(*ISSUERS)
    session = get_session()
    person = access.check_person(session, who, body["volunteer_id"])
    if not isinstance(person, Volunteer) or (not who.is_staff and who.subject_id != person.id):
        raise NotFound(f"no volunteer {body['volunteer_id']!r}", field="volunteer_id")
    cert = issue_certificate(session, writer(), sealer(), volunteer_id=person.id, start=body["start"],
                             end=body["end"], issued_by=who.subject_id or "", at=now(), lang=body["lang"])
    entry = session.get(journal.Entry, cert.entry_id)
    return {"id": cert.id, "number": cert.number, "volunteer_id": cert.volunteer_id,
            "facts": public_facts(cert, _name(cert)), "receipt": entry.receipt() if entry else None}


@blp.route("/certificates/<number>", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, VerificationOut)
def verify(number: str) -> dict[str, Any]:
    """Verify a certificate (public, no sign-in): its facts with the least personal data, its status
    (valid, superseded by a reversal, or invalid), its ledger entry and the deposit entries behind it,
    each with an inclusion proof against the bank's latest signed checkpoint."""
    return verify_certificate(get_session(), sealer(), number=number).as_json()


@blp.route("/certificates/<number>/signed", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, SignedOut)
def signed(number: str) -> dict[str, Any]:
    """The machine-readable certificate (public): the verification as one line of canonical JSON in a
    C2SP signed note, signed with the home bank's log key; check it with the `vkey` that the ledger
    publishes for that log (GET /ledger/logs)."""
    result = signed_certificate(get_session(), writer(), sealer(), number=number)
    return {"note": result.note.decode("utf-8"), "vkey": result.vkey, "document": result.document}


@blp.route("/certificates/<number>.pdf", methods=["GET"])
@commits
@blp.arguments(LangQuery, location="query")
@blp.response(200, content_type="application/pdf", description="the certificate, A4 PDF")
def pdf(query: dict[str, Any], number: str) -> Response:
    """The printable certificate (A4 PDF, Chinese or `?lang=en`) with a QR code to its public
    verification page: the volunteer, or staff covering them. Shows the full name: logged."""
    who = auth.require(*ISSUERS)
    session = get_session()
    cert = _own_certificate(session, who, number)
    name = _name(cert)
    facts = {**public_facts(cert, name), "name": name, "url": page_url(cert.number)}
    access.log_access(session, who, cert.volunteer_id, ["name"])
    response = Response(certificate_pdf.render(facts, query["lang"]), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{cert.number}.pdf"'
    return response


@blp.route("/volunteers/<volunteer_id>/certificates", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, CertificatePage)
def list_for(query: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """A volunteer's certificates, newest number first: the volunteer, or staff covering them."""
    who = auth.require(*ISSUERS)
    session = get_session()
    person = access.check_person(session, who, volunteer_id)
    if not isinstance(person, Volunteer) or (not who.is_staff and who.subject_id != person.id):
        raise NotFound(f"no volunteer {volunteer_id!r}", field="volunteer_id")
    rows, cursor = page(session, sa.select(Certificate).where(Certificate.volunteer_id == person.id),
                        Certificate.number, limit=query["limit"], cursor=query["cursor"])
    return {"items": [_item(session, cert) for cert in rows], "next": cursor}

