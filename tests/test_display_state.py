"""The board's model of the site: which messages change what, and which calls are spoken."""

from __future__ import annotations

from datetime import datetime

import pytest

from display.board import vietnamese_date
from display.state import BoardState, counter_region
from luot.speech import CallSpeech

CATALOGUE = {
    "name": "Trung tâm Phục vụ hành chính công phường Thử Nghiệm",
    "notice": "Công dân vui lòng giữ trật tự.",
    "notice_en": "Please keep quiet.",
    "timezone": "Asia/Ho_Chi_Minh",
    "services": [{"code": "CT", "name": "Chứng thực"}, {"code": "HT", "name": "Hộ tịch"}],
    "counters": [
        {"number": 1, "name": "Quầy 1", "services": ["CT"]},
        {"number": 2, "name": "Quầy 2", "services": ["HT"]},
        {"number": 3, "name": "Quầy 3", "services": ["CT", "HT"]},
    ],
    "announce": {"repeat": 1, "english": True},
}


def call(seq: int, counter: int, number: str, recall: bool = False) -> dict[str, object]:
    return {"seq": seq, "counter": counter, "counter_name": f"Quầy {counter}", "recall": recall,
            "ticket": {"number": number, "service": "CT"}, "at": "2026-11-23T08:00:00+07:00"}


def counter_state(n: int, number: str | None, seq: int = 0) -> dict[str, object]:
    ticket = {"number": number, "service": "CT"} if number else None
    return {"counter": n, "name": f"Quầy {n}", "services": ["CT"], "status": "serving" if number else "idle",
            "ticket": ticket, "call_seq": seq}


def test_config_sets_texts_speech_and_counters() -> None:
    state = BoardState()
    change = state.apply("config", CATALOGUE, True)
    assert change.relayout and "ticker" in change.regions
    assert list(state.counters) == [1, 2, 3]
    assert state.notice == "Công dân vui lòng giữ trật tự. · Please keep quiet."
    assert state.speech == CallSpeech(repeat=1, english=True)
    assert state.service_name("HT") == "Hộ tịch"


def test_live_call_is_spoken_once_retained_never() -> None:
    state = BoardState()
    state.apply("config", CATALOGUE, True)
    assert not state.apply("event/call", call(7, 1, "A007"), True).calls, "a retained call is replay"
    first = state.apply("event/call", call(8, 1, "A008"), False)
    assert [c.number for c in first.calls] == ["A008"]
    assert {"current", "recent", counter_region(1)} <= first.regions
    assert not state.apply("event/call", call(8, 1, "A008"), False).calls, "a duplicate seq"
    recall = state.apply("event/call", call(9, 1, "A008", recall=True), False)
    assert [c.recall for c in recall.calls] == [True]
    assert [c.number for c in state.last_calls()] == ["A008"], "a recall does not list the number twice"
    assert state.counters[1].ticket == "A008"


def test_retained_counters_seed_the_last_calls_newest_first() -> None:
    state = BoardState()
    state.apply("config", CATALOGUE, True)
    state.apply("state/counter/1", counter_state(1, "A001", seq=4), True)
    state.apply("state/counter/3", counter_state(3, "A002", seq=6), True)
    assert [c.number for c in state.last_calls()] == ["A002", "A001"]
    assert state.current_call().number == "A002"  # type: ignore[union-attr]
    state.apply("event/call", call(7, 2, "B001"), False)
    assert [c.number for c in state.last_calls()] == ["B001", "A002", "A001"]


def test_unchanged_state_redraws_nothing() -> None:
    state = BoardState()
    state.apply("config", CATALOGUE, True)
    assert state.apply("state/counter/1", counter_state(1, "A001"), True).regions
    assert not state.apply("state/counter/1", counter_state(1, "A001"), True).regions
    service = {"service": "CT", "waiting": 3, "served": 1, "avg_wait_min": 4.5}
    assert state.apply("state/service/CT", service, True).regions == {"services"}
    assert not state.apply("state/service/CT", service, True).regions


@pytest.mark.parametrize(("topic", "payload"), [
    ("state/counter/1", "not a table"),
    ("state/counter/1", {"counter": "one"}),
    ("state/counter/1", {"counter": 1, "ticket": "A001"}),
    ("state/service/CT", {"service": 5}),
    ("state/service/CT", {"service": "CT", "waiting": "many", "avg_wait_min": "long"}),
    ("state/counter/1", {"counter": 1, "call_seq": "x", "ticket": {"number": "A001"}}),
    ("config", {"announce": {"repeat": "twice"}, "counters": [{"number": "1"}], "services": [5]}),
    ("config", {"announce": "loud", "counters": 3, "services": {"CT": 1}}),
    ("state/counter/2", {"counter": 2, "services": 7, "ticket": {"number": 5}}),
    ("event/call", {"seq": "x", "counter": 1, "ticket": {}}),
    ("event/call", {"seq": 1, "counter": 1}),
    ("event/call", None),
    ("config", ["not", "a", "catalogue"]),
    ("state/unknown", {"x": 1}),
])
def test_payloads_of_the_wrong_shape_are_ignored(topic: str, payload: object) -> None:
    state = BoardState()
    state.apply("config", CATALOGUE, True)
    change = state.apply(topic, payload, False)
    assert not change.calls
    assert state.speech.repeat in (1, 2)


def test_limits_to_counters_and_services() -> None:
    floor = BoardState(counters={1, 3})
    floor.apply("config", CATALOGUE, True)
    assert list(floor.counters) == [1, 3]
    assert not floor.apply("event/call", call(1, 2, "B001"), False).calls
    hall = BoardState(services={"HT"})
    hall.apply("config", CATALOGUE, True)
    assert list(hall.counters) == [2, 3]
    assert list(hall.services) == ["HT"]
    assert not hall.apply("state/counter/1", counter_state(1, "A001"), True).regions


def test_online_flag_changes_the_status_region_only_on_change() -> None:
    state = BoardState()
    assert state.set_link("online").regions == {"status"} and state.online
    assert not state.set_link("online").regions
    assert state.set_link("hub_away").regions == {"status"} and not state.online
    assert state.set_link("offline").regions == {"status"} and not state.online


def test_vietnamese_date() -> None:
    assert vietnamese_date(datetime(2026, 11, 23)) == "Thứ Hai, ngày 23 tháng 11 năm 2026"
    assert vietnamese_date(datetime(2026, 11, 29)) == "Chủ Nhật, ngày 29 tháng 11 năm 2026"
    assert vietnamese_date(datetime(2026, 1, 3)) == "Thứ Bảy, ngày 3 tháng 1 năm 2026"
