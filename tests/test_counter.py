"""The counter node's buttons, light and buzzer against a real Mosquitto and the real
dispatcher, on gpiozero's mock pins, with its LED board at the far end of a pseudo-terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from counter_rig import Rig, counter_rigs, modbus_frame, take, tickets
from helpers import wait_for

from luot.ledboard.modbus import with_crc


@pytest.fixture
def make_rig(broker, connect, site, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    with counter_rigs(broker, connect, site, tmp_path) as make:
        yield make


@pytest.fixture
def serving(connect, make_rig) -> Callable[..., Rig]:
    """`serving(n, device_id, number)`: n citizens waiting for CT, and a counter that has called
    the first, A001, and is idle again: where the tests of what comes next begin."""
    def make(waiting: int, *where: object) -> Rig:
        take(connect, *["CT"] * waiting)
        rig = make_rig(*where)
        rig.act("next", "ok next A001")
        return rig
    return make


def test_next_calls_the_next_citizen_and_the_board_shows_it(dispatcher, connect, make_rig):
    take(connect, "CT", "CT")
    rig = make_rig()
    assert rig.board is not None
    # Idle counter: the board is dark (the default blank value, 10 ** digits).
    assert rig.board.wait_frames(1)[0] == modbus_frame(7, 10000)
    rig.press("next")
    rig.wait_outcome("ok next A001")
    assert tickets(dispatcher)["A001"]["status"] == "serving"
    assert tickets(dispatcher)["A001"]["counter"] == 1
    # The number, then the blink (dark, lit, …), ending lit: every frame byte for byte.
    frames = rig.board.wait_frames(7)
    assert frames[1] == bytes([0x07, 0x06, 0x00, 0x00, 0x00, 0x01]) + with_crc(bytes([7, 6, 0, 0, 0, 1]))[-2:]
    assert frames[1:7] == [modbus_frame(7, v) for v in (1, 10000, 1, 10000, 1, 10000)]
    wait_for(lambda: rig.board.frames[-1][1] == modbus_frame(7, 1) and len(rig.board.frames) == 8,
             what="the blink to end lit")
    rig.idle()
    rig.press("next")
    rig.wait_outcome("ok next A002")
    assert tickets(dispatcher)["A001"]["status"] == "served"
    assert tickets(dispatcher)["A002"]["status"] == "serving"


def test_next_on_an_empty_queue_leaves_the_counter_idle(dispatcher, make_rig):
    rig = make_rig()
    rig.press("next")
    assert rig.wait_outcome("ok next") == "ok next -"


def test_recall_calls_the_same_number_again(dispatcher, serving):
    rig = serving(2)
    before = len(rig.board.frames)
    rig.press("recall")
    rig.wait_outcome("ok recall A001")
    row = tickets(dispatcher)["A001"]
    assert row["status"] == "serving" and row["calls"] == 2
    assert tickets(dispatcher)["A002"]["status"] == "waiting"
    # A recall blinks the board again.
    rig.board.wait_frames(before + 2)
    assert modbus_frame(7, 10000) in [f for _, f in rig.board.frames[before:]]


def test_noshow_skips_the_absent_citizen_and_calls_the_next(dispatcher, serving):
    rig = serving(2)
    rig.act("noshow", "ok noshow A002")
    rows = tickets(dispatcher)
    assert rows["A001"]["status"] == "noshow"
    assert rows["A002"]["status"] == "serving"


def test_holding_next_finishes_without_calling_and_holding_recall_requeues(dispatcher, serving):
    rig = serving(4)
    rig.act("recall", "ok requeue A001", hold=True)
    assert tickets(dispatcher)["A001"]["status"] == "waiting"
    rig.act("next", "ok next A002")
    rig.act("next", "ok done", hold=True)
    rows = tickets(dispatcher)
    assert rows["A002"]["status"] == "served"
    assert not [n for n, r in rows.items() if r["status"] == "serving"]
    # requeue_after = 2 in the test site: A001 had A002 and A003 waiting before it, and comes
    # back behind them (A002 has been called meanwhile), before A004.
    for expected in ("A003", "A001", "A004"):
        rig.act("next", f"ok next {expected}")


def test_transfer_by_pressing_n_times(dispatcher, serving, site):
    rig = serving(1, "quay-5", 5)
    rig.press("transfer", times=2)
    rig.wait_outcome("transfer choice 2")
    rig.wait_outcome("ok transfer A001")
    row = tickets(dispatcher)["A001"]
    assert site.services[1].code == "HT"
    assert (row["service"], row["status"]) == ("HT", "waiting")
    # Four presses: the site has three services, so nothing happens but the error light.
    rig.idle()
    rig.act("next", "ok next A001")
    rig.press("transfer", times=4)
    rig.wait_outcome("error transfer bad_choice")
    assert rig.node.light.pattern == "fast"
    assert tickets(dispatcher)["A001"]["status"] == "serving"


def test_pause_and_resume(dispatcher, connect, make_rig):
    link = connect("admin")
    rig = make_rig()
    rig.press("pause")
    rig.wait_outcome("ok pause")
    wait_for(lambda: (link.state("state/counter/1") or {}).get("status") == "paused", what="paused")
    wait_for(lambda: rig.node.light.pattern == "slow", what="the slow blink")
    wait_for(lambda: rig.board.frames[-1][1] == modbus_frame(7, 10001), what="dashes (default dash_value)")
    rig.idle()
    rig.press("pause")
    rig.wait_outcome("ok resume")
    wait_for(lambda: (link.state("state/counter/1") or {}).get("status") == "idle", what="open again")
    wait_for(lambda: rig.node.light.pattern == "steady", what="the steady light")


# ---------------------------------------------------------------------- bounce and bursts


def test_contact_bounce_is_one_press(dispatcher, connect, make_rig):
    take(connect, "CT", "CT", "CT")
    rig = make_rig()
    pin = rig.hardware.pin("next")
    # A bouncing contact: eight edges within microseconds, then released.
    for _ in range(4):
        pin.drive_low()
        pin.drive_high()
    rig.wait_outcome("ok next A001")
    rig.idle()
    assert [o for o in rig.outcomes if o.startswith("ok next")] == ["ok next A001"]
    assert tickets(dispatcher)["A002"]["status"] == "waiting"


def test_a_burst_of_presses_never_skips_a_citizen(dispatcher, connect, make_rig):
    numbers = take(connect, *["CT"] * 8)
    rig = make_rig()
    rig.press("next", times=12)
    rig.idle()
    accepted = [o.split()[-1] for o in rig.outcomes if o.startswith("ok next") and not o.endswith("-")]
    ignored = [o for o in rig.outcomes if o.startswith(("ignored next", "error next stale"))]
    assert accepted and len(accepted) + len(ignored) <= 12
    rows = tickets(dispatcher)
    # Everyone finished or being served was called, in order, and nobody was passed over.
    called = [n for n in numbers if rows[n]["calls"] > 0]
    assert called == numbers[:len(called)] == accepted
    assert all(rows[n]["status"] == "served" for n in called[:-1])
    assert rows[called[-1]]["status"] in ("served", "serving")
    assert all(rows[n]["status"] == "waiting" for n in numbers[len(called):])


# ---------------------------------------------------------------------- the light


def test_light_patterns(dispatcher, connect, make_rig, broker):
    """Which pattern the node chooses, seen on the pin; how long each level lasts is the pure
    Light's, checked on a logical clock in test_counter_logic (real timestamps on a loaded
    2-core machine would make this test race the clock)."""
    rig = make_rig(protocol=None)
    led = rig.hardware.led.pin
    wait_for(lambda: rig.node.light.pattern == "steady" and led.state, what="steady")
    mark = len(led.states)
    # An accepted press winks the light once: off, then on again.
    rig.press("next")
    rig.wait_outcome("ok next")
    wait_for(lambda: len(led.states) >= mark + 2 and led.state, what="the wink")
    assert [s.state for s in led.states[mark:mark + 2]] == [False, True]
    # A refused press (nobody to recall) blinks fast for error_s, then steady again.
    rig.idle()
    mark = len(led.states)
    rig.press("recall")
    rig.wait_outcome("error recall no_current_ticket")
    assert rig.node.light.pattern == "fast"
    wait_for(lambda: rig.node.light.pattern == "steady", what="steady after the error")
    levels = [s.state for s in led.states[mark:]]
    assert len(levels) >= 4 and all(a != b for a, b in pairwise(levels))
    assert led.state, "steady again after the error"
    # Paused: slow blink, about one second per level.
    rig.idle()
    rig.press("pause")
    wait_for(lambda: rig.node.light.pattern == "slow", what="slow")
    mark = len(led.states)
    wait_for(lambda: len(led.states) >= mark + 2, timeout=4, what="two slow changes")
    assert rig.node.light.pattern == "slow"
    # The dispatcher away (the broker still up): fast blink.
    dispatcher.stop()
    wait_for(lambda: rig.node.light.pattern == "fast", timeout=5, what="fast blink, dispatcher down")
    # The broker away: fast blink.
    broker.stop()
    wait_for(lambda: rig.node.light.pattern == "fast", timeout=15, what="fast blink while offline")
    broker.start()


def test_the_buzzer_beeps_once_for_a_press_and_three_times_for_a_refusal(dispatcher, make_rig):
    rig = make_rig(protocol=None, extra="[counter.pins]\nbuzzer = 12\n")
    buzzer = rig.hardware.buzzer.pin

    def beeps() -> list[bool]:
        return [s.state for s in buzzer.states[1:]]

    rig.press("pause")
    rig.wait_outcome("ok pause")
    wait_for(lambda: beeps() == [True, False], what="one beep")
    rig.idle()
    buzzer.clear_states()
    rig.press("recall")  # nobody to recall: refused
    rig.wait_outcome("error recall no_current_ticket")
    wait_for(lambda: beeps() == [True, False] * 3, what="three beeps")


# ---------------------------------------------------------------------- rating


def test_rating_goes_to_the_citizen_just_served_once(dispatcher, connect, make_rig):
    take(connect, "CT", "CT")
    rig = make_rig(extra="[counter.rating]\npins = [5, 6, 13]\n")
    rig.act("next", "ok next A001")
    rig.act("next", "ok next A002")
    rig.act("rate1", "ok rate")
    assert tickets(dispatcher)["A001"]["rating"] == 5
    # A second vote goes to the citizen now at the counter, not again to A001.
    rig.press("rate3")
    wait_for(lambda: tickets(dispatcher)["A002"]["rating"] == 1, what="A002 rated 1")
    assert tickets(dispatcher)["A001"]["rating"] == 5
    rig.idle()
    mark = len(rig.outcomes)
    rig.press("rate2")
    rig.wait_outcome("ignored rate", after=mark)


# ---------------------------------------------------------------------- configuration


def test_a_counter_number_that_is_not_this_device_is_refused(dispatcher, connect, make_rig):
    take(connect, "CT")
    rig = make_rig("quay-1", 2)
    rig.press("next")
    rig.wait_outcome("error next forbidden")
    assert tickets(dispatcher)["A001"]["status"] == "waiting"


def test_a_counter_the_site_does_not_have_blinks_fast_and_sends_nothing(dispatcher, connect, make_rig):
    take(connect, "CT")
    rig = make_rig("quay-1", 11)
    wait_for(lambda: rig.node.config_error, what="the catalogue check")
    assert "counter 11 is not in the site's counters" in rig.node.config_error
    wait_for(lambda: rig.node.light.pattern == "fast", what="the fast blink")
    rig.press("next")
    rig.wait_outcome("error next config")
    assert tickets(dispatcher)["A001"]["status"] == "waiting"
