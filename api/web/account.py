"""Signing in and out, and each person's start page (chosen by their role)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from timebank import users
from timebank.errors import DomainError

from .. import auth
from . import nav
from .forms import Form
from .views import change, check_csrf, csrf_token, signed_in

bp = Blueprint("account", __name__)
bp.before_request(check_csrf)

# role → the endpoint of its start page (an area not served falls back to the account page)
HOME = {"volunteer": "volunteer.home", "elder": "elder.home", "proxy": "elder.home",
        "coordinator": "coordinator.home", "administrator": "admin.home", "school": "account.account",
        "auditor": "pages.ledger_overview"}
ROLE_NAMES = {"volunteer": _l("Volunteer"), "elder": _l("Elder"), "proxy": _l("Family member"),
              "coordinator": _l("Coordinator"), "administrator": _l("Administrator"), "school": _l("School"),
              "auditor": _l("Auditor")}


@bp.app_context_processor
def _shared() -> dict[str, Any]:
    """What base.html needs on every page: who is signed in, their menu, the CSRF token."""
    who = auth.caller() if request else None
    return {"me": who, "nav": nav.for_caller(who), "csrf_token": csrf_token, "role_names": ROLE_NAMES,
            "has_endpoint": lambda endpoint: endpoint in current_app.view_functions}


def _safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site (never another host), else None."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) <= 500:
        return target
    return None


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int]:
    form = Form(request.form if request.method == "POST" else {"next": request.args.get("next", "")})
    if request.method == "POST":
        username = form.text("username", max_length=64)
        password = form.value("password")
        if not password:
            form.error("password", _("Please enter your password."))
        if form.ok:
            try:
                with change() as session:
                    user = users.sign_in(session, username=username or "", password=password,
                                         address=request.remote_addr or "unknown", at=auth.now())
            except DomainError as exc:
                form.refuse(exc)
            else:
                auth.start_session(user)
                return redirect(_safe_next(form.value("next")) or url_for("account.home"))
    return render_template("web/account/sign_in.html", form=form), form.status


@bp.post("/sign-out")
def sign_out() -> Response:
    auth.end_session()
    flash(_("You have signed out."), "ok")
    return redirect(url_for("account.sign_in"))


@bp.get("/home")
def home() -> Response:
    """Each role's start page; the sign-in page for a visitor."""
    who = auth.caller()
    if who is None:
        return redirect(url_for("account.sign_in"))
    endpoint = HOME.get(who.role, "account.account")
    if endpoint not in current_app.view_functions:
        endpoint = "account.account"
    return redirect(url_for(endpoint))


@bp.get("/account")
def account() -> str:
    """Who you are signed in as."""
    who = signed_in()
    return render_template("web/account/account.html", who=who)
