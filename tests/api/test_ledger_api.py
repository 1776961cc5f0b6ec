"""The auditors' API over real HTTP: every path of ledger-format.md §5, its exact JSON and bytes."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import pytest
import sqlalchemy as sa
from livehttp import (
    BULK_LOG,
    DEMO_LOGS,
    DEMO_SIZES,
    SIZES,
    TEXT,
    LiveServer,
    Reply,
    assert_shape,
    error_of,
    key_file_vkey,
    leaf_hash,
    mth,
    origin,
    session_on,
)

from ledger import merkle
from ledger.database import checkpoints, leaves
from ledger.note import Checkpoint, Verifier

LOG = "lianyungang"
LATEST = DEMO_SIZES[-1]
RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@pytest.fixture(scope="module")
def stored(demo: LiveServer) -> dict[str, Any]:
    """What the database holds, read with plain SQL: each log's leaves and checkpoint notes."""
    with session_on(demo.settings.database_url) as session:
        leaf_rows = session.execute(sa.select(leaves.c.log_id, leaves.c.data).order_by(leaves.c.log_id, leaves.c.seq))
        cp_rows = session.execute(sa.select(checkpoints.c.log_id, checkpoints.c.size, checkpoints.c.note, checkpoints.c.signed_at))
        out: dict[str, Any] = {"leaves": {log_id: [] for log_id in SIZES}, "notes": {}, "signed_at": {}}
        for log_id, data in leaf_rows:
            out["leaves"][log_id].append(bytes(data))
        for log_id, size, note, signed_at in cp_rows:
            out["notes"][(log_id, size)] = bytes(note)
            out["signed_at"][(log_id, size)] = signed_at
    return out


@pytest.fixture(scope="module")
def verifiers(demo: LiveServer) -> dict[str, Verifier]:
    """Each log's verifier, from its key file (trusted), never from the server."""
    return {log_id: Verifier.from_vkey(key_file_vkey(demo.settings, log_id)) for log_id in SIZES}


def ok_json(reply: Reply) -> Any:
    assert reply.status == 200, reply.body
    assert reply.content_type == "application/json"
    return reply.json()


def ok_text(reply: Reply) -> bytes:
    assert reply.status == 200, reply.body
    assert reply.content_type == TEXT
    return reply.body


def strict_b64(text: str) -> bytes:
    """Decode standard padded base64, refusing anything non-canonical."""
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise AssertionError(f"not base64: {text!r}") from exc
    assert base64.b64encode(data).decode() == text, f"not canonical base64: {text!r}"
    return data


def checkpoint_at(demo: LiveServer, verifier: Verifier, log_id: str, size: int) -> tuple[bytes, Checkpoint]:
    """The served checkpoint of `size`, its signature checked with the trusted key."""
    note = ok_text(demo.api(f"/logs/{log_id}/checkpoint/{size}"))
    return note, verifier.open_checkpoint(note)


# -- /logs and /vkey ------------------------------------------------------------------------------


def test_logs_lists_every_log_with_its_id_origin_vkey_and_signed_size(demo: LiveServer) -> None:
    listed = ok_json(demo.api("/logs"))
    assert isinstance(listed, list)
    for entry in listed:
        assert_shape(entry, {"id": str, "origin": str, "vkey": str, "size": int})
    assert [entry["id"] for entry in listed] == sorted(SIZES)
    for entry in listed:
        assert entry["origin"] == origin(entry["id"])
        assert entry["vkey"] == key_file_vkey(demo.settings, entry["id"])
        assert entry["size"] == SIZES[entry["id"]][-1]


@pytest.mark.parametrize("log_id", sorted(SIZES))
def test_vkey_is_the_key_files_verifier_key_as_plain_text(demo: LiveServer, log_id: str) -> None:
    assert ok_text(demo.api(f"/logs/{log_id}/vkey")) == key_file_vkey(demo.settings, log_id).encode()


# -- checkpoints ----------------------------------------------------------------------------------


@pytest.mark.parametrize("log_id", sorted(SIZES))
def test_latest_checkpoint_is_the_stored_note_byte_for_byte_and_verifies(
    demo: LiveServer, stored: dict[str, Any], verifiers: dict[str, Verifier], log_id: str
) -> None:
    size = SIZES[log_id][-1]
    note = ok_text(demo.api(f"/logs/{log_id}/checkpoint"))
    assert note == stored["notes"][(log_id, size)]
    checkpoint = verifiers[log_id].open_checkpoint(note)
    assert checkpoint == Checkpoint(origin(log_id), size, mth(stored["leaves"][log_id]))
    text, signatures = note.decode().split("\n\n")
    assert (text + "\n").encode() == checkpoint.body()  # origin, size, root; no extension lines
    line = re.fullmatch(r"\u2014 (\S+) (\S+)\n", signatures)  # exactly one signature line
    assert line is not None and line[1] == origin(log_id)
    signature = strict_b64(line[2])
    assert len(signature) == 4 + 64 and signature[:4] == verifiers[log_id].key_id


def test_every_archived_checkpoint_is_served_by_its_size(
    demo: LiveServer, stored: dict[str, Any], verifiers: dict[str, Verifier]
) -> None:
    for log_id in DEMO_LOGS:
        for size in DEMO_SIZES:
            note, checkpoint = checkpoint_at(demo, verifiers[log_id], log_id, size)
            assert note == stored["notes"][(log_id, size)]
            assert checkpoint.size == size
            assert checkpoint.root == mth(stored["leaves"][log_id][:size])


@pytest.mark.parametrize("size", [3, 36, LATEST + 1, 2**63 - 1])
def test_a_size_never_signed_has_no_checkpoint(demo: LiveServer, size: int) -> None:
    error = error_of(demo.api(f"/logs/{LOG}/checkpoint/{size}"), 404)
    assert str(size) in error["message"]


def test_checkpoints_are_listed_newest_first_with_their_signing_times(
    demo: LiveServer, stored: dict[str, Any]
) -> None:
    listed = ok_json(demo.api(f"/logs/{LOG}/checkpoints"))
    for entry in listed:
        assert_shape(entry, {"size": int, "at": str})
        assert RFC3339_Z.fullmatch(entry["at"]), entry
        assert entry["at"] == stored["signed_at"][(LOG, entry["size"])].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [entry["size"] for entry in listed] == DEMO_SIZES[::-1]
    assert [entry["at"] for entry in listed] == sorted((entry["at"] for entry in listed), reverse=True)


@pytest.mark.parametrize(
    ("params", "sizes"),
    [
        ({"before": 20}, [15, 10, 5, 0]),
        ({"before": 21}, [20, 15, 10, 5, 0]),
        ({"before": 20, "limit": 2}, [15, 10]),
        ({"limit": 1}, [37]),
        ({"limit": 1000}, DEMO_SIZES[::-1]),
        ({"before": 1}, [0]),
        ({"before": 0}, []),
        ({"before": 2**63 - 1}, DEMO_SIZES[::-1]),
    ],
)
def test_checkpoints_before_and_limit_page_through_the_archive(
    demo: LiveServer, params: dict[str, int], sizes: list[int]
) -> None:
    assert [entry["size"] for entry in ok_json(demo.api(f"/logs/{LOG}/checkpoints", **params))] == sizes


def test_checkpoints_are_at_most_100_by_default(demo: LiveServer) -> None:
    everything = SIZES[BULK_LOG][::-1]
    assert len(everything) > 100
    assert [e["size"] for e in ok_json(demo.api(f"/logs/{BULK_LOG}/checkpoints"))] == everything[:100]
    assert [e["size"] for e in ok_json(demo.api(f"/logs/{BULK_LOG}/checkpoints", limit=1000))] == everything
    paged: list[int] = []
    before: dict[str, int] = {}
    while page := ok_json(demo.api(f"/logs/{BULK_LOG}/checkpoints", limit=7, **before)):
        paged += [e["size"] for e in page]
        before = {"before": page[-1]["size"]}
    assert paged == everything


# -- entries --------------------------------------------------------------------------------------


def entries(demo: LiveServer, log_id: str, start: int, end: int) -> list[bytes]:
    body = ok_json(demo.api(f"/logs/{log_id}/entries", start=start, end=end))
    assert list(body) == ["start", "leaves_b64"]
    assert type(body["start"]) is int and body["start"] == start
    assert isinstance(body["leaves_b64"], list) and all(type(leaf) is str for leaf in body["leaves_b64"])
    return [strict_b64(leaf) for leaf in body["leaves_b64"]]


@pytest.mark.parametrize("log_id", DEMO_LOGS)
def test_entries_are_the_stored_leaf_bytes(demo: LiveServer, stored: dict[str, Any], log_id: str) -> None:
    every = stored["leaves"][log_id]
    assert len(every) == LATEST
    assert entries(demo, log_id, 0, LATEST) == every
    assert entries(demo, log_id, 7, 8) == every[7:8]
    assert entries(demo, log_id, 10, 20) == every[10:20]
    assert entries(demo, log_id, LATEST - 1, LATEST) == every[-1:]


@pytest.mark.parametrize("end", [LATEST + 1, 1000, 10**6, 2**63 - 1])
def test_entries_end_beyond_the_size_is_clamped_to_it(demo: LiveServer, stored: dict[str, Any], end: int) -> None:
    assert entries(demo, LOG, 30, end) == stored["leaves"][LOG][30:]


def test_entries_are_at_most_1000_a_call(demo: LiveServer, stored: dict[str, Any]) -> None:
    every = stored["leaves"][BULK_LOG]
    size = len(every)
    assert size == SIZES[BULK_LOG][-1] > 1000
    assert entries(demo, BULK_LOG, 0, size) == every[:1000]
    assert entries(demo, BULK_LOG, 50, 2**63 - 1) == every[50:1050]
    assert entries(demo, BULK_LOG, 1000, size) == every[1000:]
    assert entries(demo, BULK_LOG, 100, 1100) == every[100:1100]
    assert entries(demo, BULK_LOG, 100, 1101) == every[100:1100]


# -- inclusion proofs -----------------------------------------------------------------------------

INCLUSION = {"index": int, "tree_size": int, "leaf_hash": str, "leaf_b64": str, "root_hash": str, "proof": list, "checkpoint": str}


def check_inclusion(
    demo: LiveServer, verifier: Verifier, log_id: str, every: list[bytes], index: int, size: int | None
) -> dict[str, Any]:
    """Fetch and check the inclusion proof of `index` at `size` (None: the default)."""
    params = {"index": index} if size is None else {"index": index, "tree_size": size}
    body = ok_json(demo.api(f"/logs/{log_id}/proof/inclusion", **params))
    assert_shape(body, INCLUSION)
    tree_size = body["tree_size"]
    note, checkpoint = checkpoint_at(demo, verifier, log_id, tree_size)
    assert body["index"] == index
    assert body["checkpoint"].encode() == note
    assert strict_b64(body["leaf_b64"]) == every[index]
    assert strict_b64(body["leaf_hash"]) == leaf_hash(every[index])
    assert strict_b64(body["root_hash"]) == checkpoint.root
    proof = [strict_b64(h) for h in body["proof"]]
    merkle.verify_inclusion(index, tree_size, leaf_hash(every[index]), proof, checkpoint.root)
    return body


def test_inclusion_proofs_verify_against_the_served_checkpoints(
    demo: LiveServer, stored: dict[str, Any], verifiers: dict[str, Verifier]
) -> None:
    every = stored["leaves"][LOG]
    for size in DEMO_SIZES:
        for index in range(size):
            body = check_inclusion(demo, verifiers[LOG], LOG, every, index, size)
            assert body["tree_size"] == size


def test_inclusion_tree_size_defaults_to_the_latest_checkpoint(
    demo: LiveServer, stored: dict[str, Any], verifiers: dict[str, Verifier]
) -> None:
    for log_id in SIZES:
        every = stored["leaves"][log_id]
        for index in {0, len(every) // 2, len(every) - 1}:
            body = check_inclusion(demo, verifiers[log_id], log_id, every, index, None)
            assert body["tree_size"] == len(every)
            assert body["checkpoint"].encode() == ok_text(demo.api(f"/logs/{log_id}/checkpoint"))


def test_inclusion_proofs_of_a_large_log_verify(
    demo: LiveServer, stored: dict[str, Any], verifiers: dict[str, Verifier]
) -> None:
    every = stored["leaves"][BULK_LOG]
    sizes = SIZES[BULK_LOG]
    for size in sizes[1::23] + sizes[-1:]:
        for index in sorted({0, size // 3, size - 1, min(size - 1, 1023)}):
            check_inclusion(demo, verifiers[BULK_LOG], BULK_LOG, every, index, size)


# -- consistency proofs ---------------------------------------------------------------------------

CONSISTENCY = {
    "old_size": int,
    "old_root": str,
    "new_size": int,
    "new_root": str,
    "proof": list,
    "old_checkpoint": str,
    "new_checkpoint": str,
}


def check_consistency(
    demo: LiveServer, verifier: Verifier, log_id: str, old: int, new: int | None
) -> dict[str, Any]:
    params = {"old_size": old} if new is None else {"old_size": old, "new_size": new}
    body = ok_json(demo.api(f"/logs/{log_id}/proof/consistency", **params))
    assert_shape(body, CONSISTENCY)
    old_note, old_cp = checkpoint_at(demo, verifier, log_id, old)
    new_note, new_cp = checkpoint_at(demo, verifier, log_id, body["new_size"])
    assert body["old_size"] == old
    assert body["old_checkpoint"].encode() == old_note
    assert body["new_checkpoint"].encode() == new_note
    assert verifier.open_checkpoint(body["old_checkpoint"].encode()) == old_cp
    assert verifier.open_checkpoint(body["new_checkpoint"].encode()) == new_cp
    assert strict_b64(body["old_root"]) == old_cp.root
    assert strict_b64(body["new_root"]) == new_cp.root
    proof = [strict_b64(h) for h in body["proof"]]
    merkle.verify_consistency(old, body["new_size"], old_cp.root, new_cp.root, proof)
    return body


def test_consistency_proofs_verify_between_every_two_signed_sizes(
    demo: LiveServer, verifiers: dict[str, Verifier]
) -> None:
    for i, old in enumerate(DEMO_SIZES):
        for new in DEMO_SIZES[i:]:
            body = check_consistency(demo, verifiers[LOG], LOG, old, new)
            assert body["new_size"] == new
            if old in (0, new):
                assert body["proof"] == []


def test_consistency_new_size_defaults_to_the_latest_checkpoint(
    demo: LiveServer, verifiers: dict[str, Verifier]
) -> None:
    for log_id, sizes in SIZES.items():
        for old in sizes[:: max(1, len(sizes) // 9)] + sizes[-1:]:
            body = check_consistency(demo, verifiers[log_id], log_id, old, None)
            assert body["new_size"] == sizes[-1]
