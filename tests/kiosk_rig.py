"""The kiosk as `luot kiosk` wires it, for the kiosk tests: touches on the dummy SDL screen,
a real Mosquitto and the real dispatcher, python-escpos' Dummy printer (or a pty printer)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pygame

from kiosk import ui as screens
from kiosk.__main__ import versions
from kiosk.desk import TicketDesk
from kiosk.printer import TicketPrinter
from kiosk.screens import HubSnapshot, follow_hub, link_snapshot
from kiosk.ui import KioskUI
from luot.mqtt import make_paho_client, unique_client_id

SECRET = "site-secret-0123456789"
CARD = "001095012345|123456789|Nguyễn Văn An|15041960|Nam|Số 1 Lê Lợi|20052021"
YOUNG_CARD = "079200001234||Trần Thị Bình|02031990|Nữ|Quận 1|01012022"
SIZES = [(800, 480), (1080, 1920), (1920, 1080)]
RASTER = b"\x1dv0"
CUT = b"\x1dV"


class Kiosk:
    """A kiosk as `luot kiosk` wires it, with the printer and screen size the test chooses."""

    def __init__(self, link, printer: TicketPrinter, size=(800, 480), **desk_options) -> None:
        self.link = link
        self.surface = pygame.display.set_mode(size)
        self.snapshot_override: HubSnapshot | None = None
        self.printer = printer
        self.ui = KioskUI(self.surface, self.snapshot, lambda r: self.desk.submit(r),
                          return_after_s=5, citizen_secret=SECRET)
        self.desk = TicketDesk(link, printer, 512, self.ui.notify, versions=versions(), **desk_options)
        follow_hub(link, lambda: self.ui.notify("hub"))
        self.desk.start()
        self.ui.draw(force=True)

    def snapshot(self) -> HubSnapshot:
        return self.snapshot_override or link_snapshot(self.link)

    def pump_until(self, probe, what: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen is {self.ui.screen}")
            self.ui.pump(0.05)
        return found

    def touch(self, button: str) -> None:
        assert self.ui.touch(button), f"{button} is not on the {self.ui.screen} screen"
        self.ui.pump(0.05)

    def take(self, button: str, *, until: str = "printed"):
        self.touch(button)
        visit = lambda: self.ui.visit  # noqa: E731
        self.pump_until(lambda: self.ui.screen == screens.NUMBER and visit().print_state.startswith(until),
                        what=f"a ticket from {button}")
        return self.ui.visit.ticket

    def shot(self, artifacts: Path, name: str) -> None:
        self.ui.draw(force=True)
        w, h = self.surface.get_size()
        pygame.image.save(self.surface, artifacts / f"kiosk_{name}_{w}x{h}.png")

    def stop(self) -> None:
        self.desk.stop()


def health_watcher(broker, site_id: str, device: str) -> list[dict]:
    """Everything published on device/<id>/health, read as the admin user may."""
    seen: list[dict] = []
    client = make_paho_client(broker.settings("admin"), unique_client_id("admin", "health"))
    topic = f"luot/{site_id}/device/{device}/health"
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda _c, _u, msg: seen.append(json.loads(msg.payload))
    client.connect(broker.host, broker.port)
    client.loop_start()
    return seen


def assert_taking_closed(ui: KioskUI, prompt: tuple[str, str], taken: list[object]) -> None:
    """The start screen says `prompt` as an error, every field is greyed, and a finger on one
    takes no number."""
    frame = ui.frame()
    assert frame.prompt == prompt and frame.prompt_style == "error"
    services = [b for b in frame.buttons if b.id.startswith("service:")]
    assert services and all(b.style == "disabled" for b in services)
    assert not ui.touch("service:CT")
    ui.pump(0.05)
    assert taken == [] and ui.screen == "home"
