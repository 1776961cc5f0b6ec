"""Every domain table, imported in one place so the metadata that migrations compare is complete."""

from __future__ import annotations

from . import accounts, catalogue, idempotency, journal, people, policy, regions
from .model import Base

metadata = Base.metadata
MODULES = (accounts, catalogue, idempotency, journal, people, policy, regions)
