"""Kiosk benchmark: touch to ticket through the broker and the dispatcher, ticket and frame
rendering, and an idle kiosk process's memory and CPU.

    .venv/bin/python -m bench.kiosk [--quick]

`touch_to_ticket_p99_ms` runs from posting a finger press and release into SDL's queue
(from another thread, as the touch driver would) until the ticket's ESC/POS bytes are
ready for the printer: the UI loop notices the touch, the desk sends `take`, the
dispatcher commits and replies, the ticket is drawn and encoded. `idle_cpu_pct` and
`rss_mb` are of a separate `luot kiosk --keys` process (dummy video, PNG printer) that
has printed a few tickets and is then left alone.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pygame
from escpos.printer import Dummy

from bench.common import bench_run, emit, process_figures, summary_ms, wait_or_fail
from dispatcher.service import Dispatcher
from kiosk import ui as screens
from kiosk.desk import TicketDesk
from kiosk.printer import EscposPrinter
from kiosk.screens import link_snapshot
from kiosk.ticket import render_ticket, ticket_info
from kiosk.ui import ACTIVE_FOR_S, KioskUI
from luot import protocol as p
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from luot.screen import open_screen
from testbed.broker import Mosquitto
from testbed.supervisor import stop_process

PROFILE = "TM-T20II"
PAPER_PX = 576


def _wait(probe: Callable[[], object], timeout: float, what: str) -> None:
    wait_or_fail(probe, timeout, what, step=0.001)


def _finger(ui: KioskUI, centre: tuple[int, int]) -> None:
    w, h = ui.surface.get_size()
    for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
        pygame.event.post(pygame.event.Event(kind, touch_id=0, finger_id=0, x=centre[0] / w,
                                             y=centre[1] / h, dx=0.0, dy=0.0, pressure=1.0))


def touch_to_ticket(broker: Mosquitto, count: int) -> tuple[list[float], float, float]:
    """Touches injected from a second thread while the UI loop runs here; returns the samples
    (seconds), the median full redraw at 1080×1920 and the median ticket render (ms)."""
    link = HubLink(broker.settings("kiosk-1"), device_id="kiosk-1", site=broker.site, purpose="bench")
    link.start()
    _wait(lambda: link.state(p.CONFIG) and link.states(p.SERVICE_STATES), 10, "the catalogue")
    surface = open_screen((1080, 1920), fullscreen=False)
    dummy = Dummy(profile=PROFILE)
    printer = EscposPrinter(lambda: dummy, PROFILE, "dummy://")
    desk: TicketDesk
    ui = KioskUI(surface, lambda: link_snapshot(link), lambda request: desk.submit(request),
                 return_after_s=600)
    desk = TicketDesk(link, printer, PAPER_PX, ui.notify)
    desk.start()
    ui.draw(force=True)
    centres = {code: ui.button_centre(f"service:{code}") for code in ("CT", "HT")}
    samples: list[float] = []

    def inject() -> None:
        for i in range(count):
            _wait(lambda: ui.screen == screens.HOME, 10, "the start screen")
            time.sleep(0.02)
            start = time.perf_counter()
            _finger(ui, centres["CT" if i % 2 else "HT"])
            _wait(lambda n=i + 1: printer.printed >= n, 10, "the ticket")
            samples.append(printer.last_job_ready - start)
            dummy.clear()  # the paper leaves the printer
            _wait(lambda: ui.screen == screens.NUMBER, 10, "the number screen")
            _finger(ui, ui.button_centre("done"))
        ui.running = False
        ui.wakeup.set()

    injector = threading.Thread(target=inject, daemon=True)
    injector.start()
    while ui.running:
        ui.pump(ui.next_timeout())
    injector.join()
    desk.stop()

    frame = ui.frame()
    redraws = []
    for _ in range(30):
        t = time.perf_counter()
        ui.render(frame)
        pygame.display.flip()
        redraws.append(time.perf_counter() - t)
    reply = {"ticket": {"number": "A123", "service": "CT", "priority": "nguoi-cao-tuoi",
                        "issued_at": "2026-11-23T09:41:00+07:00"}, "ahead": 17, "est_wait_min": 25}
    info = ticket_info(link.state(p.CONFIG), reply)
    renders = []
    for _ in range(20):
        t = time.perf_counter()
        render_ticket(info, PAPER_PX)
        renders.append(time.perf_counter() - t)
    link.stop()
    pygame.display.quit()
    return samples, statistics.median(redraws) * 1000, statistics.median(renders) * 1000


def idle_process(broker: Mosquitto, workdir: Path, tickets: int, seconds: float) -> dict[str, float]:
    """Start `luot kiosk --keys` as its own process, have it print `tickets` tickets (PNG),
    let it go back to the start screen, then measure its RSS and idle CPU."""
    config = broker.write_device_file(
        workdir / "kiosk-2.toml", "kiosk-2",
        f'[kiosk]\nprinter = "png://{workdir}/tickets"\nprofile = "{PROFILE}"\nreturn_after_s = 2\n',
    )
    folder = workdir / "tickets"
    seen = threading.Event()
    watcher = make_paho_client(broker.settings("admin"), unique_client_id("admin", "bench"))
    watcher.on_connect = lambda c, *_: c.subscribe(f"luot/{broker.site}/device/kiosk-2/health", qos=1)
    watcher.on_message = lambda *_: seen.set()
    watcher.connect(broker.host, broker.port)
    watcher.loop_start()
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    process = subprocess.Popen(
        [sys.executable, "-m", "luot", "kiosk", "--config", str(config), "--size", "1080x1920", "--windowed",
         "--keys"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        if not seen.wait(20):
            raise RuntimeError("the kiosk process did not report its health")
        assert process.stdin is not None
        process.stdin.write("".join("CT\n" if i % 2 else "HT\n" for i in range(tickets)))
        process.stdin.flush()
        _wait(lambda: folder.exists() and len(list(folder.glob("*.png"))) >= tickets, 120, "the tickets")
        # The last number screen times out, then the fast input polling after a touch ends.
        time.sleep(2 + ACTIVE_FOR_S + 1.0)
        return process_figures(process.pid, seconds)
    finally:
        stop_process(process)
        watcher.disconnect()
        watcher.loop_stop()


def main() -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    with bench_run(__doc__.splitlines()[0]) as run:
        broker = run.broker
        hub = Dispatcher(run.site, run.workdir / "luot.db", broker.settings("hub"))
        hub.start()
        _wait(lambda: hub.client.is_connected() and hub.batches > 0, 10, "the dispatcher")
        try:
            run.measure_raw(200, 1000)
            samples, frame_ms, render_ms = touch_to_ticket(broker, 30 if run.quick else 200)
            process = idle_process(broker, run.workdir, 10 if run.quick else 40, 5.0 if run.quick else 20.0)
        finally:
            hub.stop()
    emit({
        **summary_ms(samples, "touch_to_ticket", digits=2),
        "render_ticket_ms": round(render_ms, 2),
        "frame_ms": round(frame_ms, 2),
        **process,
        "tickets": len(samples),
        **run.raw,
    })


if __name__ == "__main__":
    main()
