"""The counter node against a real Mosquitto and the real dispatcher, on gpiozero's mock pins,
with its LED board at the far end of a pseudo-terminal."""

from __future__ import annotations

import json
import os
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from helpers import reaped, wait_for, write_device_toml

from counter_button.hardware import Hardware
from counter_button.node import CounterNode
from counter_button.settings import CounterSettings, read_settings
from luot.config import ConfigError, load_device
from luot.ledboard import LedBus
from luot.ledboard.modbus import with_crc
from luot.mqtt import make_paho_client, unique_client_id
from testbed.ledboard_emulator import PtyBoard


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    yield factory
    factory.reset()


@dataclass
class Rig:
    """A running counter node and what it is wired to."""

    node: CounterNode
    hardware: Hardware
    settings: CounterSettings
    board: PtyBoard | None
    outcomes: list[str] = field(default_factory=list)

    def press(self, name: str, times: int = 1) -> None:
        """A press and a release, each waited for: a finger on a button, without the bounce."""
        pin = self.hardware.pin(name)
        button = self.node.buttons[name]
        for _ in range(times):
            # A finger does not press again within the debounce time: that would be bounce.
            wait_for(lambda: button.debouncer.settle_at is None and button.down_at is None, what="quiet")
            pin.drive_low()
            wait_for(lambda: button.down_at is not None, what=f"{name} down")
            pin.drive_high()
            wait_for(lambda: button.down_at is None, what=f"{name} up")

    def hold(self, name: str) -> None:
        pin = self.hardware.pin(name)
        pin.drive_low()
        wait_for(lambda: self.node.buttons[name].hold_fired, what=f"the hold of {name}")
        pin.drive_high()
        wait_for(lambda: self.node.buttons[name].down_at is None, what=f"{name} up")

    def wait_outcome(self, prefix: str, after: int = 0, timeout: float = 5.0) -> str:
        return wait_for(lambda: next((o for o in self.outcomes[after:] if o.startswith(prefix)), None),
                        timeout=timeout, what=f"an outcome {prefix!r} after {after}")

    def idle(self) -> None:
        """Wait until no command is in flight and the node has caught up with the state."""
        wait_for(lambda: self.node.inflight is None, what="the command to finish")


# paho retries after 1, 2, 4, 8 s: a broker back after a few seconds is found within this.
RECONNECT_S = 20.0

COUNTER_TOML = """
[counter]
number = {number}
debounce_ms = 20
hold_s = 0.5
transfer_window_s = 0.5
error_s = 0.6
{extra}
"""


@pytest.fixture
def make_rig(broker, connect, site, pins, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[tuple[Rig, threading.Thread, LedBus | None]] = []

    def make(device_id: str = "quay-1", number: int = 1, *, protocol: str | None = "modbus",
             answer: bool = True, extra: str = "") -> Rig:
        board = PtyBoard(protocol, answer=answer) if protocol else None
        board_toml = (f'[counter.board]\nport = "{board.port}"\nprotocol = "{protocol}"\naddress = 7\n'
                      if board else "")
        path = write_device_toml(
            tmp_path / f"{device_id}.toml", device_id=device_id, role="counter", site=site.id,
            host=broker.host, port=broker.port, password=broker.passwords[device_id],
            extra=COUNTER_TOML.format(number=number, extra=extra) + board_toml,
        )
        settings = read_settings(load_device(path))
        hardware = Hardware(settings, pins)
        bus = LedBus(settings.board) if settings.board else None
        link = connect(device_id)
        outcomes: list[str] = []
        node = CounterNode(settings, link, light_write=hardware.light, read_pressed=hardware.is_pressed,
                           board=bus.board(settings.board_address) if bus else None,
                           beep=hardware.beep, on_outcome=outcomes.append)
        hardware.attach(node.edge)
        thread = threading.Thread(target=node.run, daemon=True)
        thread.start()
        rig = Rig(node, hardware, settings, board, outcomes)
        rigs.append((rig, thread, bus))
        return rig

    yield make
    for rig, thread, bus in rigs:
        rig.node.stop()
        thread.join(timeout=5)
        rig.hardware.close()
        if bus:
            bus.close()
        if rig.board:
            rig.board.close()


def tickets(dispatcher) -> dict[str, dict]:
    rows = dispatcher.db.execute("SELECT * FROM tickets ORDER BY id").fetchall()
    return {r["number"]: dict(r) for r in rows}


def take(connect, *services: str) -> list[str]:
    kiosk = connect("kiosk-1")
    return [kiosk.request("take", service=s)["ticket"]["number"] for s in services]


def modbus_frame(unit: int, value: int) -> bytes:
    return with_crc(struct.pack(">BBHH", unit, 6, 0, value))


# ---------------------------------------------------------------------- each button


def test_next_calls_the_next_citizen_and_the_board_shows_it(dispatcher, connect, make_rig):
    take(connect, "CT", "CT")
    rig = make_rig()
    assert rig.board is not None
    # Idle counter: the board is dark (blank value 0).
    assert rig.board.wait_frames(1)[0] == modbus_frame(7, 0)
    rig.press("next")
    rig.wait_outcome("ok next A001")
    assert tickets(dispatcher)["A001"]["status"] == "serving"
    assert tickets(dispatcher)["A001"]["counter"] == 1
    # The number, then the blink (dark, lit, …), ending lit: every frame byte for byte.
    frames = rig.board.wait_frames(7)
    assert frames[1] == bytes([0x07, 0x06, 0x00, 0x00, 0x00, 0x01]) + with_crc(bytes([7, 6, 0, 0, 0, 1]))[-2:]
    assert frames[1:7] == [modbus_frame(7, v) for v in (1, 0, 1, 0, 1, 0)]
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


def test_recall_calls_the_same_number_again(dispatcher, connect, make_rig):
    take(connect, "CT", "CT")
    rig = make_rig()
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
    before = len(rig.board.frames)
    rig.press("recall")
    rig.wait_outcome("ok recall A001")
    row = tickets(dispatcher)["A001"]
    assert row["status"] == "serving" and row["calls"] == 2
    assert tickets(dispatcher)["A002"]["status"] == "waiting"
    # A recall blinks the board again.
    rig.board.wait_frames(before + 2)
    assert modbus_frame(7, 0) in [f for _, f in rig.board.frames[before:]]


def test_noshow_skips_the_absent_citizen_and_calls_the_next(dispatcher, connect, make_rig):
    take(connect, "CT", "CT")
    rig = make_rig()
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
    rig.press("noshow")
    rig.wait_outcome("ok noshow A002")
    rows = tickets(dispatcher)
    assert rows["A001"]["status"] == "noshow"
    assert rows["A002"]["status"] == "serving"


def test_holding_next_finishes_without_calling_and_holding_recall_requeues(dispatcher, connect, make_rig):
    take(connect, "CT", "CT", "CT", "CT")
    rig = make_rig()
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
    rig.hold("recall")
    rig.wait_outcome("ok requeue A001")
    rows = tickets(dispatcher)
    assert rows["A001"]["status"] == "waiting"
    rig.idle()
    rig.press("next")
    rig.wait_outcome("ok next A002")
    rig.idle()
    rig.hold("next")
    rig.wait_outcome("ok done")
    rows = tickets(dispatcher)
    assert rows["A002"]["status"] == "served"
    assert not [n for n, r in rows.items() if r["status"] == "serving"]
    rig.idle()
    # requeue_after = 2 in the test site: A001 had A002 and A003 waiting before it, and comes
    # back behind them (A002 has been called meanwhile), before A004.
    for expected in ("A003", "A001", "A004"):
        mark = len(rig.outcomes)
        rig.press("next")
        rig.wait_outcome(f"ok next {expected}", after=mark)
        rig.idle()


def test_transfer_by_pressing_n_times(dispatcher, connect, make_rig, site):
    take(connect, "CT")
    rig = make_rig("quay-5", 5)
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
    rig.press("transfer", times=2)
    rig.wait_outcome("transfer choice 2")
    rig.wait_outcome("ok transfer A001")
    row = tickets(dispatcher)["A001"]
    assert site.services[1].code == "HT"
    assert (row["service"], row["status"]) == ("HT", "waiting")
    # Four presses: the site has three services, so nothing happens but the error light.
    rig.idle()
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
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
    wait_for(lambda: rig.board.frames[-1][1] == modbus_frame(7, 0), what="dashes (dash_value 0)")
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
    wait_for(lambda: rig.board.frames[-1][1] == modbus_frame(7, 0), what="dashes while offline")
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


@pytest.fixture
def health_reader(broker, site):
    """The admin's view of `device/<id>/health` (devices cannot read each other's)."""
    seen: dict[str, dict] = {}
    client = make_paho_client(broker.settings("admin"), unique_client_id("admin", "health"))
    client.on_connect = lambda c, *_: c.subscribe(f"luot/{site.id}/device/+/health", qos=0)

    def on_message(_c, _u, msg) -> None:
        seen[msg.topic.split("/")[-2]] = json.loads(msg.payload)

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    yield seen
    client.disconnect()
    client.loop_stop()


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


# ---------------------------------------------------------------------- rating


def test_rating_goes_to_the_citizen_just_served_once(dispatcher, connect, make_rig):
    take(connect, "CT", "CT")
    rig = make_rig(extra="[counter.rating]\npins = [5, 6, 13]\n")
    rig.press("next")
    rig.wait_outcome("ok next A001")
    rig.idle()
    rig.press("next")
    rig.wait_outcome("ok next A002")
    rig.idle()
    rig.press("rate1")
    rig.wait_outcome("ok rate")
    rig.idle()
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


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[counter]\n", "counter.number: is required"),
        ("[counter]\nnumber = 1\n[counter.pins]\nnext = 17\nrecall = 17\n", "pin 17 is already used"),
        ("[counter]\nnumber = 1\n[counter.pins]\nnext = 99\n", "expected a GPIO number 0 to 53"),
        ("[counter]\nnumber = 1\n[counter.pins]\nnext = true\n", "counter.pins.next"),
        ("[counter]\nnumber = 1\n[counter.rating]\npins = [5, 6, 13, 19]\n", "expected 5 or 3 rating"),
        ("[counter]\nnumber = 1\nholdtime = 2\n", "unknown key"),
        ('[counter]\nnumber = 1\n[counter.board]\nport = "loop://"\nprotocol = "dmx"\n',
         "expected one of ascii, modbus"),
        ('[counter]\nnumber = 1\n[counter.board]\nport = "loop://"\nprotocol = "modbus"\naddress = 0\n',
         "counter.board.address: expected an integer from 1 to 247"),
        ('[counter]\nnumber = 1\n[counter.board]\nport = "loop://"\nprotocol = "ascii"\naddress = 100\n',
         "counter.board.address: expected an integer from 0 to 99"),
        ('[counter]\nnumber = 1\n[counter.board]\nprotocol = "ascii"\n', "counter.board.port"),
    ],
)
def test_configuration_mistakes_are_named(tmp_path, extra, message):
    path = write_device_toml(tmp_path / "d.toml", device_id="quay-1", role="counter", site="test-ward",
                             host="127.0.0.1", port=1883, password="x", extra=extra)
    with pytest.raises(ConfigError) as e:
        read_settings(load_device(path))
    assert message in str(e.value)
    assert str(path) in str(e.value)


def test_main_reports_a_configuration_error_and_returns_2(tmp_path, capsys):
    from counter_button.__main__ import main

    path = write_device_toml(tmp_path / "d.toml", device_id="kiosk-1", role="kiosk", site="test-ward",
                             host="127.0.0.1", port=1883, password="x")
    assert main(["--config", str(path)]) == 2
    assert "is 'kiosk', but luot counter runs on a counter device" in capsys.readouterr().out


# ---------------------------------------------------------------------- the keyboard demo and the label


def test_keys_mode_drives_the_real_node_from_stdin(dispatcher, connect, broker, site, tmp_path):
    import subprocess
    import sys

    take(connect, "CT", "CT")
    emulator = PtyBoard("ascii")
    path = write_device_toml(
        tmp_path / "quay-2.toml", device_id="quay-2", role="counter", site=site.id, host=broker.host,
        port=broker.port, password=broker.passwords["quay-2"],
        extra=f'[counter]\nnumber = 2\n[counter.board]\nport = "{emulator.port}"\nprotocol = "ascii"\n',
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "counter_button", "--keys", "--config", str(path)],
        cwd=Path(__file__).resolve().parent.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()

    def send(line: str, expect: str) -> None:
        mark = len(lines)
        process.stdin.write(line + "\n")
        process.stdin.flush()
        wait_for(lambda: any(x.startswith(expect) for x in lines[mark:]), timeout=10,
                 what=f"{expect!r} after {line!r}")

    with reaped(process), closing(emulator):
        wait_for(lambda: "link up\n" in lines, timeout=10, what="the node connected")
        send("next", "ok next A001")
        wait_for(lambda: b"\x0201A001\x03" in [f for _, f in emulator.frames], what="A001 on board 01")
        send("rate 4", "ok rate A001")
        send("rate 9", "error rate: the score is one of")
        send("fly", "error unknown line 'fly'")
        send("recall", "ok recall A001")
        send("done", "ok done")
        assert tickets(dispatcher)["A001"]["rating"] == 4
        assert tickets(dispatcher)["A001"]["status"] == "served"
        process.stdin.write("quit\n")
        process.stdin.flush()
        assert process.wait(timeout=10) == 0


def test_the_label_sheet(tmp_path, site, artifacts):
    from PIL import Image

    from counter_button.__main__ import main

    path = write_device_toml(tmp_path / "d.toml", device_id="quay-5", role="counter", site=site.id,
                             host="127.0.0.1", port=1883, password="x",
                             extra="[counter]\nnumber = 5\n[counter.rating]\npins = [5, 6, 13, 19, 26]\n")
    out = artifacts / "counter-label.png"
    assert main(["--config", str(path), "--label", str(out), "--site", str(site.file)]) == 0
    image = Image.open(out).convert("L")
    assert image.size == (2480, 1748)
    # Ink reaches down to the rating line near the bottom, and nothing runs off the right edge.
    rows_with_ink = [y for y in range(image.height)
                     if image.crop((0, y, image.width, y + 1)).getextrema()[0] < 128]
    assert rows_with_ink[-1] > image.height * 0.8
    assert image.crop((image.width - 40, 0, image.width, image.height)).getextrema()[0] > 128


def test_without_gpio_the_node_says_so_and_returns_1(tmp_path, site):
    import subprocess
    import sys

    path = write_device_toml(tmp_path / "d.toml", device_id="quay-1", role="counter", site=site.id,
                             host="127.0.0.1", port=1883, password="x", extra="[counter]\nnumber = 1\n")
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    env["GPIOZERO_PIN_FACTORY"] = "no-such-factory"
    result = subprocess.run([sys.executable, "-m", "counter_button", "--config", str(path)],
                            cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot use the GPIO pins" in result.stdout and "--keys" in result.stdout
