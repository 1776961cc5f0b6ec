"""The OpenAPI document of /api/v1 (flask-smorest) and its interactive page, served from the app
(Swagger UI from the swagger-ui-bundle package; no CDN)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Flask, Response, render_template, send_from_directory
from flask_smorest import Api
from marshmallow import Schema, fields

SWAGGER = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'none'")

class ErrorSchema(Schema):
    """Every error: {"code", "status", "message", "errors"} (api/errors.py)."""

    code = fields.String(metadata={"description": "stable error code, e.g. not_found, refused"})
    status = fields.Integer(metadata={"description": "the HTTP status"})
    message = fields.String(metadata={"description": "what went wrong and what to fix"})
    errors = fields.Dict(metadata={"description": "the fields or rules concerned"})


class TimebankApi(Api):
    ERROR_SCHEMA = ErrorSchema


docs = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")


@docs.get("/")
def docs_page() -> Response:
    response = Response(render_template("api_docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@docs.get("/ui/<path:name>")
def docs_asset(name: str) -> Response:
    return send_from_directory(SWAGGER, name, max_age=86400)


def init_app(app: Flask) -> Api:
    """The Api object that blueprints register on; /api/v1/openapi.json serves the document."""
    app.config.update(
        API_TITLE="timebank (养老服务时间银行)",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Elder-care time bank: people, records, credits, redemption, 通存通兑. "
                                    "Errors are {code, status, message, errors}. Changes need a CSRF token "
                                    "(X-CSRF-Token) with a session, or a bearer token with the write scope; "
                                    "POSTs honour an Idempotency-Key header."},
            "components": {"securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "timebank_session"},
                "token": {"type": "http", "scheme": "bearer"},
            }},
            "security": [{"session": []}, {"token": []}],
        },
    )
    api = TimebankApi(app)
    app.register_blueprint(docs)
    return api
