"""The public verification page of a certificate (志愿服务证明), `/certificates/<number>`: what its QR code opens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, make_response, render_template
from flask_babel import lazy_gettext as _l

from timebank.certificates import verify_certificate
from timebank.errors import NotFound

from .db import get_session
from .pages import CSP, current_language

bp = Blueprint("certificate_page", __name__)

# a verification's status → its badge and the sentence under it
STATUS = {
    "valid": (_l("Valid"), _l("The certificate matches its signed entry in the public ledger, and every record "
                              "behind it stands.")),
    "superseded": (_l("Superseded"), _l("Since the certificate was issued, these service records were reversed, "
                                        "so it no longer stands in full:")),
    "invalid": (_l("Failed verification"), _l("The stored certificate does not match the digest in the public "
                                              "ledger: do not rely on it.")),
}


def _page(template: str, status: int, **context: Any) -> Response:
    lang = current_language()
    response = make_response(render_template(template, statuses=STATUS, **context), status)
    response.headers["Content-Language"] = lang
    response.headers["Content-Security-Policy"] = CSP
    response.vary.add("Accept-Language")
    return response


@bp.get("/certificates/<number>")
def certificate(number: str) -> Response:
    """志愿服务证明核验: the facts (name masked), valid or superseded, the proofs summarised, the keys."""
    try:
        result = verify_certificate(get_session(), current_app.extensions["timebank.sealer"], number=number)
    except NotFound:
        return _page("certificate_missing.html", 404, number=number)
    return _page("certificate_page.html", 200, v=result, number=number)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
