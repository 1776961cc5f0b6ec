"""The public page of one time bank's ledger, `/ledger/<log_id>`: its latest signed checkpoint as
published, the verifier key to copy, and how to check both yourself. No personal data, no sign-in."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from ledger import store
from ledger.errors import LedgerError, UnknownLog
from ledger.writer import Writer

from .. import pages
from ..db import get_session
from . import language

bp = Blueprint("public", __name__)

LOG_ID_LIMIT = 64


@bp.get("/ledger/<log_id>")
def ledger(log_id: str) -> str:
    """One bank's ledger: state, size, signing time, the checkpoint's text, the key, the steps."""
    if len(log_id) > LOG_ID_LIMIT:
        abort(404)
    session = get_session()
    try:
        info = store.get_log(session, log_id)
    except UnknownLog:
        abort(404)
    writer: Writer = current_app.extensions["timebank.writer"]
    bank = pages.bank_facts(session, info, writer.frozen, language.current())
    try:
        note = store.latest_checkpoint(session, info.id).note.decode("utf-8", "replace")
    except LedgerError:  # shown as "cannot be read", as the overview does
        note = None
    return render_template("web/public/ledger.html", bank=bank, note=note, id=bank.id, exact=bank)
