"""What each kiosk screen shows, as a `Frame` built from the hub's state and one citizen's visit.

Pure data: nothing here draws. Two equal frames look the same on the glass, so the
screen is redrawn only when the frame built for this moment differs from the last one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kiosk import texts
from kiosk.cccd import Citizen
from kiosk.layout import Layout, Rect
from kiosk.printer import PrinterStatus
from kiosk.texts import Bilingual
from kiosk.ticket import TicketInfo
from luot import protocol as p
from luot.config.site import zone_named
from luot.mqtt import HubLink
from luot.text import WEEKDAYS

HOME = "home"
PRIORITY = "priority"
PRIORITY_SERVICES = "priority_services"
TAKING = "taking"
NUMBER = "number"
MESSAGE = "message"

@dataclass(frozen=True)
class HubSnapshot:
    """What the screen needs from the hub's retained state."""

    connected: bool  # the broker is reached
    catalogue: dict[str, Any] | None
    site: dict[str, Any] | None
    services: dict[str, dict[str, Any]]
    # The dispatcher's own retained status says online: the broker alone answers no take.
    hub_online: bool = True
    updating: bool = False  # held for a fleet update: restarting in a moment


def link_snapshot(link: HubLink) -> HubSnapshot:
    return HubSnapshot(
        connected=link.connected,
        catalogue=link.state(p.CONFIG),
        site=link.state(p.SITE_STATE),
        services={k.rsplit("/", 1)[-1]: v for k, v in link.states(p.SERVICE_STATES).items()},
        hub_online=link.hub_online,
    )


def follow_hub(link: HubLink, wake: Callable[[], None]) -> None:
    """Call `wake` whenever what `link_snapshot` reads may have changed."""
    def on_message(topic: str, _payload: Any, _retained: bool) -> None:
        if topic in (p.CONFIG, p.SITE_STATE) or topic.startswith(p.SERVICE_STATES):
            wake()

    link.add_handler(on_message)
    link.add_connection_handler(lambda _up: wake())
    link.add_hub_handler(lambda _online: wake())


@dataclass(frozen=True)
class Button:
    id: str
    rect: Rect
    vi: str
    en: str
    style: str


@dataclass(frozen=True)
class Frame:
    """Everything on the glass; two equal frames look the same."""

    screen: str
    title: Bilingual
    prompt: Bilingual | None = None
    prompt_style: str = "normal"
    buttons: tuple[Button, ...] = ()
    number: TicketInfo | None = None
    print_state: str = ""
    message: Bilingual | None = None
    message_style: str = "error"
    footer: str = ""
    pressed: str | None = None


@dataclass
class Visit:
    """One citizen's path through the screens, forgotten when the kiosk returns home."""

    priority: str | None = None
    ticket: TicketInfo | None = None
    print_state: str = ""
    message: Bilingual | None = None
    message_style: str = "error"
    notice: Bilingual | None = None
    citizen: Citizen | None = None
    citizen_at: float = 0.0
    page: int = 0
    read_aloud: bool = False  # large text, and what is touched is said before it acts
    armed: str | None = None  # in that mode: the button said once, which acts when touched again


@dataclass(frozen=True)
class Moment:
    """The kiosk's own side of a frame: which screen, whose visit, the printer, the finger."""

    screen: str
    visit: Visit
    printer: PrinterStatus
    pressed: str | None
    now: datetime
    pages: int = 1  # the services in this many pages, each button legible
    category_pages: int = 1  # and the priority groups


def build_frame(lay: Layout, at: Moment, snap: HubSnapshot) -> Frame:
    """The frame of this screen at this moment."""
    catalogue = snap.catalogue
    title = (catalogue.get("name", ""), catalogue.get("name_en", "")) if catalogue else (
        "Hệ thống xếp hàng", "Queue system")
    now = at.now
    if catalogue and catalogue.get("timezone"):
        now = now.astimezone(zone_named(catalogue["timezone"]))
    footer = f"{WEEKDAYS[now.weekday()]}, {now:%d/%m/%Y}   {now:%H:%M}"
    base = Frame(screen=at.screen, title=title, footer=footer, pressed=at.pressed)
    if catalogue is None:
        message = texts.CONNECTING if snap.connected else texts.UNREACHABLE
        return replace(base, screen="unreachable", message=message,
                       prompt=texts.UNREACHABLE_HELP, message_style="warn" if snap.connected else "error")
    visit = at.visit
    if at.screen == TAKING:
        return replace(base, message=texts.TAKING, message_style="normal")
    if at.screen == NUMBER:
        if visit.print_state.startswith("fault:"):
            x, y, w, h = lay.bottom_button()
            half = (w - lay.gap) // 2
            again = Button("reprint", (x, y, half, h), *texts.PRINT_AGAIN, "service")
            done = Button("done", (x + w - half, y, half, h), *texts.DONE, "back")
            buttons: tuple[Button, ...] = (again, done)
        else:
            buttons = (Button("done", lay.bottom_button(), *texts.DONE, "back"),)
        return replace(base, number=visit.ticket, print_state=visit.print_state, buttons=buttons)
    if at.screen == MESSAGE:
        back = Button("back", lay.bottom_button(), *texts.BACK, "back")
        return replace(base, message=visit.message, message_style=visit.message_style, buttons=(back,))
    if at.screen == PRIORITY:
        categories = catalogue.get("priority", {}).get("categories", [])
        prompt, style = (visit.notice, "ok") if visit.notice else (texts.CHOOSE_PRIORITY, "normal")
        paged = _Paged(lay, len(categories), at.category_pages, visit.page)
        cells = lay.grid(len(paged.shown), lay.body(tall_prompt=visit.notice is not None))
        buttons = [_armed(visit, Button(f"category:{categories[i]['code']}", r, categories[i]["name"],
                                        categories[i]["name_en"], "priority"))
                   for i, r in zip(paged.shown, cells, strict=True)]
        back = Button("back", paged.bottom, *texts.BACK, "back")
        return replace(base, prompt=paged.label(prompt), prompt_style=style,
                       buttons=(*buttons, *paged.buttons, back))
    return _services_frame(lay, at, base, snap, catalogue)


def _armed(visit: Visit, button: Button) -> Button:
    return replace(button, style="armed") if visit.armed == button.id else button


def page_slices(count: int, pages: int) -> list[range]:
    """`count` buttons in `pages` pages of sizes as even as can be."""
    size = max(1, math.ceil(count / max(1, pages)))
    return [range(i, min(count, i + size)) for i in range(0, count, size)] or [range(0)]


class _Paged:
    """One page of a grid of choices: which are shown, the page buttons, what is left below."""

    def __init__(self, lay: Layout, count: int, pages: int, page: int) -> None:
        slices = page_slices(count, pages)
        self.page = min(page, len(slices) - 1)
        self.pages = len(slices)
        self.shown = slices[self.page]
        self.bottom = lay.bottom_button()
        self.buttons: list[Button] = []
        if self.pages > 1:
            x, y, w, h = self.bottom
            side = round(w * 0.24)
            self.buttons = [
                Button("page:prev", (x, y, side, h), *texts.PREVIOUS_PAGE,
                       "back" if self.page > 0 else "disabled"),
                Button("page:next", (x + w - side, y, side, h), *texts.NEXT_PAGE,
                       "back" if self.page < self.pages - 1 else "disabled"),
            ]
            self.bottom = (x + side + lay.gap, y, w - 2 * (side + lay.gap), h)

    def label(self, prompt: Bilingual) -> Bilingual:
        """The prompt, with which page this is when there are several."""
        if self.pages == 1:
            return prompt
        vi, en = (t.format(n=self.page + 1, of=self.pages) for t in texts.PAGE)
        return f"{prompt[0]} · {vi}", f"{prompt[1]} · {en}"


def _services_frame(lay: Layout, at: Moment, base: Frame, snap: HubSnapshot,
                    catalogue: dict[str, Any]) -> Frame:
    prompt, style = _home_prompt(at, snap, catalogue)
    closed = style == "error"
    services = catalogue.get("services", [])
    paged = _Paged(lay, len(services), at.pages, at.visit.page)
    cells = lay.grid(len(paged.shown), lay.body(tall_prompt=style != "normal"))
    buttons: list[Button] = []
    for i, rect in zip(paged.shown, cells, strict=True):
        service = services[i]
        state = snap.services.get(service["code"]) or {}
        full = state.get("remaining", 1) <= 0
        if closed or full:
            en = service["name_en"]
            if full and not closed:
                en = f"{texts.CAP_REACHED_BUTTON[0]} · {texts.CAP_REACHED_BUTTON[1]}"
            buttons.append(Button(f"service:{service['code']}", rect, service["name"], en, "disabled"))
        else:
            style_name = "priority" if at.screen == PRIORITY_SERVICES else "service"
            buttons.append(_armed(at.visit, Button(f"service:{service['code']}", rect, service["name"],
                                                   service["name_en"], style_name)))
    buttons += paged.buttons
    if at.screen == HOME:
        words = texts.READ_ALOUD_OFF if at.visit.read_aloud else texts.READ_ALOUD
        buttons.append(Button("access", lay.access_button(), *words, "access"))
    if at.screen == PRIORITY_SERVICES:
        buttons.append(Button("back", paged.bottom, *texts.BACK, "back"))
    else:
        has_priority = bool(catalogue.get("priority", {}).get("categories"))
        buttons.append(Button("priority", paged.bottom, *texts.PRIORITY_BUTTON,
                              "disabled" if closed or not has_priority else "priority"))
    return replace(base, prompt=paged.label(prompt), prompt_style=style, buttons=tuple(buttons))


def _home_prompt(at: Moment, snap: HubSnapshot, catalogue: dict[str, Any]) -> tuple[Bilingual, str]:
    if snap.updating:
        return texts.UPDATING, "error"
    if not snap.connected:
        return texts.UNREACHABLE, "error"
    if not snap.hub_online:
        return texts.HUB_PAUSED, "error"
    site = snap.site or {}
    if site.get("clock"):  # the dispatcher holds numbers until its clock is confirmed
        return texts.CLOCK_HELD, "error"
    if site.get("open") is False:
        return texts.DAY_CLOSED, "error"
    if site.get("taking") is False:
        hours_vi, hours_en = texts.hours_text(catalogue, at.now.isoweekday())
        return (f"{texts.OUTSIDE_HOURS[0]} {hours_vi}", f"{texts.OUTSIDE_HOURS[1]} {hours_en}"), "error"
    if at.screen == PRIORITY_SERVICES:
        category = next((c for c in catalogue.get("priority", {}).get("categories", [])
                         if c["code"] == at.visit.priority), {"name": "", "name_en": ""})
        return (texts.PRIORITY_FOR[0].format(vi=category["name"]),
                texts.PRIORITY_FOR[1].format(en=category["name_en"])), "normal"
    if at.printer.fault is not None:
        return texts.PRINTER_WARNING, "warn"
    if at.visit.notice is not None:
        return (f"{at.visit.notice[0]}. {texts.TOUCH_A_SERVICE[0]}",
                f"{at.visit.notice[1]}. {texts.TOUCH_A_SERVICE[1]}"), "ok"
    return texts.TOUCH_A_SERVICE, "normal"

