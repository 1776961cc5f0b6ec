"""The volunteer's time credit: the balance and its history from the ledger's postings, giving
credit to a relative (with a confirm step, once per form), and certificates of verified service."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from timebank import accounts, certificate_pdf, gifts, policy, users
from timebank.certificates import (
    Certificate,
    certificates_of,
    get_certificate,
    issue_certificate,
    public_facts,
)
from timebank.checks import CHINA, china_date
from timebank.errors import DomainError, InsufficientCredit, NotFound
from timebank.people import Elder, Relative, masked_name, where
from timebank.regions import get_region

from .. import auth
from .explain import explain
from .forms import Form
from .language import english
from .views import FORM_KEY, change, form_key, new_form_key, sealer, writer
from .volunteer_common import Me, bp, hours, me

PER_PAGE = 30
# what the recipient is to the volunteer
RELATION_WORDS = {"spouse": _l("your spouse"), "parent": _l("your parent"), "grandparent": _l("your grandparent"),
                  "child": _l("your child"), "grandchild": _l("your grandchild"), "sibling": _l("your sibling"),
                  "other_relative": _l("your relative"), "friend": _l("your friend")}
# a posting's entry type (and sign) → what happened, in words
MOVES = {("deposit", 1): _l("Service verified"), ("reversal", -1): _l("Correction: a record was cancelled"),
         ("gift", -1): _l("Given to a relative"), ("gift", 1): _l("Received as a gift"),
         ("redemption", -1): _l("Used for care"), ("redemption", 1): _l("Returned or paid for care"),
         ("away", -1): _l("Used for care in another time bank"), ("away", 1): _l("Received from another time bank"),
         ("estate", 1): _l("Inherited"), ("estate", -1): _l("Passed on"), ("expiry", -1): _l("Expired")}


# --- balance and history ------------------------------------------------------------------------

@bp.get("/volunteer/credit")
def credit() -> str:
    """The balance and every movement of it, newest first, a page at a time (`?before=<posting>`)."""
    mine = me()
    session = mine.session
    try:
        before: int | None = int(request.args.get("before", "0"))
    except ValueError:
        before = None
    if before is not None and not 0 < before < 2**62:
        before = None  # not a posting id of a previous page: start from the newest
    rows = accounts.person_history(session, mine.volunteer.id, unit="credit", before=before, limit=PER_PAGE + 1)
    more, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
    moves = [{"at": posting.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"), "amount": posting.amount,
              "words": str(MOVES.get((entry.type, 1 if posting.amount > 0 else -1), _("Other"))),
              "hours": hours(posting.amount), "receipt": entry.receipt()} for posting, _account, entry in rows]
    balance = accounts.person_balance(session, mine.volunteer.id)
    return render_template("web/volunteer/credit.html", balance=balance, balance_words=hours(balance), moves=moves,
                           following=rows[-1][0].id if more and rows else None)


# --- giving to a relative -----------------------------------------------------------------------

def _relatives(session: Session, mine: Me) -> dict[str, tuple[str, str]]:
    """Elder id → (relation, "刘** (your parent)") for each registered, active relative the
    volunteer's policy lets them give to. The register links a volunteer to an elder as the
    elder's <relation>; the elder is then the volunteer's inverse of it."""
    allowed = policy.effective(session, get_region(session, mine.volunteer.region_id)).gift_relations
    found: dict[str, tuple[str, str]] = {}
    for row in session.scalars(sa.select(Relative).where(Relative.person_id == mine.volunteer.id,
                                                         Relative.removed_at.is_(None)).order_by(Relative.added_at)):
        elder = session.get(Elder, row.elder_id)
        relation = gifts.INVERSE.get(row.relation, "")
        if elder is None or elder.status != "active" or relation not in allowed:
            continue
        name = sealer().open(elder.name_sealed, where=where(elder, "name_sealed")) or ""
        found[elder.id] = (relation, _("%(name)s (%(relation)s)", name=masked_name(name),
                                             relation=RELATION_WORDS[relation]))
    if found:
        users.record_access(session, user_id=mine.who.user_id, action="read", subject_id=mine.volunteer.id,
                            fields=["relatives"], at=auth.now())
    return found


def _give_refused(form: Form, exc: DomainError) -> None:
    if isinstance(exc, InsufficientCredit):
        form.error("minutes", explain(exc))
        form.detail = exc.message
    else:
        form.refuse(exc, fields={"recipient_id": "recipient", "relation": "recipient", "minutes": "minutes"})
        if exc.details.get("rule") in ("gift_relations", "status", "accepted_banks") and "" in form.errors:
            form.errors["recipient"] = form.errors.pop("")


@bp.route("/volunteer/give", methods=["GET", "POST"])
def give() -> Response | str | tuple[str, int]:
    """Choose a relative and the minutes; then confirm ("You are about to give…"); then give, once."""
    mine = me()
    posted = request.method == "POST"
    form = Form(request.form if posted else {FORM_KEY: new_form_key()})
    with change() as session:
        relatives = _relatives(session, mine)
        balance = accounts.person_balance(session, mine.volunteer.id)
    step = "choose"
    if posted and form.value("action") != "back":
        recipient = form.choice("recipient", list(relatives))
        minutes = form.integer("minutes", low=1, high=gifts.MAX_GIFT)
        if minutes is not None and minutes > balance:
            form.error("minutes", _("You have %(have)s of time credit; please give no more than that.",
                                    have=hours(balance)))
        if form.ok and recipient is not None and minutes is not None:
            step = "confirm"
            if form.value("action") == "give":
                try:
                    with change() as session:
                        gifts.give_credit(session, writer(), giver_id=mine.volunteer.id, recipient_id=recipient,
                                          minutes=minutes, relation=relatives[recipient][0], at=auth.now(),
                                          idempotency_key=form_key(mine.who))
                        users.record_access(session, user_id=mine.who.user_id, action="change",
                                            subject_id=mine.volunteer.id, fields=["relation"], at=auth.now())
                except DomainError as exc:
                    _give_refused(form, exc)
                    step = "choose"
                else:
                    flash(_("You gave %(amount)s of time credit to %(whom)s.", amount=hours(minutes),
                            whom=relatives[recipient][1]), "ok")
                    return redirect(url_for("volunteer.credit"))
            else:
                return render_template("web/volunteer/give_confirm.html", form=form, amount=hours(minutes),
                                       whom=relatives[recipient][1], after=hours(balance - minutes))
    return render_template("web/volunteer/give.html", form=form, relatives=[(k, v[1]) for k, v in relatives.items()],
                           balance=hours(balance), step=step), form.status


# --- certificates -------------------------------------------------------------------------------

def verification_url(number: str) -> str:
    return url_for("certificate_page.certificate", number=number, _external=True)


@bp.route("/volunteer/certificates", methods=["GET", "POST"])
def certificates() -> Response | tuple[str, int]:
    """The volunteer's certificates, and a form to issue one for a period of verified service."""
    mine = me()
    today = china_date(auth.now())
    posted = request.method == "POST"
    form = Form(request.form if posted else {"start": date(today.year, 1, 1).isoformat(), "end": today.isoformat()})
    if posted:
        start, end = form.day("start"), form.day("end")
        if start is not None and end is not None and end < start:
            form.error("end", _("The last day must be on or after the first day."))
        if form.ok and start is not None and end is not None:
            try:
                with change() as session:
                    cert = issue_certificate(session, writer(), sealer(), volunteer_id=mine.volunteer.id, start=start,
                                             end=end, issued_by=mine.volunteer.id, at=auth.now(),
                                             lang="en" if english() else "zh")
                    number = cert.number
            except DomainError as exc:
                form.refuse(exc, fields={"start": "start", "end": "end"})
                if exc.details.get("rule") == "no_records" and "" in form.errors:
                    form.errors["end"] = form.errors.pop("")
            else:
                flash(_("Certificate %(number)s is issued. Download it below.", number=number), "ok")
                return redirect(url_for("volunteer.certificates"))
    rows = [{"number": c.number, "period": f"{c.period_start.isoformat()} – {c.period_end.isoformat()}",
             "hours": hours(c.minutes), "issued_on": c.issued_on.isoformat()}
            for c in certificates_of(mine.session, mine.volunteer.id)]
    return render_template("web/volunteer/certificates.html", form=form, rows=rows), form.status


@bp.get("/volunteer/certificates/<number>.pdf")
def certificate_file(number: str) -> Response:
    """The printable certificate (A4 PDF) of one of the volunteer's own certificates, with the full
    name: the read is logged."""
    mine = me()
    with change() as session:
        try:
            cert: Certificate | None = get_certificate(session, number)
        except NotFound:
            cert = None
        if cert is None or cert.volunteer_id != mine.volunteer.id:
            raise NotFound(f"no certificate {number!r}", field="number")
        name = sealer().open(cert.name_sealed, where=where(cert, "name_sealed")) or ""
        facts = {**public_facts(cert, name), "name": name, "url": verification_url(cert.number)}
        users.record_access(session, user_id=mine.who.user_id, action="read", subject_id=cert.volunteer_id,
                            fields=["name"], at=auth.now())
    response = Response(certificate_pdf.render(facts, "en" if english() else "zh"), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response
