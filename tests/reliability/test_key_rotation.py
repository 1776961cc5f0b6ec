"""Rotating the personal-data key while the service runs: gunicorn's two workers keep registering
and reading elders (sealing and opening names, ID numbers, phones) while `timebank keys
rotate-personal-data --retire` runs beside them. No request fails, every value reads back as it was
written, and afterwards only the new key remains and seals everything."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from timebank import rekey, sealing

from .conftest import rounds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from access_people import resident_id  # noqa: E402
from apiworld import PASSWORD, build  # noqa: E402
from gunicorn_served import Http, gunicorn  # noqa: E402
from livehttp import console_env, session_on  # noqa: E402

TIMEBANK = Path(sys.executable).with_name("timebank")


class Traffic(threading.Thread):
    """A coordinator registering an elder and reading them back, again and again, until stopped."""

    def __init__(self, base: str, world: Any) -> None:
        super().__init__(daemon=True)
        self.http, self.world = Http(base), world
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.done = 0
        _, _, signed = self.http.call("POST", "/api/v1/auth/sign-in",
                                      {"username": world.usernames["coordinator"], "password": PASSWORD})
        self.headers = {"X-CSRF-Token": signed["csrf_token"]}

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            birth = date(1930 + n % 20, 1 + n % 12, 1 + n % 28)
            name = f"轮换{n}号"
            body = {"region_id": self.world.ids["community"], "name": name, "sex": "M",
                    "birth_date": birth.isoformat(), "id_number": resident_id(birth, "M"), "phone": "13500000000",
                    "address": f"朝阳社区{n}号楼", "tags": []}
            status, _, made = self.http.call("POST", "/api/v1/elders", body, self.headers)
            if status != 201:
                self.failures.append(f"register {n}: {status} {made}")
                continue
            status, _, read = self.http.call("GET", f"/api/v1/elders/{made['id']}", None, self.headers)
            if status != 200 or read.get("name") != name or read.get("address") != body["address"]:
                self.failures.append(f"read {n}: {status} {read}")
            self.done += 1


@pytest.mark.slow
def test_the_personal_data_key_rotates_under_load_without_a_failed_request(
        databases: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("rotation")
    url = databases.new_url()
    world = build(url, root)
    world.app.extensions["timebank.engine"].dispose()
    key_file = root / "personal-data.keys"
    first = sealing.load_or_create(key_file).current
    env = {**console_env(url, root), "TIMEBANK_PERSONAL_DATA_KEYS": str(key_file)}
    with gunicorn(url, root) as base:
        traffic = Traffic(base, world)
        traffic.start()
        try:
            for _ in range(rounds(2, 6)):
                before = traffic.done
                rotated = subprocess.run([str(TIMEBANK), "keys", "rotate-personal-data", "--retire"], env=env,
                                         capture_output=True, text=True, timeout=300)
                assert rotated.returncode == 0, rotated.stderr
                while traffic.done < before + 3 and traffic.is_alive():  # requests on both sides of it
                    traffic.stop.wait(0.05)
        finally:
            traffic.stop.set()
            traffic.join(timeout=60)
    assert not traffic.failures, traffic.failures[:5]
    assert traffic.done >= rounds(2, 6) * 3
    sealer = sealing.load_or_create(key_file)
    assert first not in sealer.keys and list(sealer.keys) == [sealer.current]
    with session_on(url) as session:
        usage = rekey.key_usage(session, sealer)
    assert usage[None] == 0 and usage[sealer.current] > 0
