"""Policy: every rule of the time bank is a knob with a default, set on a bank (or any region under
one) for its subtree, versioned, and itself a ledger entry.

Versions are numbered across the deployment (1, 2, 3, …). The policy in force for a region under
version N is the defaults overlaid with the latest version ≤ N set on each of its ancestors, root
first. Every entry that applied a policy records N, so anyone can recompute what it applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.writer import Writer

from . import journal
from .errors import InvalidInput
from .catalogue import CatalogueItem
from .model import Base
from .people import RELATIONS, get_staff
from .regions import Region, bank_of, get_region

ROUNDING = ("half_up", "floor", "ceil")


def _int(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _optional_int(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: v is None or _int(lo, hi)(v)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _weights(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and 0 < len(k) <= 32 and _int(0, 1000)(w) for k, w in v.items()
    )


def _relations(v: Any) -> bool:
    return isinstance(v, list) and len(set(v)) == len(v) and all(r in RELATIONS for r in v)


def _banks(v: Any) -> bool:
    return v is None or (isinstance(v, list) and all(isinstance(b, str) and 0 < len(b) <= 40 for b in v))


@dataclass(frozen=True)
class Knob:
    default: Any
    valid: Callable[[Any], bool]
    rule: str
    meaning: str


KNOBS: dict[str, Knob] = {
    "weights": Knob({}, _weights, "catalogue code → weight in percent (0–1000)",
                    "credit weight per catalogue item, overriding the catalogue's own (120 means 1.2)"),
    "rounding": Knob("half_up", lambda v: v in ROUNDING, f"one of {', '.join(ROUNDING)}",
                     "how weighted minutes are rounded to whole credit minutes"),
    "daily_cap_minutes": Knob(480, _int(1, 1440), "1–1440",
                              "most minutes one volunteer may log in one day (China time)"),
    "allow_overlap": Knob(False, _bool, "true or false", "whether one volunteer's records may overlap in time"),
    "confirm_deadline_working_days": Knob(10, _int(1, 365), "1–365",
                                          "working days after the service by which a record must be complete"),
    "self_confirmation_allowed": Knob(False, _bool, "true or false", "whether anyone may confirm their own record"),
    "paid_work_earns": Knob(False, _bool, "true or false", "whether paid or subsidised (低偿/有偿) work earns credit"),
    "own_household_earns": Knob(False, _bool, "true or false",
                                "whether serving one's own household earns credit"),
    "redemption_age": Knob(60, _int(0, 120), "0–120", "the age from which volunteers may redeem their own credit"),
    "gift_relations": Knob(["spouse", "parent", "grandparent", "child"], _relations,
                           f"a list drawn from {', '.join(RELATIONS)}", "to whom credit may be given"),
    "expiry_days": Knob(None, _optional_int(1, 36500), "null (never) or 1–36500",
                        "days after which unspent credit expires to the bank's pool (oldest first)"),
    "accepted_banks": Knob(None, _banks, "null (every bank of the network) or a list of bank region ids",
                           "which other banks' members may redeem here, and where ours may redeem (通存通兑)"),
    "points_per_hour": Knob(1, _int(0, 1000), "0–1000", "points (积分) earned per hour of verified credit"),
    "care_contacts_per_week": Knob(3, _int(1, 21), "1–21", "contacts a care agreement requires each week"),
}


@dataclass(frozen=True)
class Policy:
    """The rules in force for one region under one policy version."""

    version: int
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def weight(self, code: str, catalogue_weight: int) -> int:
        return int(self.values["weights"].get(code, catalogue_weight))

    def accepts(self, bank_id: str) -> bool:
        accepted = self.values["accepted_banks"]
        return accepted is None or bank_id in accepted


class PolicyVersion(Base):
    """One change of policy on one region: the knobs it sets, who set it and its ledger entry."""

    __tablename__ = "policy_version"

    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    values_json: Mapped[str] = mapped_column(sa.Text)
    set_by: Mapped[str] = mapped_column(sa.String(40))
    entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]

    @property
    def values(self) -> dict[str, Any]:
        return json.loads(self.values_json)


def check_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse unknown knobs and values out of range, naming each. Raises InvalidInput."""
    if not isinstance(changes, Mapping) or not changes:
        raise InvalidInput("give at least one policy knob to set", field="policy")
    errors = {}
    for name, value in changes.items():
        knob = KNOBS.get(name)
        if knob is None:
            errors[name] = f"unknown policy knob; known: {', '.join(KNOBS)}"
        elif not knob.valid(value):
            errors[name] = f"must be {knob.rule}"
    if errors:
        raise InvalidInput("policy values are not valid: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
                           field="policy", errors=errors)
    return dict(changes)


def _check_references(session: Session, values: Mapping[str, Any]) -> None:
    """Banks named in `accepted_banks` are banks; codes in `weights` are catalogue items. Raises InvalidInput."""
    banks = values.get("accepted_banks") or []
    known = set(session.scalars(sa.select(Region.id).where(Region.id.in_(banks), Region.log_id.is_not(None))))
    if set(banks) - known:
        raise InvalidInput(f"accepted_banks names regions that are not banks: {', '.join(sorted(set(banks) - known))}",
                           field="accepted_banks")
    codes = set(values.get("weights") or {})
    found = set(session.scalars(sa.select(CatalogueItem.code).where(CatalogueItem.code.in_(codes))))
    if codes - found:
        raise InvalidInput(f"weights names unknown catalogue items: {', '.join(sorted(codes - found))}",
                           field="weights")


def current_version(session: Session) -> int:
    """The newest policy version of the deployment (0: only the defaults)."""
    return int(session.scalar(sa.select(sa.func.max(PolicyVersion.version))) or 0)


def effective(session: Session, region: Region, version: int | None = None) -> Policy:
    """The policy in force for `region` under `version` (default: the newest)."""
    version = current_version(session) if version is None else version
    values = {name: knob.default for name, knob in KNOBS.items()}
    ids = region.ancestor_ids
    rows = session.scalars(
        sa.select(PolicyVersion).where(PolicyVersion.region_id.in_(ids), PolicyVersion.version <= version)
        .order_by(PolicyVersion.version)
    ).all()
    depth = {region_id: i for i, region_id in enumerate(ids)}
    for row in sorted(rows, key=lambda r: (depth[r.region_id], r.version)):
        changes = row.values
        if "weights" in changes:  # weights merge item by item: a district changing one keeps the city's others
            changes = {**changes, "weights": {**values["weights"], **changes["weights"]}}
        values.update(changes)
    return Policy(version, values)


def set_policy(
    session: Session, writer: Writer, *, region_id: str, changes: Mapping[str, Any], set_by: str, at: datetime
) -> PolicyVersion:
    """Set knobs on a region for its whole subtree, as a new version and a ledger entry in the
    bank that covers the region.

    `set_by` is an administrator whose subtree covers the region.

    Raises NotFound (region, staff), NotPermitted (not such an administrator), InvalidInput (unknown
    knob or bad value), Refused (no bank covers it).
    """
    region = get_region(session, region_id)
    get_staff(session, set_by, region_id=region.id, role="administrator")
    values = check_values(changes)
    _check_references(session, values)
    bank = bank_of(session, region)
    row = PolicyVersion(region_id=region.id, values_json=json.dumps(values, sort_keys=True, ensure_ascii=False),
                        set_by=set_by, at=at)
    session.add(row)
    session.flush()
    entry = journal.write(session, writer, bank=bank, type="policy", at=at, subject_id=region.id,
                          body={"region": region.id, "version": row.version, "set": values, "by": set_by})
    row.entry_id = entry.id
    session.flush()
    return row


def history(session: Session, region: Region) -> list[PolicyVersion]:
    """Versions set on `region` and its ancestors, newest first."""
    return list(session.scalars(sa.select(PolicyVersion).where(PolicyVersion.region_id.in_(region.ancestor_ids))
                                .order_by(PolicyVersion.version.desc())))
