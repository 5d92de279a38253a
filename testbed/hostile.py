"""Hostile commands, generated from the protocol's schema with Hypothesis.

Every op of `luot.protocol.OPS`, each field with the right type or a wrong
one (lone surrogates, huge and negative integers, NaN, floats, nesting, null,
oversize strings), unknown fields, bad ids; JSON nested past any parser's
recursion limit, at the top or inside a field; raw bytes. The guard test and
`bench.faults` both draw from here, so what CI checks is what the drill floods.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from luot import protocol as p

TEXT = st.text(max_size=40)
SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1,
                     max_size=3)
INTEGERS = st.one_of(
    st.integers(-5, 20),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 10**30, -(10**30)]),
)
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(float("nan")))
SCALARS = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, TEXT, SURROGATES,
                    st.text(max_size=3).map(lambda s: s * 60))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(TEXT, inner, max_size=3)),
                      max_leaves=6)
GOOD_SERVICES = st.sampled_from(["CT", "HT", "DD", "NOPE", ""])


def _field_value(types: tuple[type, ...]) -> st.SearchStrategy[Any]:
    """Mostly a value of a right type (so the command reaches the queue), often a wrong one."""
    right: list[st.SearchStrategy[Any]] = []
    if str in types:
        right += [GOOD_SERVICES, TEXT, SURROGATES]
    if int in types:
        right.append(INTEGERS)
    if type(None) in types:
        right.append(st.none())
    return st.one_of(*right, *right, *right, VALUES)


def _command(op: str, loose_fields: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Commands for `op`; with `loose_fields`, also ones missing fields or with unknown ones."""
    spec = p.OPS[op]
    fields = {name: _field_value(types) for name, (types, _) in spec.items()}
    good_id = st.uuids().map(lambda u: u.hex)
    ids = st.one_of(good_id, good_id, good_id, good_id, good_id, TEXT, SURROGATES, INTEGERS,
                    st.none(), st.text(min_size=65, max_size=70))
    ops = st.one_of(st.just(op), st.just(op), st.just(op), st.just(op), TEXT)
    required = {name: fields[name] for name, (_, needed) in spec.items() if needed}
    optional = {name: fields[name] for name, (_, needed) in spec.items() if not needed}
    plain = st.fixed_dictionaries({"id": ids, "op": ops, **required}, optional=optional)
    loose = st.fixed_dictionaries({"id": ids, "op": ops}, optional={**fields, "extra": VALUES})
    return st.one_of(plain, loose) if loose_fields else plain


COMMANDS = st.one_of(*(_command(op, False) for op in sorted(p.OPS)),
                     *(_command(op, True) for op in sorted(p.OPS)))


def _encode(command: dict[str, Any], ascii_only: bool) -> bytes:
    """JSON as a device might send it: \\u escapes, or raw (surrogates passed through)."""
    text = json.dumps(command, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


def _nested(depth: int, field: bool) -> bytes:
    deep = "[" * depth + "]" * depth
    if field:
        return f'{{"id":"deep","op":"take","service":{deep}}}'.encode()
    return deep.encode()


ENCODED = st.builds(_encode, COMMANDS, st.booleans())
PAYLOADS: st.SearchStrategy[bytes] = st.one_of(
    ENCODED, ENCODED, ENCODED, ENCODED, ENCODED, ENCODED,
    st.builds(_nested, st.integers(900, 2000), st.booleans()),
    st.binary(max_size=200),
    st.binary(min_size=p.MAX_PAYLOAD - 10, max_size=p.MAX_PAYLOAD + 10),
)
