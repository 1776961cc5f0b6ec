"""Errors on the web pages as pages: the sign-in page for someone not signed in, and a short page in
the reader's language for everything else (never a stack trace, never JSON)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from timebank.errors import DomainError, NotFound, NotPermitted, TooManyAttempts, Unauthenticated

from .explain import explain

log = logging.getLogger(__name__)


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("web/error.html", status=status, title=title, message=message), status


def _domain(exc: DomainError) -> Response | tuple[str, int]:
    if isinstance(exc, Unauthenticated):
        return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
    if isinstance(exc, NotFound):
        return _page(404, _("Not found"), _("This page does not exist, or it is not yours to see."))
    if isinstance(exc, NotPermitted):
        return _page(403, _("Not allowed"), _("Your account may not open this page."))
    if isinstance(exc, TooManyAttempts):
        return _page(429, _("Please wait"), explain(exc))
    return _page(422, _("This cannot be done"), explain(exc))


def _http(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    if status == 400 and exc.description == "csrf":
        return _page(400, _("Please try again"),
                     _("This form has expired (perhaps the page was open for a long time). "
                       "Please go back, reload the page and send it again."))
    if status == 404:
        return _page(404, _("Not found"), _("This page does not exist."))
    if status == 405:
        return _page(405, _("Not found"), _("This page does not exist."))
    if status == 413:
        return _page(413, _("Too large"), _("What was sent is too large. Please shorten it."))
    return _page(status, _("Something went wrong"), _("Please go back and try again."))


def _unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("%s %s failed", request.method, request.path)
    return _page(500, _("Something went wrong"),
                 _("Something went wrong on our side. It has been recorded; please try again later."))


def init_app(app: Flask, blueprints: set[str]) -> None:
    """Answer errors raised in `blueprints` (and pages that are no API path) with HTML pages."""
    handlers: dict[type[Exception], Callable[[Any], Any]] = {
        DomainError: _domain, HTTPException: _http, Exception: _unexpected}

    def wants_html() -> bool:
        if request.blueprint in blueprints:
            return True
        path = request.path
        return request.blueprint is None and not path.startswith(("/api/", "/logs", "/healthz"))

    app.extensions["timebank.html_errors"] = (wants_html, handlers)
