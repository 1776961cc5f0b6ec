"""A domain refusal in words a volunteer or an elder understands, in their language.

The domain's own messages are English sentences for developers and API callers; pages show these
instead, chosen by the refusal's rule (for a Refused) or its kind. Areas add the rules their
pages meet to RULES."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from timebank.errors import (
    Conflict,
    DomainError,
    InsufficientCredit,
    InvalidInput,
    NotFound,
    NotPermitted,
    Refused,
    TooManyAttempts,
    Unauthenticated,
)

# rule (Refused.details["rule"]) → what to tell the reader
RULES = {
    "daily_cap_minutes": _l("This would pass the most hours one volunteer may log in a day."),
    "allow_overlap": _l("This overlaps another of your records. Please correct the times."),
    "future_time": _l("A service can only be logged after it has ended."),
    "confirm_deadline_working_days": _l("This service is too long ago to be logged or confirmed now."),
    "confirm_code": _l("The confirmation code is wrong. Please check it and try again."),
    "confirm_code_expired": _l("This confirmation code has expired. Ask the volunteer for a new one."),
    "confirm_attempts": _l("Too many wrong codes were entered. Ask the volunteer for a new code."),
    "self_confirmation_allowed": _l("You cannot confirm your own service."),
    "training_required": _l("This service needs a training certificate that is not on record."),
    "volunteer_eligible": _l("Volunteers cannot give this service."),
    "volunteer_status": _l("Your volunteer account is not active. Please contact your coordinator."),
    "elder_status": _l("This elder's account is not active."),
    "accepted_banks": _l("This elder's time bank does not take records from your time bank."),
    "organisation_status": _l("Your team may not log services at present."),
    "gift_relations": _l("Credit can only be given to the relatives the rules allow."),
    "self": _l("Credit cannot be given to yourself."),
    "status": _l("This account is not active."),
    "redemption_age": _l("Credit can be used for care from the age the rules set."),
    "provider": _l("This provider cannot give this service here."),
    "self_rating": _l("You cannot rate your own service."),
    "dispatch_status": _l("This volunteer is not active and cannot be sent."),
    "no_records": _l("You have no verified service in this period. Please choose other dates."),
    "bank": _l("No time bank covers this area yet. Open one at or above it first."),
}


def explain(exc: DomainError) -> str:
    """The reader's message for `exc`."""
    rule = exc.details.get("rule")
    if isinstance(exc, InsufficientCredit):
        return _("There is not enough credit for this.")
    if isinstance(exc, Refused) and rule in RULES:
        return str(RULES[rule])
    if isinstance(exc, InvalidInput):
        return _("Please check this entry: it is not valid.")
    if isinstance(exc, NotFound):
        return _("Nothing was found. Please check what you entered.")
    if isinstance(exc, Conflict):
        return _("This has changed in the meantime (perhaps it was already done). Please reload the page.")
    if isinstance(exc, TooManyAttempts):
        return _("Too many attempts. Please wait 15 minutes and try again.")
    if isinstance(exc, Unauthenticated):
        return _("The user name or password is wrong.")
    if isinstance(exc, NotPermitted):
        return _("You may not do this.")
    return _("This cannot be done under the rules of your time bank.")
