"""The counter node's configuration mistakes, its command line, the keyboard demo and the
label sheet."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
from counter_rig import take, tickets
from helpers import reaped, wait_for, write_device_toml

from counter_button.settings import read_settings
from luot.config import ConfigError, load_device
from testbed.ledboard_emulator import PtyBoard


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

    path = write_device_toml(tmp_path / "d.toml", device_id="quay-1", role="counter", site=site.id,
                             host="127.0.0.1", port=1883, password="x", extra="[counter]\nnumber = 1\n")
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    env["GPIOZERO_PIN_FACTORY"] = "no-such-factory"
    result = subprocess.run([sys.executable, "-m", "counter_button", "--config", str(path)],
                            cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot use the GPIO pins" in result.stdout and "--keys" in result.stdout
