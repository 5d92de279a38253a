"""Command validation: every bad payload gets its own error code."""

import json

import pytest

from luot import protocol as p


def raw(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_a_valid_command_parses():
    cmd = p.parse_command(raw(id="abc", op="take", service="CT", priority=None))
    assert (cmd.id, cmd.op, cmd.fields) == ("abc", "take", {"service": "CT", "priority": None})


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\xff\xfe", p.BAD_JSON),
        (b"{not json", p.BAD_JSON),
        (b"[1, 2]", p.BAD_SCHEMA),
        (raw(op="take", service="CT"), p.BAD_SCHEMA),
        (raw(id="", op="take", service="CT"), p.BAD_SCHEMA),
        (raw(id="x" * 65, op="take", service="CT"), p.BAD_SCHEMA),
        (raw(id="1", op="explode"), p.UNKNOWN_OP),
        (raw(id="1", op="take"), p.BAD_SCHEMA),
        (raw(id="1", op="take", service=5), p.BAD_SCHEMA),
        (raw(id="1", op="take", service="CT", colour="red"), p.UNKNOWN_FIELD),
        (raw(id="1", op="next", counter=True), p.BAD_SCHEMA),
        (raw(id="1", op="next", counter="1"), p.BAD_SCHEMA),
        (raw(id="1", op="take", service="C" * 200), p.BAD_SCHEMA),
        (raw(id="1", op="take", service="CT", citizen="x" * 5000), p.TOO_LARGE),
        (b"[" * 2000 + b"]" * 2000, p.TOO_DEEP),
        (b'{"id":"\\ud800","op":"open"}', p.BAD_TEXT),
        (b'{"id":"1","op":"take","\\udfff":1}', p.BAD_TEXT),
        (raw(id="1", op="next", counter=2**63), p.OUT_OF_RANGE),
        (raw(id="1", op="next", counter=-(2**63) - 1), p.OUT_OF_RANGE),
    ],
)
def test_bad_commands_are_refused_with_a_code(payload, code):
    with pytest.raises(p.ProtocolError) as caught:
        p.parse_command(payload)
    assert caught.value.code == code


def test_topics_follow_the_contract():
    t = p.Topics("phuong-1")
    assert t.cmd("kiosk-1") == "luot/phuong-1/cmd/kiosk-1"
    assert t.counter_state(5) == "luot/phuong-1/state/counter/5"
    assert t.relative("luot/phuong-1/state/site") == "state/site"
    assert t.device_health("quay-5") == "luot/phuong-1/device/quay-5/health"


def test_encoding_keeps_vietnamese_readable():
    assert p.encode({"name": "Hộ tịch"}) == '{"name":"Hộ tịch"}'.encode()
    assert p.decode(b"") is None
