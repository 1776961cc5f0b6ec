"""The public web pages: the ledger overview at `/`, in Chinese first and English, with its growth charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, has_request_context, make_response, render_template
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from ledger import store
from ledger.errors import LedgerError
from ledger.writer import Writer

from . import i18n
from .charts import Chart, growth_chart
from .db import get_session
from .web import language
from .web.security import CSP

bp = Blueprint("pages", __name__)

CHART_CHECKPOINTS = 200  # the growth chart shows at most this many of the newest checkpoints


def current_language() -> str:
    """This request's language (`?lang=`, else the remembered choice, else Accept-Language, else zh-CN)."""
    return language.current()


@bp.app_context_processor
def _language_context() -> dict[str, Any]:
    """Times and counts as the reader's language writes them (the words are Flask-Babel's `_()`)."""
    if not has_request_context():
        return {}
    lang = current_language()
    return {
        "format_time": lambda at: i18n.format_time(lang, at),
        "format_count": i18n.format_count,
    }


@bp.app_template_filter("breakable")
def breakable(text: str) -> Markup:
    """`text`, escaped, with a line-break chance (<wbr>) after each '/' and before '?' and '&', so long
    paths wrap at their joints on a phone instead of mid-word."""
    escaped = str(escape(text))
    return Markup(escaped.replace("/", "/<wbr>").replace("?", "<wbr>?").replace("&amp;", "<wbr>&amp;"))


# -- the ledger overview -------------------------------------------------------------------------


@dataclass(frozen=True)
class Bank:
    """What the overview shows of one log: public facts only, no personal data."""

    id: str
    origin: str
    vkey: str
    size: int | None
    signed_at: datetime | None
    refused: bool
    chart: Chart | None


def bank_facts(session: Session, info: store.LogInfo, frozen: dict[str, str], lang: str) -> Bank:
    """`info`'s public facts; a log whose checkpoints cannot be read is shown refused, not raised."""
    try:
        head = store.latest_checkpoint(session, info.id)
        recent = store.list_checkpoints(session, info.id, limit=CHART_CHECKPOINTS)
    except LedgerError:  # a log the store cannot read is not writable either: show it refused
        return Bank(info.id, info.origin, info.vkey, None, None, True, None)
    chart = growth_chart(recent, lang) if recent else None
    return Bank(info.id, info.origin, info.vkey, head.size, head.signed_at, info.id in frozen, chart)


@bp.get("/")
def ledger_overview() -> Response:
    """公开账本: each log's size, latest signing time, verifier key, state and growth chart."""
    lang = current_language()
    session = get_session()
    writer: Writer = current_app.extensions["timebank.writer"]
    banks = [bank_facts(session, info, writer.frozen, lang) for info in store.list_logs(session)]
    response = make_response(render_template("ledger_overview.html", banks=banks))
    response.headers["Content-Language"] = lang
    response.headers["Content-Security-Policy"] = CSP
    response.vary.add("Accept-Language")
    return response
