"""The serial LED board drivers, frame by frame over pseudo-terminals and loop://, and the
hallway LED board node against a real Mosquitto and the real dispatcher."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from contextlib import closing
from pathlib import Path

import pytest
from helpers import reaped, wait_for, write_device_toml

import luot.ledboard as ledboard
from dispatcher.service import Dispatcher
from display import led_hall
from display.led_hall import LedHallBoard, led_settings, main_led
from luot.config import ConfigError, Section, load_device
from luot.ledboard import BAD_REPLY, NO_ANSWER, OK, UNPLUGGED, BusConfig, LedBus, blinking
from luot.ledboard.ascii import AsciiBoard
from luot.ledboard.modbus import ModbusBoard, crc16, with_crc
from testbed.ledboard_emulator import PtyBoard

ROOT = Path(__file__).resolve().parent.parent


def bus(**table) -> LedBus:
    with Section(table, "device.toml", "counter.board") as section:
        return LedBus(BusConfig.from_section(section))


# ---------------------------------------------------------------------- frames


def test_modbus_crc_matches_the_specification_example():
    # Write register 1 = 3 on unit 1: the example frame of the Modbus RTU spec tutorials.
    assert with_crc(bytes.fromhex("010600010003")) == bytes.fromhex("010600010003980b")
    assert crc16(b"") == 0xFFFF


def test_modbus_frames_byte_by_byte():
    board = ModbusBoard(register=0, digits=4, blank_value=10000, dash_value=10001)
    body = bytes([0x05, 0x06, 0x00, 0x00, 0x00, 0x17])  # unit 5, function 06, register 0, value 23
    assert board.frame(5, "A023") == body + crc16(body).to_bytes(2, "little")
    assert board.frame(5, "3004")[4:6] == (3004).to_bytes(2, "big")
    assert board.frame(5, "12345")[4:6] == (2345).to_bytes(2, "big")  # a 4-digit board: last four
    assert board.frame(5, "")[4:6] == (10000).to_bytes(2, "big")
    assert board.frame(5, "-")[4:6] == (10001).to_bytes(2, "big")
    assert ModbusBoard(7, 4, 0, 0).frame(1, "B001")[2:4] == b"\x00\x07"


@pytest.mark.parametrize(("digits", "blank", "dashes"), [(4, 10000, 10001), (2, 100, 101)])
def test_modbus_defaults_show_dark_and_dashes_apart_from_every_number(digits, blank, dashes):
    with Section({"digits": digits}, "device.toml", "counter.board") as section:
        board = ModbusBoard.from_section(section)
    numbers = {board.value(f"{n:0{digits}d}") for n in range(10**digits)}
    assert (board.value(""), board.value("-")) == (blank, dashes)
    assert not numbers & {blank, dashes}


def test_ascii_frames_byte_by_byte():
    board = AsciiBoard(width=4, ack=False)
    assert board.frame(5, "A023") == b"\x02" + b"05" + b"A023" + b"\x03"
    assert board.frame(12, "7") == b"\x0212   7\x03"
    assert board.frame(0, "-") == b"\x0200----\x03"
    assert board.frame(99, "") == b"\x0299    \x03"
    assert AsciiBoard(width=7, ack=False).frame(1, "A023 05") == b"\x0201A023 05\x03"


def test_a_blink_ends_lit():
    assert blinking("A001", 10.0, 10.1) == ("A001", pytest.approx(10.4))
    assert blinking("A001", 10.0, 10.5) == ("", pytest.approx(10.7))
    assert blinking("A001", 10.0, 12.2) == ("A001", None)
    assert blinking("-", 10.0, 10.5) == ("-", None)


# ---------------------------------------------------------------------- a bus of boards


def test_several_boards_on_one_bus_each_at_its_address():
    emulator = PtyBoard("modbus")
    try:
        shared = bus(port=emulator.port, protocol="modbus")
        boards = [shared.board(address) for address in (1, 2, 17)]
        for board, text in zip(boards, ("A001", "B002", "3003"), strict=True):
            assert board.show(text)
        frames = emulator.wait_frames(3)
        assert [f[0] for f in frames] == [1, 2, 17]
        assert [int.from_bytes(f[4:6], "big") for f in frames] == [1, 2, 3003]
        assert all(b.health()["status"] == OK and b.health()["shown"] for b in boards)
        shared.close()
    finally:
        emulator.close()


def test_a_modbus_board_on_loop_answers_with_the_echo():
    board = bus(port="loop://", protocol="modbus").board(1)
    assert board.show("A001") and board.status == OK


def test_an_ascii_board_that_echoes_instead_of_acknowledging_is_a_bad_reply():
    board = bus(port="loop://", protocol="ascii", ack=True).board(1)
    assert not board.show("A001")
    assert board.status == BAD_REPLY and "expected ACK" in board.detail


def test_a_modbus_exception_reply_is_reported_with_its_code():
    master, slave = os.openpty()
    import tty

    tty.setraw(slave)

    def refuse() -> None:
        request = os.read(master, 8)
        os.write(master, with_crc(bytes([request[0], 0x86, 0x02])))

    threading.Thread(target=refuse, daemon=True).start()
    board = bus(port=os.ttyname(slave), protocol="modbus").board(4)
    try:
        assert not board.show("A001")
        assert board.status == BAD_REPLY and "exception code 2" in board.detail
    finally:
        board.bus.close()
        os.close(master)
        os.close(slave)


def test_a_board_that_does_not_answer_is_reported_not_raised():
    emulator = PtyBoard("modbus", answer=False)
    try:
        board = bus(port=emulator.port, protocol="modbus", reply_timeout_ms=30).board(9)
        assert not board.show("A001")
        assert board.health()["status"] == NO_ANSWER
        assert "30 ms" in board.health()["detail"]
        assert emulator.wait_frames(1)[0][0] == 9
        board.bus.close()
    finally:
        emulator.close()


def test_an_unplugged_port_is_reported_and_reopened_on_the_next_write():
    board = bus(port="/dev/ttyUSB-not-here", protocol="ascii").board(1)
    assert not board.show("A001")
    assert board.status == UNPLUGGED and "cannot open" in board.detail
    emulator = PtyBoard("ascii")
    try:
        board.bus.config = BusConfig(emulator.port, 9600, 0.1, AsciiBoard(4, ack=False))
        assert board.show("A001") and board.status == OK
        emulator.unplug()
        assert not board.show("A002")
        assert board.status == UNPLUGGED
        assert board.health()["faults"] == 2
    finally:
        emulator.close()


def test_a_protocol_is_one_small_file(tmp_path, monkeypatch):
    (tmp_path / "segments.py").write_text(
        "from luot.ledboard import Protocol\n"
        "class Segments(Protocol):\n"
        "    name = 'segments'\n"
        "    addresses = range(1, 9)\n"
        "    @classmethod\n"
        "    def from_section(cls, section):\n"
        "        return cls()\n"
        "    def frame(self, address, text):\n"
        "        return bytes([0xAA, address]) + text.encode() + b'\\n'\n"
        "    def check_reply(self, frame, reply):\n"
        "        pass\n"
        "PROTOCOL = Segments\n"
    )
    monkeypatch.setattr(ledboard, "__path__", [*ledboard.__path__, str(tmp_path)])
    assert ledboard.protocol_names() == ["ascii", "modbus", "segments"]
    board = bus(port="loop://", protocol="segments").board(3)
    assert board.show("A001") and board.health()["protocol"] == "segments"
    segments = {"port": "loop://", "protocol": "segments", "address": 9}
    with pytest.raises(ConfigError, match="from 1 to 8"), Section(segments, "d.toml") as section:
        BusConfig.from_section(section).address(section)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"protocol": "modbus"}, "port: is required"),
        ({"port": "", "protocol": "modbus"}, "got an empty string"),
        ({"port": "loop://", "protocol": "dmx512"}, "expected one of ascii, modbus"),
        ({"port": "loop://", "protocol": "modbus", "baudrate": 12}, "baudrate"),
        ({"port": "loop://", "protocol": "modbus", "digits": 5}, "digits"),
        ({"port": "loop://", "protocol": "ascii", "ack": "yes"}, "ack: expected true or false"),
        ({"port": "loop://", "protocol": "modbus", "dash_value": 0},
         "dash_value: expected an integer from 10000"),
        ({"port": "loop://", "protocol": "modbus", "blank_value": 20000, "dash_value": 20000},
         "dash_value: is the same as blank_value"),
    ],
)
def test_bus_configuration_mistakes_are_named(table, message):
    with pytest.raises(ConfigError, match=message), Section(table, "device.toml", "counter.board") as section:
        BusConfig.from_section(section)


# ---------------------------------------------------------------------- the hallway LED board


def display_toml(tmp_path: Path, broker, site, led: str, extra: str = "") -> Path:
    return write_device_toml(
        tmp_path / "tv-1.toml", device_id="tv-1", role="display", site=site.id, host=broker.host,
        port=broker.port, password=broker.passwords["tv-1"],
        extra=f'[display]\nkind = "led"\n{extra}\n[display.led]\n{led}',
    )


def documented_rows(port: str) -> str:
    """The `[display.led]` example in display.led_hall's docstring on this port: the board the
    module documents is the one tested (rows 1 and 2 the last calls, row 9 counter 5)."""
    example = textwrap.dedent((led_hall.__doc__ or "").split("    [display.led]\n", 1)[1])
    return re.sub(r'^port = ".*"$', f'port = "{port}"', example, count=1, flags=re.M)


@pytest.mark.parametrize(
    ("led", "extra", "message"),
    [
        ('port = "loop://"\nprotocol = "ascii"\n[[display.led.rows]]\naddress = 1\n', "",
         "width must be at least 7"),
        ('port = "loop://"\nprotocol = "modbus"\n[[display.led.rows]]\naddress = 1\n', "",
         "each row needs the counter"),
        ('port = "loop://"\nprotocol = "ascii"\nwidth = 8\n[[display.led.rows]]\naddress = 1\n'
         '[[display.led.rows]]\naddress = 1\n', "", "address 1 is used by two boards"),
        ('port = "loop://"\nprotocol = "ascii"\nwidth = 8\n', "", "display.led.rows: is required"),
        ('port = "loop://"\nprotocol = "ascii"\nwidth = 8\n[[display.led.rows]]\naddress = 1\n',
         "sound = true\n", "display.sound: unknown key"),
        ('port = "loop://"\nprotocol = "ascii"\nwidth = 8\n[[display.led.rows]]\naddress = 1\n',
         "counters = [0]\n", "expected a counter number"),
    ],
)
def test_led_display_configuration_mistakes(tmp_path, broker, site, led, extra, message, capsys):
    device = load_device(display_toml(tmp_path, broker, site, led, extra))
    with pytest.raises(ConfigError, match=message):
        led_settings(device)
    assert main_led(device) == 2
    assert message.split(":")[0] in capsys.readouterr().out


def shown(emulator: PtyBoard, address: int) -> bytes | None:
    frames = [f for _, f in emulator.frames if f[1:3] == f"{address:02d}".encode()]
    return frames[-1] if frames else None


def test_the_hallway_board_shows_the_last_calls(dispatcher, connect, broker, site, tmp_path,
                                                health_reader):
    emulator = PtyBoard("ascii")
    device = load_device(display_toml(tmp_path, broker, site, documented_rows(emulator.port),
                                      "counters = [1, 2, 5]\n"))
    settings = led_settings(device)
    shared = LedBus(settings.bus)
    boards = [shared.board(r.address) for r in settings.rows]
    link = connect("tv-1")
    node = LedHallBoard(settings, link, boards)
    thread = threading.Thread(target=node.run, daemon=True)
    thread.start()
    try:
        kiosk = connect("kiosk-1")
        for service in ("CT", "CT", "HT", "CT"):
            kiosk.request("take", service=service)
        wait_for(lambda: shown(emulator, 1) == b"\x0201       \x03", what="an empty first row")
        connect("quay-1").request("next", counter=1)
        wait_for(lambda: shown(emulator, 1) == b"\x0201A001 01\x03", what="A001 at counter 1 on row 1")
        connect("quay-2").request("next", counter=2)
        wait_for(lambda: shown(emulator, 1) == b"\x0201A002 02\x03", what="the newest call on row 1")
        wait_for(lambda: shown(emulator, 2) == b"\x0202A001 01\x03", what="the call before on row 2")
        # Counter 3 is not shown on this board; counter 5 has a row of its own.
        connect("quay-3").request("next", counter=3)
        connect("quay-5").request("next", counter=5)
        wait_for(lambda: shown(emulator, 9) == b"\x0209   A003\x03", what="counter 5's row")
        wait_for(lambda: shown(emulator, 1) == b"\x0201A003 05\x03", what="counter 5 newest")
        assert b"B001" not in b"".join(f for _, f in emulator.frames)
        # A new call blinks its row: dark frames between lit ones.
        def dark_after_the_call() -> bool:
            rows_1 = [f for _, f in emulator.frames if f[1:3] == b"01"]
            return b"\x0201       \x03" in rows_1[rows_1.index(b"\x0201A003 05\x03"):]

        wait_for(dark_after_the_call, what="the new call's row blinking")
        report = wait_for(lambda: health_reader.get("tv-1"), what="the LED board's health")
        assert report["kind"] == "led" and [b["status"] for b in report["boards"]] == [OK, OK, OK]
        # The board's cable pulled: reported, and the node keeps running.
        emulator.unplug()
        connect("quay-1").request("next", counter=1, expect=1)
        statuses = lambda: [b["status"] for b in (health_reader.get("tv-1") or {}).get("boards", [])]  # noqa: E731
        wait_for(lambda: statuses() == [UNPLUGGED] * 3, what="unplugged in the health")
        assert thread.is_alive()
    finally:
        node.stop()
        thread.join(timeout=5)
        shared.close()
        emulator.close()


def test_main_led_runs_the_node_until_sigterm(dispatcher, connect, broker, site, tmp_path):
    emulator = PtyBoard("ascii")
    path = display_toml(tmp_path, broker, site, documented_rows(emulator.port))
    code = f"from display.led_hall import main_led; from luot.config import load_device; " \
           f"raise SystemExit(main_led(load_device({str(path)!r})))"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    with reaped(process), closing(emulator):
        connect("kiosk-1").request("take", service="CT")
        wait_for(lambda: shown(emulator, 1) is not None, timeout=10, what="the node's first frames")
        connect("quay-5").request("next", counter=5)
        wait_for(lambda: shown(emulator, 9) == b"\x0209   A001\x03", what="A001 on counter 5's row")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_numeric_modbus_rows_follow_their_counters_and_show_dashes_offline(dispatcher, connect, broker, site,
                                                                         tmp_path):
    emulator = PtyBoard("modbus")
    led = (f'port = "{emulator.port}"\nprotocol = "modbus"\nblank_value = 10000\ndash_value = 10001\n'
           "[[display.led.rows]]\naddress = 11\ncounter = 1\n"
           "[[display.led.rows]]\naddress = 12\ncounter = 4\n")
    settings = led_settings(load_device(display_toml(tmp_path, broker, site, led)))
    shared = LedBus(settings.bus)
    node = LedHallBoard(settings, connect("tv-1"), [shared.board(r.address) for r in settings.rows])
    thread = threading.Thread(target=node.run, daemon=True)
    thread.start()

    def value(unit: int) -> int | None:
        frames = [f for _, f in emulator.frames if f[0] == unit]
        return int.from_bytes(frames[-1][4:6], "big") if frames else None

    try:
        kiosk = connect("kiosk-1")
        kiosk.request("take", service="CT")
        kiosk.request("take", service="DD")
        wait_for(lambda: value(11) == 10000 and value(12) == 10000, what="dark rows")
        connect("quay-1").request("next", counter=1)
        connect("quay-4").request("next", counter=4)
        wait_for(lambda: value(11) == 1, what="A001 as 1 on counter 1's row")
        wait_for(lambda: value(12) == 3001, what="3001 on counter 4's row")
        dispatcher.stop()  # the broker up, the dispatcher away: no number is live
        wait_for(lambda: value(11) == 10001 and value(12) == 10001, what="dashes, the dispatcher away")
        assert node.link.connected
        again = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
        again.start()
        wait_for(lambda: value(11) == 1 and value(12) == 3001, what="the numbers back with the dispatcher")
        broker.stop()
        wait_for(lambda: value(11) == 10001 and value(12) == 10001, timeout=15, what="dashes offline")
        assert all(b.status == OK for b in node.boards)
        broker.start()
        again.stop()
    finally:
        node.stop()
        thread.join(timeout=5)
        shared.close()
        emulator.close()
