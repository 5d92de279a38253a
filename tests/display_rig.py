"""A whole centre for the display tests: broker, dispatcher, and the links and boards tests open."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dispatcher.service import Dispatcher
from display.app import DisplayApp
from display.state import BoardState
from display.voice import Announcer
from luot.config import SiteConfig
from luot.mqtt import HubLink
from luot.screen import open_screen
from luot.systemd import Notifier
from luot.update_hooks import UpdateHooks
from testbed.broker import Mosquitto

SIZES = ((1920, 1080), (1280, 720), (1080, 1920))


@dataclass
class Centre:
    """A whole centre of `n` counters: broker, dispatcher, and links that tests open."""

    site: SiteConfig
    broker: Mosquitto
    hub: Dispatcher
    links: list[HubLink] = field(default_factory=list)

    def link(self, device_id: str) -> HubLink:
        """The device's one link (the broker binds a client id to its user: a second would
        push the first off)."""
        known = next((link for link in self.links if link.device_id == device_id), None)
        if known is not None:
            return known
        link = HubLink(self.broker.settings(device_id), device_id=device_id, site=self.site.id)
        self.links.append(link)
        link.start()
        assert link.wait_connected(5), f"{device_id} could not connect"
        return link

    def board(self, size: tuple[int, int], *, device_id: str = "tv-1", state: BoardState | None = None,
              announcer: Announcer | None = None, screenshots: Path | None = None,
              notifier: Notifier | None = None, update: UpdateHooks | None = None) -> DisplayApp:
        """A board on the dummy screen; its link starts after the handlers are in place."""
        screen = open_screen(size, fullscreen=False)
        link = HubLink(self.broker.settings(device_id), device_id=device_id, site=self.site.id)
        self.links.append(link)
        app = DisplayApp(link, screen, state or BoardState(), announcer=announcer, screenshots=screenshots,
                         notifier=notifier, update=update)
        link.start()
        return app


def fill_and_call(c: Centre, *, leave_idle: int = 1) -> None:
    """Tickets in every field, every counter but the last `leave_idle` called, the last paused."""
    kiosk, admin = c.link("kiosk-1"), c.link("admin")
    codes = [s.code for s in c.site.services]
    for i in range(3 * len(c.site.counters) + 10):
        kiosk.request("take", service=codes[i % len(codes)])
    for counter in c.site.counters[: len(c.site.counters) - leave_idle]:
        admin.request("next", counter=counter.number)
    admin.request("pause", counter=c.site.counters[-1].number)


def shown(app: DisplayApp) -> dict[int, str | None]:
    return {n: v.ticket for n, v in app.state.counters.items()}


def served_now(c: Centre) -> dict[int, str | None]:
    snapshot = c.hub.snapshot()["counters"]
    return {n: (s["ticket"] or {}).get("number") for n, s in snapshot.items()}
