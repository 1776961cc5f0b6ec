"""The engine on the app, one session per request on `g`, closed in teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def init_app(app: Flask, engine: Engine) -> None:
    """Attach `engine` and a session factory to `app`."""
    app.extensions["timebank.engine"] = engine
    app.extensions["timebank.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """This request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["timebank.sessions"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything a view did not commit
