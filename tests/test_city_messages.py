"""Hostile input at both ends of the city link: a journal message at the collector and a
resend request at the hub are checked before anything is stored or sent."""

from __future__ import annotations

import json

import pytest

from city.journal_message import BadMessage, parse
from dispatcher.journal import RESEND_MAX, parse_resend
from luot import protocol as p

GOOD = {"seq": 3, "kind": "called", "at": 1.7e9, "ticket": 2, "counter": 4, "number": "A002"}


def message(events: list, head: int = 10) -> bytes:
    return json.dumps({"hub": "x", "head": head, "events": events}).encode()


def test_a_journal_message_keeps_only_well_formed_events():
    bad = [{**GOOD, "seq": 0}, {**GOOD, "kind": "deleted"}, {**GOOD, "at": "yesterday"},
           {**GOOD, "counter": True}, {**GOOD, "number": "x" * 65}, {**GOOD, "seq": 11}, "event"]
    parsed = parse("phuong-1", message([GOOD, *bad]))
    assert parsed.hub == "phuong-1" and parsed.head == 10
    assert parsed.events == [{**GOOD, "at": 1.7e9}]


@pytest.mark.parametrize("payload", [
    b"\xff\xfe", b"[]", b"{}", b'{"events": [], "head": -1}', b'{"events": [], "head": true}',
    b"[" * 5000 + b"]" * 5000, message([GOOD] * 201), b" " * (300 * 1024),
])
def test_a_broken_journal_message_is_dropped_whole(payload):
    with pytest.raises(BadMessage):
        parse("phuong-1", payload)


def test_the_topic_names_the_hub_and_must_be_a_site_id():
    with pytest.raises(BadMessage):
        parse("../etc", message([GOOD]))


@pytest.mark.parametrize("payload", [
    b"", b"nope", b'{"from": 5}', b'{"from": 0, "to": 3}', b'{"from": 4, "to": 3}',
    b'{"from": true, "to": 3}', b'{"from": 1, "to": 2, "all": 1}', b'{"from": 1.5, "to": 2}',
    b"{" + b" " * 300 + b"}",
])
def test_a_bad_resend_request_is_refused(payload):
    with pytest.raises(p.ProtocolError):
        parse_resend(payload)


def test_a_resend_request_is_bounded():
    assert parse_resend(b'{"from": 7, "to": 9}') == (7, 9)
    assert parse_resend(b'{"from": 1, "to": 100000000}') == (1, RESEND_MAX)
