"""The web pages people use (volunteers, elders and their families, coordinators, administrators,
the public): Chinese first and English, large type, one column on a phone, no script from elsewhere.

Each area is a blueprint of its own module; this package wires them to the app with what they share:
the language of each request (Flask-Babel), security headers, and error pages in HTML."""

from __future__ import annotations

from flask import Flask

from . import account, admin, confirm, coordinator, elder, errors, language, public, security, volunteer

# Every blueprint whose errors are HTML pages rather than JSON (see web.errors).
BLUEPRINTS = (account.bp, public.bp, volunteer.bp, coordinator.bp, confirm.bp, elder.bp, admin.bp)


def init_app(app: Flask) -> None:
    language.init_app(app)
    security.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.init_app(app, {blueprint.name for blueprint in BLUEPRINTS} | {"pages", "certificate_page"})
