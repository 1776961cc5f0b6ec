"""Domain errors: what went wrong and what to fix, with no HTTP in them (api/ maps them)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal the domain makes; `code` is stable, `details` name fields or rules."""

    code = "domain_error"
    # True when the refusal itself changed something that must be kept (a counted wrong attempt):
    # the caller commits instead of rolling back.
    keep_changes = False

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The named object does not exist (or is out of the caller's reach)."""

    code = "not_found"


class InvalidInput(DomainError):
    """A value is malformed or out of range; `details["field"]` names it."""

    code = "invalid"


class Refused(DomainError):
    """A rule forbids the operation; `details["rule"]` names the policy knob or guard."""

    code = "refused"


class InsufficientCredit(Refused):
    """An account would go below zero."""

    code = "insufficient_credit"


class Conflict(DomainError):
    """The object is not in a state that allows this (e.g. confirming twice), or an idempotency key
    was reused for a different request."""

    code = "conflict"


class Unauthenticated(DomainError):
    """No valid sign-in: a wrong password, an unknown, expired or revoked token."""

    code = "unauthenticated"


class TooManyAttempts(DomainError):
    """Too many failed sign-ins or codes: wait until `details["retry_after"]` seconds have passed."""

    code = "too_many_attempts"


class NotPermitted(DomainError):
    """The acting person may not do this to this object (e.g. a proxy without the right to redeem)."""

    code = "not_permitted"
