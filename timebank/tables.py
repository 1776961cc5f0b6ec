"""Every domain table, imported in one place so the metadata that migrations compare is complete."""

from __future__ import annotations

from . import accounts, care, catalogue, certificates, dispatch, gifts, idempotency, interbank, journal, people
from . import points, policy, recognition, records, redemption, regions, schools, users
from .model import Base

metadata = Base.metadata
MODULES = (accounts, care, catalogue, certificates, dispatch, gifts, idempotency, interbank, journal, people, points,
           policy, recognition, records, redemption, regions, schools, users)
