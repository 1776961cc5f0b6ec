"""Canonical JSON (RFC 8785) for leaves, restricted to ASCII keys, integers, strings, bools, null."""

from __future__ import annotations

import json
from typing import Any

from .errors import CanonicalError

# RFC 8785 numbers are IEEE doubles: integers beyond 2**53 would not round-trip in other verifiers.
MAX_SAFE_INTEGER = 2**53 - 1


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            _check_string(value, path)
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer {value} is outside ±(2**53-1)")
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed; use integers in the smallest unit")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise CanonicalError(f"{path}: keys must be ASCII strings, got {key!r}")
            _check_string(key, path)
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} is not a JSON value the ledger accepts")


def _fine(value: Any) -> bool:
    """A quick `_check` without paths: True only when `_check` would pass. False means "not sure":
    `_check` then decides and names what is wrong (subclasses of str, int, dict, list go there too)."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _utf8(value)
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if kind is dict:
        return all(type(key) is str and key.isascii() and _fine(item) for key, item in value.items())
    if value is None or kind is bool:
        return True
    if kind is list or kind is tuple:
        return all(_fine(item) for item in value)
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_string(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be UTF-8
        raise CanonicalError(f"{path}: string is not valid Unicode") from exc


def encode(value: Any) -> bytes:
    """Return the canonical UTF-8 bytes of `value`.

    Raises CanonicalError for floats, non-ASCII keys, huge integers or non-JSON types.
    """
    if not _fine(value):
        _check(value, "$")
    return _ENCODER.encode(value).encode()


def decode(data: bytes) -> Any:
    """Parse leaf bytes and check they are exactly the canonical encoding of what they hold.

    Raises CanonicalError when they are not UTF-8 JSON or not canonical.
    """
    try:
        text = data.decode("utf-8")
        try:
            value, quick = _QUICK_DECODER.decode(text), data.isascii()
        except _LongInteger:
            value, quick = _DECODER.decode(text), False
    except CanonicalError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise CanonicalError(f"not UTF-8 JSON: {exc}") from exc
    # Quick path: ASCII bytes holding no integer of 16 digits or more, that re-encode to
    # themselves, hold only ASCII keys and strings (a non-ASCII character or a lone surrogate would
    # re-encode raw) and safe integers: `encode` would accept the value and give back `data`.
    if quick and _ENCODER.encode(value) == text:
        return value
    if encode(value) != data:
        raise CanonicalError("bytes are not in canonical form (RFC 8785)")
    return value


def _reject_float(text: str) -> Any:
    raise CanonicalError(f"floats are not allowed in leaves: {text}")


class _LongInteger(Exception):
    """An integer of 16 characters or more, which may lie beyond ±MAX_SAFE_INTEGER (16 digits)."""


def _short_int(text: str) -> int:
    if len(text) > 15:
        raise _LongInteger
    return int(text)


# Built once: json.dumps and json.loads would build these on every call, given these options.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_float)
_QUICK_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_float, parse_int=_short_int)
