"""The auditors' ledger API, /api/v1/ledger: paths and JSON exactly as ledger-format.md §5 fixes them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import NotFound

from ledger import store
from ledger.errors import EntryError, NoSuchCheckpoint, ProofError
from ledger.note import b64

from .db import get_session
from .ledger_json import consistency_json, inclusion_json, logs_json
from .schemas import MAX_ENTRIES, CheckpointsQuery, ConsistencyQuery, EntriesQuery, InclusionQuery, SizeSchema

bp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger")

TEXT = "text/plain; charset=utf-8"


@bp.url_value_preprocessor
def _check_log_id(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A log id that could never exist (bad characters, a NUL byte) is simply not found."""
    if values and "log_id" in values:
        try:
            store.check_log_id(values["log_id"])
        except EntryError as exc:
            raise NotFound(f"no log {values['log_id']!r}") from exc


def _unsigned(exc: NoSuchCheckpoint, *params: tuple[str, int | None]) -> ValidationError:
    """A 400 naming the size parameter that no checkpoint was signed for."""
    name = next((param for param, value in params if value == exc.size), params[-1][0])
    return ValidationError({name: [f"no checkpoint was signed for size {exc.size}; see /checkpoints"]})


def _query(schema: Schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict())


def _text(body: bytes | str) -> Response:
    return Response(body, content_type=TEXT)


@bp.get("/logs")
def list_logs() -> Response:
    return jsonify(logs_json(get_session()))


@bp.get("/logs/<log_id>/vkey")
def vkey(log_id: str) -> Response:
    return _text(store.get_log(get_session(), log_id).vkey)


@bp.get("/logs/<log_id>/checkpoint")
def latest_checkpoint(log_id: str) -> Response:
    return _text(store.latest_checkpoint(get_session(), log_id).note)


@bp.get("/logs/<log_id>/checkpoint/<size>")
def checkpoint(log_id: str, size: str) -> Response:
    wanted = SizeSchema().load({"size": size})["size"]
    try:
        return _text(store.get_checkpoint(get_session(), log_id, wanted).note)
    except NoSuchCheckpoint as exc:
        raise NotFound(str(exc)) from exc


@bp.get("/logs/<log_id>/checkpoints")
def checkpoints(log_id: str) -> Response:
    args = _query(CheckpointsQuery())
    found = store.list_checkpoints(get_session(), log_id, before=args["before"], limit=args["limit"])
    return jsonify([{"size": cp.size, "at": store.format_time(cp.signed_at)} for cp in found])


@bp.get("/logs/<log_id>/entries")
def entries(log_id: str) -> Response:
    args = _query(EntriesQuery())
    session = get_session()
    size = store.latest_checkpoint(session, log_id).size
    start = args["start"]
    if start >= size:
        raise ProofError(f"start {start} is not below the log's signed size {size}")
    end = min(args["end"], size, start + MAX_ENTRIES)
    leaves = store.read_leaves(session, log_id, start, end)
    return jsonify({"start": start, "leaves_b64": [b64(leaf) for leaf in leaves]})


@bp.get("/logs/<log_id>/proof/inclusion")
def inclusion(log_id: str) -> Response:
    args = _query(InclusionQuery())
    try:
        proof = store.prove_inclusion(get_session(), log_id, args["index"], args["tree_size"])
    except NoSuchCheckpoint as exc:
        raise _unsigned(exc, ("tree_size", args["tree_size"])) from exc
    return jsonify(inclusion_json(proof))


@bp.get("/logs/<log_id>/proof/consistency")
def consistency(log_id: str) -> Response:
    args = _query(ConsistencyQuery())
    try:
        proof = store.prove_consistency(get_session(), log_id, args["old_size"], args["new_size"])
    except NoSuchCheckpoint as exc:
        raise _unsigned(exc, ("old_size", args["old_size"]), ("new_size", args["new_size"])) from exc
    return jsonify(consistency_json(proof))
