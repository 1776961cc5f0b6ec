"""The elder's evaluation of a service record: one rating (1–5 stars, a sealed comment) and complaints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ledger.writer import Writer

from . import journal, people
from .errors import Conflict, InvalidInput, Refused
from .model import new_id
from .checks import aware
from .records import RecordComplaint, ServiceRecord, actor_for_elder, add_event, lock_record, write_event
from .checks import text as free_text
from .sealing import Sealer

COMMENT_LIMIT = 1000
COMPLAINT_LIMIT = 2000
RATEABLE = ("confirmed", "posted")


def rate_record(
    session: Session, writer: Writer, sealer: Sealer, *, record_id: str, by: str, stars: int, at: datetime,
    comment: str | None = None,
) -> ServiceRecord:
    """The elder (or a relative who may confirm) rates a confirmed or posted record once: 1–5 stars
    and an optional comment, sealed here; the ledger gets the stars and a commitment to the comment.

    Raises InvalidInput (stars, comment), NotFound, NotPermitted (who), Conflict (not confirmed yet,
    or rated already), Refused with rule self_rating (a relative who is the record's volunteer).
    """
    at = aware(at, "at")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise InvalidInput("stars must be a whole number from 1 to 5", field="stars")
    comment = free_text(comment, "comment", COMMENT_LIMIT)
    record, bank = lock_record(session, record_id)
    actor, on_behalf_of = actor_for_elder(session, record, by, staff=False)
    relative = session.get(people.Relative, actor)
    if relative is not None and relative.person_id == record.volunteer_id:
        raise Refused("a volunteer may not rate their own service, even as the elder's relative", rule="self_rating")
    if record.rated_at is not None:
        raise Conflict(f"record {record.id} is rated already; a record is rated once", field="record_id")
    if record.status not in RATEABLE:
        raise Conflict(f"record {record.id} is {record.status}; a record is rated once it is confirmed",
                       field="status")
    salt, digest = journal.commitment(comment)
    entry = write_event(session, writer, record, bank, "rated", at=at, by=actor, on_behalf_of=on_behalf_of,
                        stars=stars, comment_commitment=digest)
    record.rating, record.comment_salt, record.rated_by, record.rated_at = stars, salt, actor, at
    people.seal_into(sealer, record, comment=comment)
    add_event(session, record, "rated", actor=actor, on_behalf_of=on_behalf_of, at=at, entry=entry)
    return record


def complain(
    session: Session, writer: Writer, sealer: Sealer, *, record_id: str, by: str, text: str, at: datetime
) -> RecordComplaint:
    """Record a complaint about a record by the elder, a relative who may confirm, or staff covering
    the region; the text is sealed here and the ledger gets a commitment to it.

    Raises InvalidInput (text), NotFound, NotPermitted (who).
    """
    at = aware(at, "at")
    body = free_text(text, "text", COMPLAINT_LIMIT)
    if body is None:
        raise InvalidInput("say what the complaint is about", field="text")
    record, bank = lock_record(session, record_id)
    actor, on_behalf_of = actor_for_elder(session, record, by)
    salt, digest = journal.commitment(body)
    complaint = RecordComplaint(id=new_id("cmp"), record_id=record.id, by=actor, on_behalf_of=on_behalf_of,
                                text_salt=salt, at=at)
    people.seal_into(sealer, complaint, text=body)
    entry = write_event(session, writer, record, bank, "complained", at=at, complaint=complaint.id, by=actor,
                        on_behalf_of=on_behalf_of, text_commitment=digest)
    complaint.entry_id = entry.id
    session.add(complaint)
    session.flush()
    add_event(session, record, "complained", actor=actor, on_behalf_of=on_behalf_of, at=at, entry=entry)
    return complaint
