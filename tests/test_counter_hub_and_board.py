"""The counter node when the broker goes away or its LED board fails: presses fail at once,
nothing happens late, the board's state is in the health, calls go on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from counter_rig import RECONNECT_S, Rig, counter_rigs, modbus_frame, take, tickets
from helpers import wait_for


@pytest.fixture
def make_rig(broker, connect, site, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    with counter_rigs(broker, connect, site, tmp_path) as make:
        yield make


# ---------------------------------------------------------------------- the hub away


def test_presses_while_the_broker_is_down_fail_at_once_and_the_node_resyncs(dispatcher, connect,
                                                                            make_rig, broker):
    take(connect, "CT", "CT", "CT")
    rig = make_rig()
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
    broker.stop()
    rig.wait_outcome("link down")
    wait_for(lambda: rig.board.frames[-1][1] == modbus_frame(7, 10001), what="dashes while offline")
    mark = len(rig.outcomes)
    for name in ("next", "noshow", "recall"):
        rig.press(name)
        rig.wait_outcome(f"error {name} hub_unreachable", after=mark)
    assert rig.node.light.pattern == "fast"
    broker.start()
    rig.wait_outcome("link up", after=mark, timeout=RECONNECT_S)
    # Back: the board shows the number from the retained state again, and nothing was replayed.
    wait_for(lambda: rig.board.frames[-1][1] == modbus_frame(7, 1), timeout=10, what="A001 again")
    rows = tickets(dispatcher)
    assert rows["A001"]["status"] == "serving" and rows["A002"]["status"] == "waiting"
    wait_for(lambda: dispatcher.client.is_connected(), timeout=10, what="the dispatcher back")
    mark = len(rig.outcomes)
    rig.press("next")
    rig.wait_outcome("ok next A002", after=mark)


def test_broker_restarted_while_presses_happen(dispatcher, connect, make_rig, broker):
    numbers = take(connect, *["CT"] * 6)
    rig = make_rig()
    presses = threading.Event()

    def keep_pressing() -> None:
        while not presses.is_set():
            rig.press("next")
            presses.wait(0.15)

    presser = threading.Thread(target=keep_pressing)
    presser.start()
    try:
        rig.wait_outcome("ok next")
        broker.restart()
        rig.wait_outcome("link up", after=1, timeout=RECONNECT_S)
        wait_for(lambda: len([o for o in rig.outcomes if o.startswith("ok next")]) >= 4, timeout=RECONNECT_S,
                 what="more calls after the restart")
    finally:
        presses.set()
        presser.join()
    rig.idle()
    rows = tickets(dispatcher)
    called = [n for n in numbers if rows[n]["calls"] > 0]
    assert called == numbers[:len(called)]
    assert all(rows[n]["status"] == "served" for n in called[:-1])


# ---------------------------------------------------------------------- board faults and health


def board_status(health: dict[str, dict]) -> str | None:
    return ((health.get("quay-1") or {}).get("board") or {}).get("status")


def test_a_board_that_does_not_answer_is_reported_and_calls_go_on(dispatcher, connect, make_rig,
                                                                  health_reader):
    take(connect, "CT", "CT")
    rig = make_rig(answer=False)
    wait_for(lambda: board_status(health_reader) == "no_answer",
             what="no_answer in the health")
    rig.press("next")
    rig.wait_outcome("ok next A001")
    assert tickets(dispatcher)["A001"]["status"] == "serving"
    # The frames were still sent, byte for byte.
    wait_for(lambda: modbus_frame(7, 1) in [f for _, f in rig.board.frames], what="the A001 frame")


def test_an_unplugged_board_is_reported_and_calls_go_on(dispatcher, connect, make_rig, health_reader):
    take(connect, "CT", "CT")
    rig = make_rig()
    wait_for(lambda: board_status(health_reader) == "ok",
             what="ok in the health")
    rig.board.unplug()
    rig.press("next")
    rig.wait_outcome("ok next A001")
    health = wait_for(lambda: board_status(health_reader) == "unplugged" and health_reader["quay-1"],
                      what="unplugged in the health")
    assert health["counter"] == 1
    rig.idle()
    rig.press("next")
    rig.wait_outcome("ok next A002")


def test_ascii_board_frames(dispatcher, connect, make_rig):
    take(connect, "HT")
    rig = make_rig("quay-3", 3, protocol="ascii")
    assert rig.board.wait_frames(1)[0] == b"\x0207    \x03"
    rig.press("next")
    rig.wait_outcome("ok next B001")
    frames = rig.board.wait_frames(3)
    assert frames[1] == b"\x0207B001\x03"
    assert frames[2] == b"\x0207    \x03"
    rig.idle()
    rig.press("pause")
    wait_for(lambda: rig.board.frames[-1][1] == b"\x0207----\x03", what="dashes when paused")
