"""Canonical JSON (RFC 8785) within the ledger's limits: what encodes, what decodes, what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import canonical
from ledger.canonical import MAX_SAFE_INTEGER, decode, encode
from ledger.errors import CanonicalError

# Values the ledger accepts: ASCII keys, safe integers, strings, booleans, null, objects, arrays.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=6), inner, max_size=4),
    max_leaves=12,
)


def leaf(**fields: Any) -> dict[str, Any]:
    return {"v": 1, "seq": 0, "type": "deposit", **fields}


# --- encode -------------------------------------------------------------------------------------


def test_keys_are_sorted_at_every_depth() -> None:
    value = {"b": 1, "a": {"z": [{"y": 1, "x": 2}], "m": None}, "A": True}
    assert encode(value) == b'{"A":true,"a":{"m":null,"z":[{"x":2,"y":1}]},"b":1}'


def test_the_encoding_has_no_insignificant_whitespace() -> None:
    assert encode({"a": [1, 2], "b": "x y"}) == b'{"a":[1,2],"b":"x y"}'


def test_non_ascii_values_are_raw_utf8_not_escapes() -> None:
    data = encode(leaf(service="助餐", note="café ✓ 🙂"))
    assert "助餐".encode("utf-8") in data
    assert "🙂".encode("utf-8") in data
    assert b"\\u" not in data
    assert data.decode("utf-8") == '{"note":"café ✓ 🙂","seq":0,"service":"助餐","type":"deposit","v":1}'


def test_control_characters_are_escaped_as_rfc_8785_says() -> None:
    assert encode("\b\f\n\r\t\x00\x1f\"\\/\x7f") == b'"\\b\\f\\n\\r\\t\\u0000\\u001f\\"\\\\/\x7f"'


@pytest.mark.parametrize("value", [1.0, 0.5, float("nan"), float("inf"), -0.0])
def test_floats_are_refused(value: float) -> None:
    with pytest.raises(CanonicalError, match="float"):
        encode(leaf(minutes=value))


@pytest.mark.parametrize(
    "value",
    [
        {"a": {"b": {"c": 1.5}}},
        {"a": [1, 2, [3, 4.0]]},
        [{"amount": 100}, {"amount": 1e2}],
        (1, 2.5),
    ],
)
def test_floats_are_refused_however_deeply_nested(value: Any) -> None:
    with pytest.raises(CanonicalError, match="float"):
        encode(value)


@pytest.mark.parametrize("key", ["助餐", "café", "ключ", "\u00a0"])
def test_non_ascii_keys_are_refused(key: str) -> None:
    with pytest.raises(CanonicalError, match="ASCII"):
        encode(leaf(nested={key: 1}))


@pytest.mark.parametrize("key", [1, None, True, (1, 2)])
def test_non_string_keys_are_refused(key: Any) -> None:
    with pytest.raises(CanonicalError, match="keys"):
        encode({key: 1})


@pytest.mark.parametrize("value", [2**53 - 1, -(2**53 - 1), 0, -1])
def test_integers_up_to_2_to_the_53_minus_1_are_accepted(value: int) -> None:
    assert encode({"n": value}) == f'{{"n":{value}}}'.encode()


@pytest.mark.parametrize("value", [2**53, -(2**53), 2**64, 10**100])
def test_integers_beyond_2_to_the_53_minus_1_are_refused(value: int) -> None:
    with pytest.raises(CanonicalError, match="2\\*\\*53"):
        encode({"n": [value]})


def test_booleans_are_not_mistaken_for_integers() -> None:
    assert encode({"t": True, "f": False}) == b'{"f":false,"t":true}'


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), 1j])
def test_values_that_are_not_json_are_refused(value: Any) -> None:
    with pytest.raises(CanonicalError):
        encode({"a": value})


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb"])
def test_lone_surrogates_are_refused(text: str) -> None:
    with pytest.raises(CanonicalError, match="Unicode"):
        encode({"a": text})


def test_a_refusal_names_where_the_bad_value_is() -> None:
    with pytest.raises(CanonicalError, match=r"\$\.a\[1\]\.b"):
        encode({"a": [0, {"b": 1.5}]})


# --- decode -------------------------------------------------------------------------------------


def test_canonical_bytes_decode_to_their_value() -> None:
    data = '{"a":[1,true,null,"助"],"b":{"c":-5}}'.encode("utf-8")
    assert decode(data) == {"a": [1, True, None, "助"], "b": {"c": -5}}


@pytest.mark.parametrize(
    "data",
    [b'{"a":1.0}', b'{"a":1e2}', b'{"a":1E2}', b'{"a":[0.1]}', b'{"a":{"b":-0.0}}', b"1.5"],
)
def test_floats_are_refused_on_decode(data: bytes) -> None:
    with pytest.raises(CanonicalError, match="float"):
        decode(data)


@pytest.mark.parametrize("data", [b'{"a":NaN}', b'{"a":Infinity}', b'{"a":-Infinity}'])
def test_non_finite_numbers_are_refused_on_decode(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"a": 1}', id="space after colon"),
        pytest.param(b'{"a":1, "b":2}', id="space after comma"),
        pytest.param(b' {"a":1}', id="leading space"),
        pytest.param(b'{"a":1}\n', id="trailing newline"),
        pytest.param(b'{\n  "a": 1\n}', id="pretty printed"),
        pytest.param(b'{"b":1,"a":2}', id="unsorted keys"),
        pytest.param(b'{"a":{"d":1,"c":2}}', id="unsorted nested keys"),
        pytest.param(b'{"a":1,"a":2}', id="duplicate keys"),
        pytest.param(b'{"a":1,"a":1}', id="duplicate keys with the same value"),
        pytest.param(b'{"s":"\\u52a9\\u9910"}', id="escaped non-ASCII"),
        pytest.param(b'{"s":"\\u0041"}', id="escaped ASCII letter"),
        pytest.param(b'{"s":"\\/"}', id="escaped solidus"),
        pytest.param(b'{"s":"\\u000a"}', id="long form of a short escape"),
        pytest.param(b'{"s":"\\u001F"}', id="upper-case hex escape"),
        pytest.param(b'{"a":-0}', id="negative zero"),
        pytest.param(b'{"a":01}', id="leading zero"),
        pytest.param(b'\xef\xbb\xbf{"a":1}', id="byte order mark"),
    ],
)
def test_non_canonical_bytes_are_refused_on_decode(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b'{"a":}', b"\xff\xfe", b'{"s":"\xe5\x8a"}', b"{'a':1}", b'{"a":1}{"b":2}'],
)
def test_bytes_that_are_not_utf8_json_are_refused_on_decode(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode(data)


@pytest.mark.parametrize("data", [b'{"n":9007199254740992}', b'{"n":[-9007199254740992]}', b"1" * 40])
def test_integers_beyond_2_to_the_53_minus_1_are_refused_on_decode(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode(data)


@pytest.mark.parametrize("data", [b'{"\xe5\x8a\xa9":1}', b'{"a":{"\\u00e9":1}}'])
def test_non_ascii_keys_are_refused_on_decode(data: bytes) -> None:
    with pytest.raises(CanonicalError):
        decode(data)


def test_lone_surrogates_are_refused_on_decode() -> None:
    with pytest.raises(CanonicalError):
        decode(b'{"s":"\\ud800"}')


def test_every_error_is_a_canonical_error_and_a_value_error() -> None:
    assert issubclass(CanonicalError, ValueError)
    with pytest.raises(ValueError):
        decode(b"not json")


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_encoding_then_decoding_gives_back_the_value(value: Any) -> None:
    assert decode(encode(value)) == value


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_any_other_json_spelling_of_a_value_is_refused(value: Any) -> None:
    canonical_bytes = encode(value)
    for spelling in [
        json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":")),
        json.dumps(value, ensure_ascii=False, sort_keys=True),
        json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1),
    ]:
        data = spelling.encode("utf-8")
        if data != canonical_bytes:
            with pytest.raises(CanonicalError):
                decode(data)


def test_the_module_limit_is_the_ieee_double_safe_integer() -> None:
    assert canonical.MAX_SAFE_INTEGER == 9007199254740991


REFUSED = object()


def _careful_decode(data: bytes) -> Any:
    """What `decode` promises, done the slow way: parse, re-encode, compare."""
    try:
        value = json.loads(data.decode("utf-8"), parse_float=float, parse_constant=float)
        return value if encode(value) == data else REFUSED
    except (ValueError, UnicodeError):
        return REFUSED


WIDE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text() | st.sampled_from(["\ud800", "a\udfffb"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=400, deadline=None)
@given(WIDE, st.booleans(), st.booleans())
def test_decode_accepts_exactly_what_parsing_and_re_encoding_accepts(value: Any, ascii: bool, sort: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii, sort_keys=sort, separators=(",", ":")).encode("utf-8", "surrogatepass")
    expected = _careful_decode(data)
    if expected is REFUSED:
        with pytest.raises(CanonicalError):
            decode(data)
    else:
        assert decode(data) == expected


@pytest.mark.parametrize("n", [10**15 - 1, 10**15, 2**53 - 1, -(2**53 - 1), -(10**15)])
def test_integers_of_15_and_16_digits_within_the_limit_decode(n: int) -> None:
    assert decode(f'{{"n":{n}}}'.encode()) == {"n": n}
