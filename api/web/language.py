"""Which language a page speaks: `?lang=` (remembered in a cookie), else the cookie, else the
browser's Accept-Language, else Chinese. Flask-Babel translates; the messages' source is English
and api/translations holds the Chinese catalogs (compiled by `python -m api.web.catalogs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel

from .. import i18n

COOKIE = "timebank_lang"
COOKIE_AGE = 365 * 24 * 3600
# The page's language tag → the Babel locale of its catalog.
LOCALES = {"zh-CN": "zh_CN", "en": "en"}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def current() -> str:
    """This request's language tag (`zh-CN` or `en`), chosen once."""
    if "lang" not in g:
        chosen = i18n.normalize(request.args.get("lang")) or i18n.normalize(request.cookies.get(COOKIE))
        g.lang = chosen or i18n.choose(None, request.accept_languages)
    return str(g.lang)


def english() -> bool:
    """Whether this page speaks English."""
    return current() == "en"


def name_of(item: object) -> str:
    """A catalogue item's or region's name in the page's language."""
    return str(getattr(item, "name_en" if english() else "name_zh"))


def switch_url(lang: str) -> str:
    """This page's URL in `lang`, other query arguments kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", lang)]
    return f"{request.path}?{urlencode(args)}"


def _locale() -> str:
    return LOCALES[current()] if has_request_context() else "zh_CN"


def _remember(response: Response) -> Response:
    """A `?lang=` choice sticks for the pages that follow; a page says which language it speaks."""
    chosen = i18n.normalize(request.args.get("lang"))
    if chosen and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    if response.mimetype == "text/html" and "lang" in g:
        response.headers["Content-Language"] = str(g.lang)
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def _context() -> dict[str, Any]:
    if not has_request_context():
        return {}
    lang = current()
    other = next(code for code in i18n.LANGUAGES if code != lang)
    return {"lang": lang, "other_lang": other, "other_lang_name": i18n.NATIVE_NAMES[other],
            "other_lang_url": switch_url(other)}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=_locale)
    app.after_request(_remember)
    app.context_processor(_context)
