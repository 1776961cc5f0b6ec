"""The app served for real: gunicorn with two worker processes on a loopback port, and a client
with its own cookie jar, as a browser or a school's system would use it."""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Http:
    """A client with its own cookies: `call(method, path, body, headers)` → (status, headers, json)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
             ) -> tuple[int, Any, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with self.opener.open(request, timeout=30) as response:
                raw = response.read()
                return response.status, response.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
            return error.code, error.headers, json.loads(raw) if raw else None


@contextmanager
def gunicorn(url: str, root: Path, *, workers: int = 2) -> Iterator[str]:
    """Serve database `url` (instance, keys and personal-data keys under `root`, as apiworld.build
    lays them out) with gunicorn --preload; yield the base URL; stop it after."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TIMEBANK_INSTANCE": str(root), "TIMEBANK_KEY_DIR": str(root / "keys"),
           "TIMEBANK_PERSONAL_DATA_KEYS": str(root / "personal-data.keys"), "SECRET_KEY": "test-secret",
           "TIMEBANK_ORIGIN_HOST": "timebank.test"}
    log = root / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                                    "--preload", "api.app:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    response.read()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
