"""The counter node's figures: press → LED board frame, through the broker and the dispatcher,
beside the raw MQTT round trip of the same run; memory and idle CPU of a node process.

    .venv/bin/python -m bench.counter [--quick]

The press is a mock pin held down past the debounce time and released (a press acts on its
release, since a hold means something else); the time runs from the release to the moment the
board's frame with the new number arrives at the far end of a pseudo-terminal. The dispatcher
runs in its own process, as on the hub; presses are PAUSE_S apart.
`command_p99_ms` is the `next` round trip alone (sent over the same link, paced the same way),
so the node's own share is press_to_board minus command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from bench.common import BenchRun, bench_run, emit, process_figures, summary_ms, wait_or_fail
from counter_button.hardware import Hardware
from counter_button.node import CounterNode
from counter_button.settings import read_settings
from luot import protocol as p
from luot.config import load_device
from luot.ledboard import LedBus
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from testbed.broker import Mosquitto
from testbed.ledboard_emulator import PtyBoard
from testbed.supervisor import stop_process

ROOT = Path(__file__).resolve().parent.parent
# Between presses: the dispatcher finishes publishing the previous call (service and site
# figures) first, as it has long done when an officer presses NEXT minutes later.
PAUSE_S = 0.05


def device_toml(path: Path, broker: Mosquitto, device_id: str, number: int, port: str) -> Path:
    return broker.write_device_file(
        path, device_id,
        f'[counter]\nnumber = {number}\n\n[counter.board]\nport = "{port}"\nprotocol = "ascii"\n',
        log_level="warning",
    )


def wait(probe: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    wait_or_fail(probe, timeout, what, step=0.002)


def press_to_board(run: BenchRun, presses: int) -> tuple[list[float], list[float]]:
    """Press → board samples, then the dispatcher's own `next` round trips over the node's link,
    paced the same way: the part of the path that is not the node's."""
    broker, site = run.broker, run.site
    kiosk = HubLink(broker.settings("kiosk-1"), device_id="kiosk-1", site=site.id, purpose="bench")
    kiosk.start()
    kiosk.wait_connected(10)
    numbers = [kiosk.request("take", service="CT")["ticket"]["number"] for _ in range(2 * presses)]
    kiosk.stop()
    emulator = PtyBoard("ascii")
    settings = read_settings(load_device(device_toml(run.workdir / "quay-1.toml", broker, "quay-1", 1,
                                                     emulator.port)))
    hardware = Hardware(settings, MockFactory())
    bus = LedBus(settings.board) if settings.board else None
    link = HubLink(broker.settings("quay-1"), device_id="quay-1", site=site.id, purpose="bench")
    node = CounterNode(settings, link, light_write=hardware.light, read_pressed=hardware.is_pressed,
                       board=bus.board(settings.board_address) if bus else None)
    hardware.attach(node.edge)
    link.start()
    thread = threading.Thread(target=node.run, daemon=True)
    thread.start()
    samples: list[float] = []
    try:
        link.wait_connected(10)
        wait(lambda: link.state("state/counter/1") is not None, what="the counter's state")
        pin, button = hardware.pin("next"), node.buttons["next"]
        for number in numbers[:presses]:
            frame = f"\x0201{number[-4:]:>4}\x03".encode()
            wait(lambda: node.inflight is None and button.down_at is None
                 and button.debouncer.settle_at is None, what="a quiet button")
            time.sleep(PAUSE_S)
            pin.drive_low()
            wait(lambda: button.down_at is not None and button.debouncer.settle_at is None, what="the press")
            seen = len(emulator.frames)
            start = time.perf_counter()
            pin.drive_high()

            def arrived(frame: bytes = frame, seen: int = seen) -> float | None:
                return next((t for t, f in emulator.frames[seen:] if f == frame), None)

            wait(lambda: arrived() is not None, what=f"{number} on the board")
            samples.append(arrived() - start)
        wait(lambda: node.inflight is None, what="the last press to finish")
        round_trips = []
        for _ in range(presses):
            time.sleep(PAUSE_S)
            start = time.perf_counter()
            link.request("next", counter=1)
            round_trips.append(time.perf_counter() - start)
    finally:
        node.stop()
        thread.join(timeout=5)
        link.stop()
        hardware.close()
        if bus:
            bus.close()
        emulator.close()
    return samples, round_trips


def node_process_figures(run: BenchRun, idle_s: float) -> dict[str, float]:
    """rss and idle CPU of `python -m counter_button` on mock pins, connected and serving."""
    broker = run.broker
    emulator = PtyBoard("ascii")
    path = device_toml(run.workdir / "quay-2.toml", broker, "quay-2", 2, emulator.port)
    online = threading.Event()
    watcher = make_paho_client(broker.settings("admin"), unique_client_id("admin", "bench-watch"))
    status = f"luot/{run.site.id}/device/quay-2/status"
    watcher.on_connect = lambda c, *_: c.subscribe(status, qos=1)
    watcher.on_message = lambda _c, _u, msg: msg.payload == b"online" and online.set()
    watcher.connect(broker.host, broker.port)
    watcher.loop_start()
    process = subprocess.Popen(
        [sys.executable, "-m", "counter_button", "--config", str(path)], cwd=ROOT,
        env={**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if not online.wait(15):
            raise RuntimeError("the counter node process did not come online")
        emulator.wait_frames(1)
        time.sleep(1.0)
        return process_figures(process.pid, idle_s)
    finally:
        stop_process(process)
        watcher.disconnect()
        watcher.loop_stop()
        emulator.close()


def dispatcher_with_state(run: BenchRun) -> subprocess.Popen[bytes]:
    """The dispatcher in its own process, as on the hub (it does not share the node's GIL),
    once its retained state is there."""
    process = run.start_dispatcher()
    probe = HubLink(run.broker.settings("admin"), device_id="admin", site=run.site.id, purpose="bench-probe")
    probe.start()
    try:
        wait(lambda: probe.state(p.SITE_STATE) is not None, what="the dispatcher's retained state")
    finally:
        probe.stop()
    return process


def main() -> None:
    with bench_run(__doc__ or "") as run:
        presses, idle_s = (40, 5.0) if run.quick else (300, 20.0)
        run.measure_raw(100, 500)
        hub = dispatcher_with_state(run)
        try:
            samples, round_trips = press_to_board(run, presses)
            process = node_process_figures(run, idle_s)
        finally:
            stop_process(hub)
    press = summary_ms(samples, "press_to_board")
    target = round(run.target_ms(5), 3)
    emit({
        "bench": "counter",
        "presses": presses,
        **press,
        **run.raw,
        **summary_ms(round_trips, "command"),
        "press_to_board_target_ms": target,
        **process,
        "ok": press["press_to_board_p99_ms"] <= target and process["rss_mb"] <= 35
        and process["idle_cpu_pct"] <= 0.5,
    })


if __name__ == "__main__":
    main()
