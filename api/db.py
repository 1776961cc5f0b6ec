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
    app.extensions["timebank.read_sessions"] = sessionmaker(read_only(engine), expire_on_commit=False,
                                                            info={"read_only": True})
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """This request's session, opened on first use; read-only requests (GET, HEAD) get one that
    does not take SQLite's write lock."""
    if "db_session" not in g:
        reads = request.method in SAFE_METHODS and not g.get("db_writes")
        g.db_session = current_app.extensions["timebank.read_sessions" if reads else "timebank.sessions"]()
    return g.db_session


def writing() -> Session:
    """This request's session, able to write although the request is a GET (a read of personal data
    writes its access record). On SQLite a read transaction cannot safely become a write one (it
    fails at once, "database is locked", when a writer committed since it began), so a read session
    already open is closed and the request goes on in one that takes the write lock at BEGIN."""
    session = g.get("db_session")
    if session is not None and session.info.get("read_only"):
        session.close()
        del g.db_session
    g.db_writes = True
    return get_session()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything a view did not commit
