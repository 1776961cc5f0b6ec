"""The auditors' API over real HTTP: bad parameters, unknown logs, and no 500 for any input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from livehttp import API, BULK_LOG, DEMO_LOGS, DEMO_SIZES, HUGE, LiveServer, error_of

LOG = "lianyungang"
LATEST = DEMO_SIZES[-1]


def names(message: str, param: str) -> bool:
    """Whether `message` names the query parameter `param` (as `old_size` or `old size`)."""
    pattern = param.replace("_", "[_ ]")
    return re.search(rf"(?<![A-Za-z_]){pattern}(?![A-Za-z_])", message) is not None


BAD_NUMBERS = {"negative": "-1", "not-a-number": "ten", "float": "1.5", "huge": str(HUGE), "huger": "9" * 30}
NUMERIC = [
    ("/checkpoints", {}, "before"),
    ("/checkpoints", {}, "limit"),
    ("/entries", {"end": "10"}, "start"),
    ("/entries", {"start": "0"}, "end"),
    ("/proof/inclusion", {}, "index"),
    ("/proof/inclusion", {"index": "0"}, "tree_size"),
    ("/proof/consistency", {}, "old_size"),
    ("/proof/consistency", {"old_size": "0"}, "new_size"),
]


def _bad_parameters() -> Iterator[Any]:
    for label, value in BAD_NUMBERS.items():
        yield pytest.param(f"/checkpoint/{value}", {}, "size", id=f"checkpoint/SIZE-{label}")
        for path, others, param in NUMERIC:
            yield pytest.param(path, {**others, param: value}, param, id=f"{path[1:]}-{param}-{label}")
    cases = [
        ("limit-zero", "/checkpoints", {"limit": "0"}, "limit"),
        ("limit-over-1000", "/checkpoints", {"limit": "1001"}, "limit"),
        ("end-equals-start", "/entries", {"start": "5", "end": "5"}, "end"),
        ("end-below-start", "/entries", {"start": "6", "end": "5"}, "end"),
        ("start-at-size", "/entries", {"start": str(LATEST), "end": str(LATEST + 5)}, "start"),
        ("start-beyond-size", "/entries", {"start": "1000", "end": "2000"}, "start"),
        ("index-at-size", "/proof/inclusion", {"index": str(LATEST)}, "index"),
        ("index-beyond-tree-size", "/proof/inclusion", {"index": "5", "tree_size": "5"}, "index"),
        ("index-in-empty-tree", "/proof/inclusion", {"index": "0", "tree_size": "0"}, "index"),
        ("tree-size-unsigned", "/proof/inclusion", {"index": "0", "tree_size": "3"}, "tree_size"),
        ("tree-size-beyond-size", "/proof/inclusion", {"index": "0", "tree_size": str(LATEST + 1)}, "tree_size"),
        ("old-above-new", "/proof/consistency", {"old_size": "10", "new_size": "5"}, "old_size"),
        ("old-beyond-size", "/proof/consistency", {"old_size": str(LATEST + 1)}, "old_size"),
        ("old-unsigned", "/proof/consistency", {"old_size": "3", "new_size": "10"}, "old_size"),
        ("new-unsigned", "/proof/consistency", {"old_size": "5", "new_size": "36"}, "new_size"),
        ("new-beyond-size", "/proof/consistency", {"old_size": "0", "new_size": str(LATEST + 1)}, "new_size"),
        ("missing-start", "/entries", {"end": "5"}, "start"),
        ("missing-end", "/entries", {"start": "0"}, "end"),
        ("missing-index", "/proof/inclusion", {"tree_size": "5"}, "index"),
        ("missing-old-size", "/proof/consistency", {"new_size": "5"}, "old_size"),
        ("unknown-in-checkpoints", "/checkpoints", {"size": "5"}, "size"),
        ("unknown-in-entries", "/entries", {"start": "0", "end": "5", "limit": "2"}, "limit"),
        ("unknown-in-inclusion", "/proof/inclusion", {"index": "0", "size": "5"}, "size"),
        ("unknown-in-consistency", "/proof/consistency", {"old_size": "0", "new": "5"}, "new"),
    ]
    for label, path, params, param in cases:
        yield pytest.param(path, params, param, id=label)


@pytest.mark.parametrize(("path", "params", "param"), list(_bad_parameters()))
def test_a_bad_parameter_is_a_400_naming_it(demo: LiveServer, path: str, params: dict[str, str], param: str) -> None:
    error = error_of(demo.api(f"/logs/{LOG}{path}", **params), 400)
    assert names(error["message"], param), f"the message does not name {param!r}: {error['message']!r}"


ENDPOINTS = [
    ("/vkey", {}),
    ("/checkpoint", {}),
    ("/checkpoint/0", {}),
    ("/checkpoints", {}),
    ("/entries", {"start": 0, "end": 1}),
    ("/proof/inclusion", {"index": 0}),
    ("/proof/consistency", {"old_size": 0}),
]


@pytest.mark.parametrize(("path", "params"), ENDPOINTS, ids=[path for path, _ in ENDPOINTS])
@pytest.mark.parametrize("log_id", ["nope", "LIANYUNGANG", "lianyungang-", "x" * 200, "%E8%BF%9E"])
def test_an_unknown_log_is_a_404(demo: LiveServer, path: str, params: dict[str, int], log_id: str) -> None:
    error_of(demo.api(f"/logs/{log_id}{path}", **params), 404)


@pytest.mark.parametrize(("path", "params"), ENDPOINTS, ids=[path for path, _ in ENDPOINTS])
def test_a_log_id_holding_a_nul_byte_is_a_404_not_a_server_error(
    demo: LiveServer, path: str, params: dict[str, int]
) -> None:
    error_of(demo.api(f"/logs/lian%00yungang{path}", **params), 404)


def test_an_unknown_path_gets_the_json_error(demo: LiveServer) -> None:
    error_of(demo.get(f"{API}/nothing-here"), 404)
    error_of(demo.get(f"{API}/logs/{LOG}/checkpoint/5/extra"), 404)


# -- no 500 anywhere ------------------------------------------------------------------------------

QUERIES = {
    "/checkpoints": ["before", "limit"],
    "/entries": ["start", "end"],
    "/proof/inclusion": ["index", "tree_size"],
    "/proof/consistency": ["old_size", "new_size"],
}
_numbers = st.one_of(
    st.integers(-5, 1200), st.integers(), st.integers(2**62, 2**66), st.integers(-(2**66), -(2**62))
).map(str)
_odd = st.sampled_from(
    ["", " ", " 5", "5 ", "+5", "-0", "007", "0x10", "1e3", "1_000", "٣", "５", "5\x00", "NaN", "inf", "true", "[]"]
)
_values = st.one_of(_numbers, _odd, st.floats().map(str), st.text(max_size=24))
_fuzz = settings(max_examples=300, deadline=None, database=None, derandomize=True)


@pytest.mark.slow
@_fuzz
@given(log_id=st.sampled_from([LOG, BULK_LOG]), path=st.sampled_from(sorted(QUERIES)), data=st.data())
def test_no_query_string_makes_the_server_fail(demo: LiveServer, log_id: str, path: str, data: st.DataObject) -> None:
    keys = st.one_of(st.sampled_from(QUERIES[path]), st.text(min_size=1, max_size=12))
    params = data.draw(st.dictionaries(keys, _values, max_size=4), label="params")
    reply = demo.get(f"{API}/logs/{log_id}{path}", params)
    assert reply.status < 500, reply.body
    assert reply.content_type == "application/json"


@pytest.mark.slow
@_fuzz
@given(log_id=st.one_of(st.sampled_from(DEMO_LOGS), st.text(max_size=70)), size=st.one_of(_numbers, _odd, st.text(max_size=24)))
def test_no_path_makes_the_server_fail(demo: LiveServer, log_id: str, size: str) -> None:
    log_part, size_part = quote(log_id, safe=""), quote(size, safe="")
    for path in (
        f"/logs/{log_part}/vkey",
        f"/logs/{log_part}/checkpoint",
        f"/logs/{log_part}/checkpoint/{size_part}",
        f"/logs/{log_part}/checkpoints?limit=3",
        f"/logs/{log_part}/entries?start=0&end=3",
        f"/logs/{log_part}/proof/inclusion?index=1",
        f"/logs/{log_part}/proof/consistency?old_size=5",
    ):
        reply = demo.get(API + path)
        assert reply.status < 500, (path, reply.body)
