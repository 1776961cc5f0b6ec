"""The JSON of ledger-format.md §5, built in one place for the HTTP API and the command line."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledger import store
from ledger.note import b64


def logs_json(session: Session) -> list[dict[str, Any]]:
    """`[{"id", "origin", "vkey", "size"}]`, the size being the latest signed one."""
    return [
        {"id": log.id, "origin": log.origin, "vkey": log.vkey, "size": store.latest_checkpoint(session, log.id).size}
        for log in store.list_logs(session)
    ]


def inclusion_json(proof: store.InclusionProof) -> dict[str, Any]:
    """`{"index","tree_size","leaf_hash","leaf_b64","root_hash","proof","checkpoint"}`."""
    return {
        "index": proof.index,
        "tree_size": proof.tree_size,
        "leaf_hash": b64(proof.leaf_hash),
        "leaf_b64": b64(proof.leaf),
        "root_hash": b64(proof.root),
        "proof": [b64(h) for h in proof.path],
        "checkpoint": proof.checkpoint.decode(),
    }


def consistency_json(proof: store.ConsistencyProof) -> dict[str, Any]:
    """`{"old_size","old_root","new_size","new_root","proof","old_checkpoint","new_checkpoint"}`."""
    return {
        "old_size": proof.old.size,
        "old_root": b64(proof.old.root),
        "new_size": proof.new.size,
        "new_root": b64(proof.new.root),
        "proof": [b64(h) for h in proof.path],
        "old_checkpoint": proof.old.note.decode(),
        "new_checkpoint": proof.new.note.decode(),
    }
