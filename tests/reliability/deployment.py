"""A committed deployment for the reliability suites: a migrated database, a key folder and a small
network of banks and people, described by plain ids that a spawned process can be handed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger import audit, store
from ledger.database import create_engine
from ledger.keys import Keyring
from ledger.writer import Writer
from tests.timebank.world import make_elder, make_volunteer, make_world
from timebank import policy
from timebank.accounts import Account
from timebank.reconcile import reconcile
from timebank.regions import Region
from timebank.sealing import Sealer

NOW = datetime(2026, 11, 25, 9, 30, 0, tzinfo=timezone.utc)
ORIGIN_HOST = "timebank.test"


@dataclass(frozen=True)
class Network:
    """Ids of the committed world: the bank every worker uses, its staff and people."""

    bank: str  # haizhou
    region: str  # a community under it
    coordinator: str
    admin: str
    volunteers: list[str]
    elders: list[str]


@dataclass(frozen=True)
class Deployment:
    """A database URL and the folder holding its keys (root/keys) and sealing keys."""

    url: str
    root: Path

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    def writer(self) -> Writer:
        return Writer(Keyring(self.key_dir))

    def sealer(self) -> Sealer:
        stored = json.loads((self.root / "sealer.json").read_text())
        return Sealer({k: bytes.fromhex(v) for k, v in stored["keys"].items()}, stored["current"],
                      bytes.fromhex(stored["index_key"]))

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with Session(engine) as db:
                yield db
        finally:
            engine.dispose()

    def env(self) -> dict[str, str]:
        """The environment of a `timebank` command on this deployment, and nothing of the caller's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
        for name in ("DATABASE_URL", "SECRET_KEY", "PORT"):
            env.pop(name, None)
        env.update(DATABASE_URL=self.url, TIMEBANK_INSTANCE=str(self.root / "instance"),
                   TIMEBANK_KEY_DIR=str(self.key_dir), TIMEBANK_ORIGIN_HOST=ORIGIN_HOST)
        return env


def build(url: str, root: Path, *, volunteers: int = 6, elders: int = 4) -> tuple[Deployment, Network]:
    """Commit the test world (three banks) into the migrated database `url`, with policy on haizhou
    that lets workers log many short services a day (overlap allowed, a cap of 1440 minutes), and
    `volunteers` volunteers aged 75 (old enough to redeem) and `elders` elders in its community."""
    deployment = Deployment(url, root)
    sealer = Sealer.generate()
    root.mkdir(parents=True, exist_ok=True)
    (root / "sealer.json").write_text(json.dumps({
        "keys": {k: v.hex() for k, v in sealer.keys.items()}, "current": sealer.current,
        "index_key": sealer.index_key.hex()}))
    with deployment.session() as db:
        world = make_world(db, deployment.writer(), sealer, NOW)
        policy.set_policy(db, deployment.writer(), region_id=world.haizhou.id, set_by=world.admin.id, at=NOW,
                          changes={"allow_overlap": True, "daily_cap_minutes": 1440})
        people = [make_volunteer(db, sealer, world.community, NOW, birth_date=date(1951, 2, 3)).id
                  for _ in range(volunteers)]
        olds = [make_elder(db, sealer, world.community, NOW).id for _ in range(elders)]
        network = Network(world.haizhou.id, world.community.id, world.coordinator.id, world.admin.id, people, olds)
        db.commit()
    (root / "network.json").write_text(json.dumps(asdict(network)))
    return deployment, network


def load_network(root: Path) -> Network:
    return Network(**json.loads((root / "network.json").read_text()))


def verify_everything(db: Session, key_dir: Path, kept: dict[str, list[bytes]] | None = None) -> dict[str, int]:
    """Every log verifies against its key (and the checkpoints kept earlier), its head matches the
    stored tree, and every bank reconciles (balances, records, policy rows); returns each log's size.
    Fails the test with what was found otherwise."""
    keyring = Keyring(key_dir)
    sizes = {}
    for info in store.list_logs(db):
        verifier = keyring.signer(info.id, info.origin).verifier
        report = audit.verify_log(db, info.id, verifier, kept=(kept or {}).get(info.id, []))
        assert report.ok, str(report.problem)
        head = store.check_head(db, info.id, verifier)
        assert head.size == report.size == store.stored_size(db, info.id)
        sizes[info.id] = report.size
    for bank in db.scalars(sa.select(Region).where(Region.log_id.is_not(None))):
        found = reconcile(db, bank)
        assert found.ok, found.differences
    negative = db.scalars(sa.select(Account.id).where(Account.kind != "issuance", Account.balance < 0)).all()
    assert negative == []
    return sizes
