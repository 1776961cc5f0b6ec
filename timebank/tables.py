"""Every domain table, imported in one place so the metadata that migrations compare is complete."""

from __future__ import annotations

from . import accounts, care, catalogue, gifts, idempotency, interbank, journal, people, points, policy, records
from . import redemption, regions, users
from .model import Base

metadata = Base.metadata
MODULES = (accounts, care, catalogue, gifts, idempotency, interbank, journal, people, points, policy, records,
           redemption, regions, users)
