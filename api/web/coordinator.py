"""The coordinator's pages (社区/站点 staff; administrators use them for their own subtree): the
start page with what waits; the verification queue (coordinator_queue), dispatching service
requests (coordinator_requests), registering elders (coordinator_elders) and care-agreement
compliance (coordinator_care) add their routes to the same blueprint."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l

from . import coordinator_care, coordinator_elders, coordinator_queue, coordinator_requests, nav
from .coordinator_common import bp, staffer
from .language import name_of

__all__ = ["bp"]

nav.item(("coordinator",), "coordinator.home", _l("Coordinator start page"))
nav.item(("coordinator", "administrator"), "coordinator.queue", _l("Verify records"))
nav.item(("coordinator", "administrator"), "coordinator.requests", _l("Service requests"))
nav.item(("coordinator",), "coordinator.new_elder", _l("Register an elder"))
nav.item(("coordinator", "administrator"), "coordinator.care_page", _l("Care visits"))

# keep the route modules imported: they add their pages to `bp`
ROUTES = (coordinator_care, coordinator_elders, coordinator_queue, coordinator_requests)


@bp.get("")
def home() -> str:
    """What waits for the coordinator: records to verify, requests to dispatch, agreements behind."""
    me = staffer()
    return render_template("web/coordinator/home.html", region=name_of(me.region),
                           records=coordinator_queue.waiting(me), requests=coordinator_requests.waiting(me),
                           behind=coordinator_care.behind(me))
