"""The engine on the app, one session per request on `g`, closed in teardown."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger.database import read_only

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask, engine: Engine) -> None:
    """Attach `engine` and a session factory to `app`."""
    app.extensions["timebank.engine"] = engine
    app.extensions["timebank.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["timebank.read_sessions"] = sessionmaker(read_only(engine), expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """This request's session, opened on first use; read-only requests (GET, HEAD) get one that
    does not take SQLite's write lock."""
    if "db_session" not in g:
        kind = "timebank.read_sessions" if request.method in SAFE_METHODS else "timebank.sessions"
        g.db_session = current_app.extensions[kind]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything a view did not commit
