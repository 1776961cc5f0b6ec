"""One check on every request before any view sees it: no NUL character anywhere in what was sent
(the path, the query, a form, a JSON body). PostgreSQL cannot store or even compare text holding
NUL, so a NUL reaching a query is a database error (a 500) rather than the 400 it deserves; SQLite
would store it and show it back. Found by the stateful fuzzing (a region id of "\\u0000")."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from timebank.errors import InvalidInput

NUL = "\x00"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _refuse_nul() -> None:
    where = None
    if NUL in request.path:
        where = "path"
    elif any(NUL in k or NUL in v for k, v in request.args.items(multi=True)):
        where = "query"
    elif request.mimetype == "application/x-www-form-urlencoded" and any(
            NUL in k or NUL in v for k, v in request.form.items(multi=True)):
        where = "form"
    elif request.is_json and _holds_nul(request.get_json(silent=True)):
        where = "body"
    if where:
        raise InvalidInput(f"the request's {where} holds a NUL character (\\u0000), which no field may contain",
                           field=where)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
