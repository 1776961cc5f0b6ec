"""Opening a bank: a region gets its own ledger log, signing key and bank accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ledger.writer import Writer

from . import accounts, journal
from .errors import Conflict
from .regions import Region, get_region


def open_bank(session: Session, writer: Writer, *, region_id: str, log_id: str, origin: str, at: datetime) -> Region:
    """Make a region a bank: create its log (signed empty checkpoint, key file), open its bank
    accounts and write the opening entry.

    Raises NotFound (region), Conflict (already a bank), and the ledger's EntryError (bad log id),
    CheckpointError (bad origin) or AppendConflict (log id or origin taken).
    """
    region = get_region(session, region_id)
    if region.is_bank:
        raise Conflict(f"{region.name_zh} is already a bank (log {region.log_id})", field="region_id")
    writer.create_log(session, log_id=log_id, origin=origin, at=at)
    region.log_id = log_id
    session.flush()
    for unit, kind in accounts.BANK_ACCOUNTS:
        accounts.account(session, bank=region, unit=unit, kind=kind, at=at)
    journal.write(session, writer, bank=region, type="bank", at=at, subject_id=region.id,
                  body={"region": region.id, "level": region.level, "parent": region.parent_id})
    return region
