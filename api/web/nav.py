"""The menu under the header: each area adds its pages for the roles that use them, at import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for

from .. import auth

_ITEMS: dict[str, list[tuple[str, Any]]] = {}


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    current: bool


def item(roles: tuple[str, ...], endpoint: str, label: Any) -> None:
    """Show `label` (a lazy translation) linking to `endpoint` to each of `roles`."""
    for role in roles:
        _ITEMS.setdefault(role, []).append((endpoint, label))


def for_caller(who: auth.Caller | None) -> list[NavItem]:
    if who is None:
        return []
    known = current_app.view_functions
    return [NavItem(url_for(endpoint), str(label), request.endpoint == endpoint)
            for endpoint, label in _ITEMS.get(who.role, []) if endpoint in known]
