"""Fixtures of the live-HTTP tests: the real app served by werkzeug on a socket, requests with urllib."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from livehttp import BULK_BATCHES, BULK_LOG, BULK_SIZES, DEMO_BATCH, DEMO_ENTRIES, LiveServer, add_log, build, serving

from api.settings import Settings


@pytest.fixture(scope="session")
def demo(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the read-only tests: the two demo banks (37 entries in batches of 5) and
    log `bulk` (1112 entries, 161 signed checkpoints, a key whose base64 holds '+')."""
    settings = build(databases.new_url(), tmp_path_factory.mktemp("demo"), entries=DEMO_ENTRIES, batch=DEMO_BATCH)
    assert add_log(settings, BULK_LOG, BULK_BATCHES, plus=True) == BULK_SIZES
    with serving(settings) as server:
        yield server


@pytest.fixture
def deploy(databases: Any, tmp_path: Path) -> Callable[..., Settings]:
    """Makes a new deployment of its own (database, keys, demo data): `deploy(entries=12)`."""
    counter = itertools.count()

    def make(**kwargs: Any) -> Settings:
        root = tmp_path / f"deployment-{next(counter)}"
        root.mkdir()
        return build(databases.new_url(), root, **kwargs)

    return make


@pytest.fixture
def serve() -> Iterator[Callable[[Settings], LiveServer]]:
    """Starts servers that stop when the test ends: `server = serve(settings)`."""
    with ExitStack() as stack:
        yield lambda settings: stack.enter_context(serving(settings))


@pytest.fixture(scope="session")
def need_tool(pytestconfig: pytest.Config) -> Callable[[bool, str], None]:
    """`need_tool` of tests/conftest.py. Both conftests are modules named `conftest`, so a plain
    import here would find this file; take the one pytest loaded instead."""
    wanted = (pytestconfig.rootpath / "tests" / "conftest.py").resolve()
    for plugin in pytestconfig.pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType) and Path(getattr(plugin, "__file__", "") or "").resolve() == wanted:
            return plugin.need_tool  # type: ignore[no-any-return]
    raise LookupError(f"{wanted} is not loaded")


@pytest.fixture(scope="module")
def api_world(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The /api/v1 app on a database of its own, shared by a module's tests (see apiworld.py)."""
    from apiworld import build

    world = build(databases.new_url(), tmp_path_factory.mktemp("apiworld"))
    yield world
    world.app.extensions["timebank.engine"].dispose()


@pytest.fixture
def fresh_api_world(databases: Any, tmp_path: Path) -> Iterator[Any]:
    """The same, for one test that changes what others would read."""
    from apiworld import build

    (tmp_path / "apiworld").mkdir()
    world = build(databases.new_url(), tmp_path / "apiworld")
    yield world
    world.app.extensions["timebank.engine"].dispose()
