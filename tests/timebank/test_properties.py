"""Property test of the credit books: random sequences of real use cases (records, gifts,
redemptions at home and away, points, reversals, retried and reused idempotency keys) on three
banks, with double entry, reconciliation, a model of every balance and "a refusal changes nothing"
checked after every step."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from record_helpers import submit
from redemption_helpers import Snapshot, check_books, snapshot
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from world import make_world

from ledger import store
from ledger.keys import Keyring
from ledger.writer import Writer
from timebank import catalogue, gifts, people, points, regions
from timebank.accounts import Account
from timebank.errors import Conflict, DomainError
from timebank.reconcile import reconcile
from timebank.records_confirm import confirm_with_code
from timebank.records_review import reverse_record, verify_record
from timebank.redemption import cancel_redemption, complete_redemption, request_redemption
from timebank.sealing import Sealer

VOLUNTEERS = ("v_young", "v_old", "v_suqian", "v_lyg")  # 36, 71, 41 and 66 years old
ELDERS = ("e_hz", "e_hz2", "e_sq")
PEOPLE = VOLUNTEERS + ELDERS
HOME = {"v_young": "haizhou", "v_old": "haizhou", "e_hz": "haizhou", "e_hz2": "haizhou", "v_suqian": "suqian",
        "e_sq": "suqian", "v_lyg": "lyg"}
# (giver, recipient): the giver is registered as the recipient's child, so the recipient is the giver's parent
PARENTS = (("v_young", "e_hz"), ("v_lyg", "e_hz"), ("v_young", "e_sq"), ("v_old", "e_hz2"))
HOUSEHOLD = {("v_old", "e_hz2")}  # serving one's own household earns nothing (policy default)
STAFF = ("hz_coord", "sq_coord", "hz_admin", "sq_admin", "lyg_admin")
STATIONS = ("st_hz", "st_sq", "st_lyg")
PLACES = {"hz": "haizhou", "sq": "suqian", "lyg": "lyg"}  # where a service is redeemed: its bank
STATION_OF = {"haizhou": "st_hz", "suqian": "st_sq", "lyg": "st_lyg"}  # a station under each bank
COVERING = {"hz": "hz_coord", "sq": "sq_coord", "lyg": "lyg_admin"}  # staff covering each place
MODELLED_KINDS = ("escrow", "backstop", "clearing", "pool", "goods")  # bank accounts the model follows

# every operation (and variant) the machine counts; the fixed sequence below reaches each one
EVERY_OPERATION = frozenset({
    "submit", "confirm", "verify", "reverse", "gift", "gift_across", "request", "request_away",
    "complete_volunteer", "complete_station", "complete_away", "cancel", "spend", "retry", "key_conflict",
})
# the random run must reach a success of each family (which variants it reaches depends on the draws)
FAMILY = {"gift_across": "gift", "request_away": "request", "complete_volunteer": "complete",
          "complete_station": "complete", "complete_away": "complete"}
SUCCESSES: Counter[str] = Counter()

# arguments: mostly sensible, sometimes bad (shrinking goes to the first, sensible choice); sampled
# values, as one_of with a few bad values picks them far more often than their share
amounts = st.sampled_from((30, 10, 45, 60, 1, 90, 150, 7, 0, 100_000, 10**8))  # gifts: > 10**7 is invalid
redeemed = st.sampled_from((30, 10, 45, 60, 1, 25, 0, 1441))  # minutes of a redeemed service: 1 to 1440
picks = st.integers(min_value=0, max_value=63)
fitting = st.sampled_from((True, True, False))  # pick what fits the operation (a record awaiting it, …)
keyed = st.booleans()


@dataclass
class Rec:
    """A record the machine submitted: what it expects the record to earn once posted."""

    id: str
    code: str | None  # the elder's one-time confirmation code
    volunteer: str
    elder: str
    catalogue: str
    minutes: int
    start: datetime
    status: str = "submitted"
    credit: int = 0
    points: int = 0


@dataclass
class Rdm:
    """A redemption the machine requested."""

    id: str
    redeemer: str
    home: str
    serving: str
    place: str
    credit: int
    status: str = "requested"


@dataclass
class Keyed:
    """A request that succeeded with an idempotency key: how to send it again, and another request."""

    op: str
    key: str
    result_id: str
    again: Callable[[str, datetime], Any]
    other: Callable[[str, datetime], Any]


def result_id(result: Any) -> str:
    """The id of what a use case returned ((record, code) for a submission)."""
    return str(result[0].id if isinstance(result, tuple) else result.id)


def half_up(minutes: int, weight_pct: int) -> int:
    """Minutes × a weight in percent, rounded half up (the default policy's rule)."""
    return (minutes * weight_pct + 50) // 100


def nonzero(balances: dict[str, int]) -> dict[str, int]:
    return {account_id: amount for account_id, amount in balances.items() if amount}


class Books(RuleBasedStateMachine):
    """Three banks (lyg above haizhou, suqian beside them), four volunteers, three elders with
    registered children, staff and stations, starting from three posted records. Each rule runs a
    use case (or a short chain: submit → confirm → verify, request → complete or cancel) with
    random, often bad, arguments, each call in a savepoint that a refusal rolls back (as the API's
    rollback would)."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        super().__init__()
        self.connection = engine.connect()
        self.transaction = self.connection.begin()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint")
        self.key_dir = Path(tempfile.mkdtemp(prefix="timebank-properties-"))
        try:
            self._build(now)
        except BaseException:
            self.teardown()
            raise

    def _build(self, now: datetime) -> None:
        s = self.session
        self.now, self.elapsed = now, 0
        w = self.world = make_world(s, Writer(Keyring(self.key_dir)), Sealer.generate(), now)
        self.banks = {"lyg": w.lyg, "haizhou": w.haizhou, "suqian": w.suqian}
        self.places = {"hz": w.community, "sq": w.suqian_community, "lyg": w.lyg}
        self.people: dict[str, Any] = {
            "v_young": w.volunteer(), "v_old": w.volunteer(birth_date=date(1955, 4, 1)),
            "v_suqian": w.volunteer(w.suqian_community, birth_date=date(1985, 2, 3)),
            "v_lyg": w.volunteer(w.lyg, birth_date=date(1960, 7, 9)),
            "e_hz": w.elder(), "e_hz2": w.elder(), "e_sq": w.elder(w.suqian_community),
        }
        self.weights = {item.code: item.weight_pct for item in s.scalars(sa.select(catalogue.CatalogueItem))}
        self.ids = {name: person.id for name, person in self.people.items()}
        for giver, elder in PARENTS:
            people.add_relative(s, w.sealer, elder_id=self.ids[elder], relation="child", name="子女", at=now,
                                person_id=self.ids[giver], may_redeem=giver != "v_lyg",
                                same_household=(giver, elder) in HOUSEHOLD)

        def staff(region: regions.Region, role: str) -> str:
            return people.register_staff(s, w.sealer, region_id=region.id, role=role, name="管理员", at=now).id

        self.staff = {"hz_coord": w.coordinator.id, "hz_admin": w.admin.id, "sq_coord": w.suqian_coordinator.id,
                      "sq_admin": staff(w.suqian, "administrator"), "lyg_admin": staff(w.lyg, "administrator")}
        self.stations = {name: regions.create_station(s, region_id=region.id, name=f"{name} 服务站", at=now).id
                         for name, region in (("st_hz", w.street), ("st_sq", w.suqian_community),
                                              ("st_lyg", w.lyg))}
        # the model: credit and points per person, the bank accounts of MODELLED_KINDS by
        # (bank, unit, kind, owner); issuance is what balances each bank's books
        self.credit: Counter[str] = Counter()
        self.points: Counter[str] = Counter()
        self.held: Counter[tuple[str, str, str, str]] = Counter()
        self.records: list[Rec] = []
        self.redemptions: list[Rdm] = []
        self.keyed: list[Keyed] = []
        self.successes: Counter[str] = Counter()
        self.slot, self.seeding = 0, True
        # some credit to start from, earned the real way (one of them across banks)
        for volunteer, elder, span in (("v_young", "e_hz", 120), ("v_old", "e_sq", 120), ("v_lyg", "e_hz", 90)):
            self.post_record(volunteer=volunteer, elder=elder, code="VISIT", span=span, when="slot", go=2, pick=0,
                             keyed=False)
        assert self.successes["verify"] == 3, self.successes
        self.successes.clear()
        self.seeding = False

    def teardown(self) -> None:
        self.session.close()
        self.transaction.rollback()
        self.connection.close()
        shutil.rmtree(self.key_dir, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------------

    def tick(self) -> datetime:
        """Time moves a minute per use case; every record lies in the past."""
        self.elapsed += 1
        return self.now + timedelta(minutes=self.elapsed)

    def bank_id(self, name: str) -> str:
        return self.banks[name].id

    def count(self, op: str, outcome: str) -> None:
        if outcome == "ok":
            self.successes[op] += 1
            if not self.seeding:
                SUCCESSES[op] += 1
        if currently_in_test_context() and not self.seeding:
            event(f"{op}: {outcome}")

    def attempt(self, op: str, call: Callable[[], Any]) -> tuple[Any, DomainError | None]:
        """Run one use case in a savepoint. A refusal must have written nothing to any log and moved
        no credit even before its savepoint is rolled back (or kept, for a counted wrong code), and
        the books must be exactly as before afterwards; a success must have written an entry."""
        s = self.session
        if self.seeding:  # the starting records: they must go through, and need no checking
            result = call()
            self.count(op, "ok")
            return result, None
        before = snapshot(s)
        savepoint = s.begin_nested()
        try:
            result = call()
        except DomainError as exc:
            inside = snapshot(s)
            assert (inside.sizes, inside.entries) == (before.sizes, before.entries), \
                f"{op} was refused ({exc!r}) after writing to a log"
            assert nonzero(inside.balances) == nonzero(before.balances), f"{op} was refused ({exc!r}) after moving credit"
            if exc.keep_changes:
                savepoint.commit()
            else:
                savepoint.rollback()
            assert snapshot(s) == before, f"{op} was refused ({exc!r}) but changed the books"
            self.count(op, f"refused {exc.code}")
            return None, exc
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
        savepoint.commit()
        after = snapshot(s)
        assert after.entries > before.entries, f"{op} succeeded without a ledger entry"
        self.count(op, "ok")
        return result, None

    def run(self, op: str, call: Callable[[str | None, datetime], Any],
            other: Callable[[str, datetime], Any], use_key: bool) -> Any:
        """`attempt` the call, with a fresh idempotency key if `use_key`; remember a keyed success."""
        key = f"{op}-{uuid.uuid4().hex[:12]}" if use_key else None
        at = self.tick()
        result, _error = self.attempt(op, lambda: call(key, at))
        if result is not None and key is not None:
            self.keyed.append(Keyed(op, key, result_id(result), call, other))
        return result

    def start_of(self, when: str, pick: int, at: datetime) -> datetime:
        if when == "overlap" and self.records:
            return self.records[pick % len(self.records)].start + timedelta(minutes=15)
        if when == "future":
            return at + timedelta(minutes=30)
        if when == "late":
            return self.now - timedelta(days=20)  # past the 10 working days to complete it
        self.slot += 1  # two-hour slots back from now: no two of them overlap
        return self.now - timedelta(hours=2 * self.slot)

    def other_staff(self, name: str) -> str:
        return self.staff[STAFF[(STAFF.index(name) + 1) % len(STAFF)]]

    def choose(self, items: list[Any], pick: int, fitting: bool, wanted: Callable[[Any], bool]) -> Any:
        """One of `items`: usually (`fitting`) among those `wanted`, when there are any."""
        pool = [item for item in items if wanted(item)] if fitting else []
        pool = pool or items
        return pool[pick % len(pool)]

    def region_staff(self, elder: str, which: str) -> str:
        """Staff for a record of `elder`: its coordinator, its administrator, or the other bank's coordinator."""
        suqian = elder == "e_sq"
        name = {"right": "sq_coord" if suqian else "hz_coord", "admin": "sq_admin" if suqian else "hz_admin",
                "coordinator": "sq_coord" if suqian else "hz_coord", "wrong": "hz_coord" if suqian else "sq_coord",
                "wrong_admin": "hz_admin" if suqian else "sq_admin"}[which]
        return self.staff[name]

    # --- service records ----------------------------------------------------------------------

    @rule(volunteer=st.sampled_from(VOLUNTEERS), elder=st.sampled_from(ELDERS * 2 + ("v_old",)),
          code=st.sampled_from(("VISIT",) * 4 + ("MEAL", "BATH", "NURSING")), span=st.sampled_from((60, 120, 30, 90)),
          when=st.sampled_from(("slot",) * 5 + ("overlap", "future", "late")), go=st.sampled_from((2, 1, 0)),
          pick=picks, keyed=keyed)
    def post_record(self, volunteer: str, elder: str, code: str, span: int, when: str, go: int, pick: int,
                    keyed: bool) -> None:
        """Submit (a volunteer as the elder is NotFound; BATH needs training; NURSING is not for
        volunteers; overlapping, future and late times and over 8 hours a day are refused), then
        maybe confirm with the elder's code and verify by the elder's coordinator."""
        w, at = self.world, self.tick()
        start = self.start_of(when, pick, at)
        vol, eld = self.people[volunteer], self.people[elder]

        def call(key: str | None, at: datetime, start: datetime = start) -> Any:
            return submit(w, vol, eld, code=code, start=start, span=span, at=at, idempotency_key=key)

        def other(key: str, at: datetime) -> Any:
            return call(key, at, start + timedelta(minutes=1))

        submitted = self.run("submit", call, other, keyed)
        if submitted is None:
            return
        record, confirmation = submitted
        rec = Rec(record.id, confirmation, volunteer, elder, code, span, start)
        self.records.append(rec)
        if go >= 1:
            self.confirm(pick=len(self.records) - 1, fitting=False, good_code=True)
        if go >= 2:
            self.verify(pick=len(self.records) - 1, fitting=False, staff="right", keyed=False)

    @precondition(lambda self: any(r.status == "submitted" for r in self.records))
    @rule(pick=picks, fitting=fitting, good_code=fitting)
    def confirm(self, pick: int, fitting: bool, good_code: bool) -> None:
        """Confirm with the elder's code, or a wrong one (the attempt is counted and kept: still no
        credit); a record not awaiting confirmation is a Conflict."""
        rec = self.choose(self.records, pick, fitting, lambda r: r.status == "submitted")
        code = rec.code if good_code and rec.code else f"{(int(rec.code or '0') + 1) % 10**6:06d}"
        done, _error = self.attempt("confirm", lambda: confirm_with_code(
            self.session, self.world.writer, record_id=rec.id, code=code, at=self.tick()))
        if done is not None:
            rec.status = "confirmed"

    @precondition(lambda self: any(r.status == "confirmed" for r in self.records))
    @rule(pick=picks, fitting=fitting, staff=st.sampled_from(("right", "right", "admin", "wrong")), keyed=keyed)
    def verify(self, pick: int, fitting: bool, staff: str, keyed: bool) -> None:
        """Verify (post credit and points): only a confirmed record, by staff covering the elder."""
        rec = self.choose(self.records, pick, fitting, lambda r: r.status == "confirmed")

        def call(key: str | None, at: datetime, staff_id: str = self.region_staff(rec.elder, staff)) -> Any:
            return verify_record(self.session, self.world.writer, record_id=rec.id, staff_id=staff_id, at=at,
                                 idempotency_key=key)

        other = self.region_staff(rec.elder, "admin" if staff != "admin" else "right")
        record = self.run("verify", call, lambda key, at: call(key, at, other), keyed)
        if record is None:
            return
        assert rec.status == "confirmed", rec
        earned = 0 if (rec.volunteer, rec.elder) in HOUSEHOLD else half_up(rec.minutes, self.weights[rec.catalogue])
        assert (record.credit_minutes, record.points) == (earned, earned // 60), (rec, record.credit_minutes)
        rec.status, rec.credit, rec.points = "posted", earned, earned // 60
        self.credit[rec.volunteer] += rec.credit
        self.points[rec.volunteer] += rec.points

    @precondition(lambda self: any(r.status == "posted" for r in self.records))
    @rule(pick=picks, fitting=fitting, approver=st.sampled_from(("admin", "admin", "coordinator", "wrong_admin")),
          reason=st.sampled_from(("录入错误", "录入错误", " ")), keyed=keyed)
    def reverse(self, pick: int, fitting: bool, approver: str, reason: str, keyed: bool) -> None:
        """Reverse a posted record: by an administrator covering the elder, with a reason; refused
        once its credit or points are spent, or twice."""
        rec = self.choose(self.records, pick, fitting, lambda r: r.status == "posted")
        approver_id = self.region_staff(rec.elder, approver)

        def call(key: str | None, at: datetime, reason: str = reason) -> Any:
            return reverse_record(self.session, self.world.writer, record_id=rec.id, reason=reason,
                                  approver_id=approver_id, at=at, idempotency_key=key)

        if self.run("reverse", call, lambda key, at: call(key, at, reason + "（更正）"), keyed) is None:
            return
        assert rec.status == "posted" and self.credit[rec.volunteer] >= rec.credit, rec
        rec.status = "reversed"
        self.credit[rec.volunteer] -= rec.credit
        self.points[rec.volunteer] -= rec.points

    # --- gifts --------------------------------------------------------------------------------

    def _give(self, giver: str, recipient: str, relation: str, minutes: int, keyed: bool) -> None:
        across = HOME[giver] != HOME[recipient]

        def call(key: str | None, at: datetime, minutes: int = minutes) -> Any:
            return gifts.give_credit(self.session, self.world.writer, giver_id=self.ids[giver],
                                     recipient_id=self.ids[recipient], minutes=minutes, relation=relation, at=at,
                                     idempotency_key=key)

        gift = self.run("gift_across" if across else "gift", call, lambda key, at: call(key, at, minutes + 1), keyed)
        if gift is None:
            return
        assert gift.minutes == minutes and self.credit[giver] >= minutes, (giver, self.credit[giver], minutes)
        self.credit[giver] -= minutes
        self.credit[recipient] += minutes
        if across:
            self.held[(self.bank_id(HOME[giver]), "credit", "clearing", self.bank_id(HOME[recipient]))] += minutes

    @rule(pair=st.integers(min_value=0, max_value=len(PARENTS) - 1), minutes=amounts, keyed=keyed)
    def give_to_parent(self, pair: int, minutes: int, keyed: bool) -> None:
        """A child gives to a registered parent, in the same bank or across banks."""
        giver, recipient = PARENTS[pair]
        self._give(giver, recipient, "parent", minutes, keyed)

    @rule(pick=picks, fitting=fitting, recipient=st.sampled_from(PEOPLE),
          relation=st.sampled_from(("spouse", "parent", "child", "friend")), minutes=amounts, keyed=keyed)
    def give(self, pick: int, fitting: bool, recipient: str, relation: str, minutes: int, keyed: bool) -> None:
        """Any gift, usually from someone holding credit: to a stated spouse (not checked against
        any register), to oneself, to a 'friend' (not in policy), or against the register."""
        giver = self.choose(list(PEOPLE), pick, fitting, lambda name: self.credit[name] > 0)
        self._give(giver, recipient, relation, minutes, keyed)

    # --- redemption ---------------------------------------------------------------------------

    @rule(pick=picks, fitting=fitting, where=st.sampled_from(("home", "home", "away", "far")),
          code=st.sampled_from(("MEAL",) * 4 + ("BATH", "NURSING", "NOSUCH")), minutes=redeemed,
          requester=st.sampled_from(("self",) * 3 + ("relative", "staff", "stranger")),
          then=st.sampled_from(("volunteer", "station", "cancel", "leave")), keyed=keyed)
    def request(self, pick: int, fitting: bool, where: str, code: str, minutes: int, requester: str, then: str,
                keyed: bool) -> None:
        """Request a service paid with credit, usually by someone holding some (refused for a
        volunteer under 60, too much, unknown items, strangers asking, a relative who may not
        redeem), then maybe complete it with a volunteer or a station of the serving bank, or cancel it."""
        redeemer = self.choose(list(PEOPLE), pick, fitting, lambda name: self.credit[name] >= 60 and name != "v_young")
        order = ("hz", "sq", "lyg")
        home_place = order.index(next(p for p, bank in PLACES.items() if bank == HOME[redeemer]))
        place = order[(home_place + ("home", "away", "far").index(where)) % 3]
        by = {"self": self.ids[redeemer], "staff": self.staff[COVERING[place]],
              "relative": next((self.ids[child] for child, parent in PARENTS if parent == redeemer),
                               self.ids["v_suqian"]),
              "stranger": self.ids["v_lyg" if redeemer == "v_suqian" else "v_suqian"]}[requester]
        home, serving = HOME[redeemer], PLACES[place]

        def call(key: str | None, at: datetime, minutes: int = minutes) -> Any:
            return request_redemption(self.session, self.world.writer, redeemer_id=self.ids[redeemer],
                                      catalogue_code=code, minutes=minutes, region_id=self.places[place].id,
                                      requested_by=by, at=at, idempotency_key=key)

        redemption = self.run("request_away" if home != serving else "request", call,
                              lambda key, at: call(key, at, minutes + 1), keyed)
        if redemption is None:
            return
        cost = half_up(minutes, self.weights[code])
        assert redemption.credit_minutes == cost and redemption.is_away == (home != serving)
        assert self.credit[redeemer] >= cost, (redeemer, self.credit[redeemer], cost)
        self.redemptions.append(Rdm(redemption.id, redeemer, home, serving, place, cost))
        self.credit[redeemer] -= cost
        self.held[(self.bank_id(home), "credit", "escrow", self.bank_id(home))] += cost
        if then == "cancel":
            self.cancel(pick=len(self.redemptions) - 1, fitting=False, canceller="self", keyed=False)
        elif then != "leave":
            self.complete(pick=len(self.redemptions) - 1, fitting=False, provider=then, right_staff=True, keyed=False)

    def provider(self, rdm: Rdm, kind: str) -> tuple[str | None, dict[str, str]]:
        """(the provider's name, the keyword arguments naming it) for a kind of provider choice."""
        mine = [v for v in VOLUNTEERS if HOME[v] == rdm.serving and v != rdm.redeemer]
        foreign = [v for v in VOLUNTEERS if HOME[v] != rdm.serving]
        station = STATION_OF[rdm.serving]
        away_station = next(s for bank, s in STATION_OF.items() if bank != rdm.serving)
        name = {"volunteer": (mine or foreign)[0], "wrong_volunteer": foreign[0], "station": station,
                "wrong_station": away_station, "redeemer": rdm.redeemer, "both": station, "none": None}[kind]
        named: dict[str, str] = {}
        if name in self.stations:
            named["station_id"] = self.stations[name]
        if name in self.ids or kind == "both":
            named["provider_volunteer_id"] = self.ids[name] if name in self.ids else self.ids[(mine or foreign)[0]]
        return name, named

    @precondition(lambda self: any(r.status == "requested" for r in self.redemptions))
    @rule(pick=picks, fitting=fitting,
          provider=st.sampled_from(("volunteer", "station", "volunteer", "station", "wrong_volunteer",
                                    "wrong_station", "redeemer", "none", "both")),
          right_staff=fitting, keyed=keyed)
    def complete(self, pick: int, fitting: bool, provider: str, right_staff: bool, keyed: bool) -> None:
        """Complete: paid to a volunteer of the serving bank (not for BATH without training, nor
        NURSING) or a station under it; away, through clearing and an `away` entry in the serving
        bank. Completed or cancelled ones are a Conflict."""
        rdm = self.choose(self.redemptions, pick, fitting, lambda r: r.status == "requested")
        name, named = self.provider(rdm, provider)
        staff = COVERING[rdm.place] if right_staff else ("hz_coord" if rdm.place != "hz" else "sq_coord")

        def call(key: str | None, at: datetime, by: str = self.staff[staff]) -> Any:
            return complete_redemption(self.session, self.world.writer, redemption_id=rdm.id, completed_by=by, at=at,
                                       idempotency_key=key, **named)

        op = "complete_away" if rdm.home != rdm.serving else (
            "complete_station" if name in STATIONS else "complete_volunteer")
        if self.run(op, call, lambda key, at: call(key, at, self.other_staff(staff)), keyed) is None:
            return
        assert rdm.status == "requested" and name is not None and len(named) == 1, (rdm, named)
        rdm.status = "completed"
        home, serving = self.bank_id(rdm.home), self.bank_id(rdm.serving)
        self.held[(home, "credit", "escrow", home)] -= rdm.credit
        if home != serving:
            self.held[(home, "credit", "clearing", serving)] += rdm.credit
        if name in STATIONS:
            assert name == STATION_OF[rdm.serving]
            self.held[(serving, "credit", "backstop", serving)] += rdm.credit
        else:
            assert HOME[name] == rdm.serving and name != rdm.redeemer
            self.credit[name] += rdm.credit

    @precondition(lambda self: any(r.status == "requested" for r in self.redemptions))
    @rule(pick=picks, fitting=fitting, canceller=st.sampled_from(("self", "staff", "stranger")), keyed=keyed)
    def cancel(self, pick: int, fitting: bool, canceller: str, keyed: bool) -> None:
        """Cancel and return the hold (refused once completed or cancelled, or by a stranger)."""
        rdm = self.choose(self.redemptions, pick, fitting, lambda r: r.status == "requested")
        by = {"self": self.ids[rdm.redeemer], "staff": self.staff[COVERING[rdm.place]],
              "stranger": self.ids["v_lyg" if rdm.redeemer == "v_suqian" else "v_suqian"]}[canceller]

        def call(key: str | None, at: datetime, by: str = by) -> Any:
            return cancel_redemption(self.session, self.world.writer, redemption_id=rdm.id, cancelled_by=by, at=at,
                                     idempotency_key=key)

        other = self.staff[COVERING[rdm.place]] if canceller != "staff" else self.ids[rdm.redeemer]
        if self.run("cancel", call, lambda key, at: call(key, at, other), keyed) is None:
            return
        assert rdm.status == "requested", rdm
        rdm.status = "cancelled"
        home = self.bank_id(rdm.home)
        self.held[(home, "credit", "escrow", home)] -= rdm.credit
        self.credit[rdm.redeemer] += rdm.credit

    # --- points -------------------------------------------------------------------------------

    @rule(pick=picks, fitting=fitting,
          count=st.sampled_from((1, 2, 1, 0, 50, 10**7)),
          shop=st.sampled_from(points.SHOPS + ("casino",)), keyed=keyed)
    def spend(self, pick: int, fitting: bool, count: int, shop: str, keyed: bool) -> None:
        """Spend points on goods, usually by a volunteer holding some (an elder is NotFound)."""
        volunteer = self.choose(list(VOLUNTEERS + ("e_hz",)), pick, fitting, lambda name: self.points[name] > 0)

        def call(key: str | None, at: datetime, count: int = count) -> Any:
            return points.spend_points(self.session, self.world.writer, volunteer_id=self.ids[volunteer],
                                       points=count, shop=shop, item="大米一袋", at=at, idempotency_key=key)

        if self.run("spend", call, lambda key, at: call(key, at, count + 1), keyed) is None:
            return
        assert self.points[volunteer] >= count, (volunteer, self.points[volunteer], count)
        bank = self.bank_id(HOME[volunteer])
        self.points[volunteer] -= count
        self.held[(bank, "point", "goods", bank)] += count

    # --- idempotency keys ---------------------------------------------------------------------

    @precondition(lambda self: self.keyed)
    @rule(pick=picks)
    def retry(self, pick: int) -> None:
        """The same request with the same key returns the first result and moves nothing."""
        done = self.keyed[pick % len(self.keyed)]
        s = self.session
        before = snapshot(s)
        with s.begin_nested():
            again = done.again(done.key, self.tick())
        assert result_id(again) == done.result_id, (done.op, done.key)
        assert snapshot(s) == before, f"retrying {done.op} with key {done.key} changed the books"
        self.count("retry", "ok")

    @precondition(lambda self: self.keyed)
    @rule(pick=picks, same_operation=st.booleans())
    def reuse_key(self, pick: int, same_operation: bool) -> None:
        """A key reused for another request (of the same operation, or another one) is a Conflict."""
        done = self.keyed[pick % len(self.keyed)]
        at = self.tick()
        if same_operation:
            def call() -> Any:
                return done.other(done.key, at)
        elif done.op == "spend":
            def call() -> Any:
                return gifts.give_credit(self.session, self.world.writer, giver_id=self.ids["v_young"],
                                         recipient_id=self.ids["e_hz"], minutes=1, relation="parent", at=at,
                                         idempotency_key=done.key)
        else:
            def call() -> Any:
                return points.spend_points(self.session, self.world.writer, volunteer_id=self.ids["v_young"],
                                           points=1, shop="love_market", item="大米一袋", at=at,
                                           idempotency_key=done.key)
        result, error = self.attempt("reuse_key", call)
        assert isinstance(error, Conflict), f"key {done.key} of {done.op} reused: {result!r} {error!r}"
        self.count("key_conflict", "ok")

    # --- after every step -----------------------------------------------------------------------

    @invariant()
    def books_hold(self) -> None:
        """Every leaf's postings sum to zero per unit and stay in their bank; no balance but
        issuance is negative, kept or re-derived from the leaves; each bank reconciles and its books
        sum to zero per unit; every balance is what the model expects."""
        s = self.session
        s.expire_all()
        kept = {acc.id: acc for acc in s.scalars(sa.select(Account))}
        derived: dict[str, int] = defaultdict(int)
        for bank in self.banks.values():
            assert bank.log_id is not None
            for seq, data in enumerate(store.read_leaves(s, bank.log_id, 0, store.stored_size(s, bank.log_id))):
                leaf = json.loads(data)
                sums: dict[str, int] = defaultdict(int)
                for posting in leaf.get("postings") or []:
                    acc = kept[posting["account"]]
                    assert (acc.bank_id, acc.unit) == (bank.id, posting["unit"]), (bank.log_id, seq, posting)
                    sums[posting["unit"]] += posting["amount"]
                    derived[acc.id] += posting["amount"]
                assert not any(sums.values()), f"{bank.log_id} leaf {seq} ({leaf['type']}): postings sum to {sums}"
        books: dict[tuple[str, str], int] = defaultdict(int)
        for acc in kept.values():
            if acc.kind != "issuance":
                assert acc.balance >= 0 and derived[acc.id] >= 0, (acc.kind, acc.balance, derived[acc.id])
            assert acc.balance == derived[acc.id], (acc.id, acc.kind, acc.balance, derived[acc.id])
            books[(acc.bank_id, acc.unit)] += acc.balance
        assert not any(books.values()), dict(books)
        for bank in self.banks.values():
            found = reconcile(s, bank)
            assert found.ok, found.differences
        check_books(s)
        people_held: dict[tuple[str, str], int] = defaultdict(int)  # over all banks, like accounts.person_balance
        for acc in kept.values():
            if acc.kind == "person":
                people_held[(acc.owner_id, acc.unit)] += acc.balance
        for name, person_id in self.ids.items():
            assert people_held[(person_id, "credit")] == self.credit[name], (name, self.credit[name])
            assert people_held[(person_id, "point")] == self.points[name], (name, self.points[name])
        held = {(acc.bank_id, acc.unit, acc.kind, acc.owner_id): acc.balance for acc in kept.values()
                if acc.kind in MODELLED_KINDS and acc.balance}
        assert held == {k: v for k, v in self.held.items() if v}


SETTINGS = settings(max_examples=25, stateful_step_count=20, deadline=None, derandomize=True, database=None,
                    report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.slow
def test_random_sequences_of_use_cases_keep_the_books(engine: Engine, now: datetime) -> None:
    SUCCESSES.clear()
    run_state_machine_as_test(lambda: Books(engine, now), settings=SETTINGS)
    families = {FAMILY.get(op, op) for op in EVERY_OPERATION}
    never = sorted(families - {FAMILY.get(op, op) for op, n in SUCCESSES.items() if n})
    assert not never, f"the random run never reached a successful {never}; it reached {dict(SUCCESSES)}"


@pytest.fixture
def machine(engine: Engine, now: datetime) -> Iterator[Books]:
    books = Books(engine, now)
    yield books
    books.teardown()


def test_one_fixed_sequence_reaches_every_operation(machine: Books) -> None:
    m = machine
    # (the operation that must succeed, or None for a refusal; the step). Records 0–2 are the
    # starting ones: v_young → e_hz (120), v_old → e_sq (120), v_lyg → e_hz (90).
    steps: list[tuple[str | None, Callable[[], None]]] = [
        ("submit", lambda: m.post_record(volunteer="v_suqian", elder="e_sq", code="MEAL", span=120, when="slot", go=0,
                                         pick=0, keyed=True)),
        (None, lambda: m.confirm(pick=3, fitting=False, good_code=False)),
        ("confirm", lambda: m.confirm(pick=3, fitting=False, good_code=True)),
        ("verify", lambda: m.verify(pick=3, fitting=False, staff="right", keyed=True)),
        ("spend", lambda: m.spend(pick=2, fitting=False, count=1, shop="love_market", keyed=True)),  # v_suqian
        ("gift", lambda: m.give_to_parent(pair=0, minutes=30, keyed=True)),  # v_young → e_hz
        ("gift_across", lambda: m.give_to_parent(pair=2, minutes=20, keyed=False)),  # haizhou → suqian
        ("request", lambda: m.request(pick=4, fitting=False, where="home", code="MEAL", minutes=10,  # e_hz
                                      requester="relative", then="leave", keyed=True)),
        ("complete_volunteer", lambda: m.complete(pick=0, fitting=False, provider="volunteer", right_staff=True,
                                                  keyed=True)),
        ("request", lambda: m.request(pick=4, fitting=False, where="home", code="MEAL", minutes=10, requester="self",
                                      then="leave", keyed=False)),
        ("complete_station", lambda: m.complete(pick=1, fitting=False, provider="station", right_staff=True,
                                                keyed=False)),
        ("request_away", lambda: m.request(pick=1, fitting=False, where="away", code="MEAL", minutes=30,  # v_old
                                           requester="self", then="leave", keyed=False)),
        ("complete_away", lambda: m.complete(pick=2, fitting=False, provider="volunteer", right_staff=True,
                                             keyed=False)),
        ("request", lambda: m.request(pick=6, fitting=False, where="home", code="MEAL", minutes=5,  # e_sq
                                      requester="self", then="leave", keyed=False)),
        ("cancel", lambda: m.cancel(pick=3, fitting=False, canceller="self", keyed=True)),
        ("reverse", lambda: m.reverse(pick=2, fitting=False, approver="admin", reason="录入错误",  # v_lyg's 90
                                      keyed=True)),
        (None, lambda: m.reverse(pick=2, fitting=False, approver="admin", reason="录入错误", keyed=False)),  # twice
        ("retry", lambda: m.retry(pick=0)),  # the submission
        ("retry", lambda: m.retry(pick=5)),  # the completion
        ("key_conflict", lambda: m.reuse_key(pick=1, same_operation=True)),  # verify, by other staff
        ("key_conflict", lambda: m.reuse_key(pick=2, same_operation=False)),  # a spend key, for a gift
        ("key_conflict", lambda: m.reuse_key(pick=3, same_operation=False)),  # a gift key, for a spend
    ]
    m.books_hold()
    for expected, step in steps:
        before = Counter(m.successes)
        step()
        assert m.successes - before == (Counter({expected: 1}) if expected else Counter()), (expected, m.successes)
        m.books_hold()
    assert EVERY_OPERATION <= set(m.successes), sorted(EVERY_OPERATION - set(m.successes))
    assert (m.credit["v_lyg"], m.points["v_suqian"], m.credit["v_suqian"]) == (0, 1, 150)


def test_refusals_in_the_machine_change_nothing(machine: Books) -> None:
    m = machine
    before: Snapshot = snapshot(m.session)
    m.give(pick=0, fitting=False, recipient="e_hz", relation="parent", minutes=100_000, keyed=True)  # too much
    m.request(pick=0, fitting=False, where="home", code="MEAL", minutes=10, requester="self", then="volunteer",
              keyed=True)  # aged 36
    m.spend(pick=1, fitting=False, count=50, shop="micro_wish", keyed=True)  # v_old holds 2 points
    m.give(pick=1, fitting=False, recipient="e_hz2", relation="child", minutes=1, keyed=False)  # the register: parent
    assert snapshot(m.session) == before and m.keyed == [] and not m.successes
