"""The app factory."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from ledger.database import create_engine
from ledger.keys import Keyring
from ledger.writer import Writer

from timebank import sealing

from . import (
    auth,
    certificate_page,
    db,
    errors,
    health,
    input_guard,
    integrity,
    ledger_api,
    ledger_openapi,
    migrate,
    openapi,
    pages,
    v1,
    web,
)
from .settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. Refuses (SchemaBehind) a database behind the migrations; checks every
    ledger log and refuses writes to any that does not match its last signed checkpoint."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    if settings.proxy_hops:  # behind reverse proxies: the client's address, not the proxy's
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    app.config.update(SECRET_KEY=settings.secret_key)
    app.json.sort_keys = False  # type: ignore[attr-defined]  (keep the field order of §5)
    app.extensions["timebank.settings"] = settings
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    engine = create_engine(settings.database_url)
    try:
        migrate.require_head(engine)
    except migrate.SchemaBehind:
        engine.dispose()
        raise
    db.init_app(app, engine)
    api = openapi.init_app(app)  # before errors: our handlers replace flask-smorest's
    errors.init_app(app)
    input_guard.init_app(app)  # before auth: a NUL must not reach the user lookup either
    auth.init_app(app, secure_cookies=settings.secure_cookies)
    app.extensions["timebank.sealer"] = sealing.follow(settings.personal_data_key_file)

    keyring = Keyring(settings.key_dir)
    statuses = integrity.check_logs(engine, keyring, full=settings.startup_check == "full")
    app.extensions["timebank.writer"] = Writer(keyring, {s.id: s.problem or "" for s in statuses if not s.ok})

    engine.dispose()  # no pooled connection may cross a fork (gunicorn --preload); reopened on use
    app.register_blueprint(ledger_api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    certificate_page.init_app(app)
    web.init_app(app)
    v1.register(api)
    ledger_openapi.document(api.spec, app)
    return app
