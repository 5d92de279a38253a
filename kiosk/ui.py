"""The kiosk's touch screen: choose a service (or the priority path), see the number.

Each screen is described by a `Frame` built from the hub's retained state and
the kiosk's own state; the screen is redrawn only when the frame differs from
the one on the glass, so an idle kiosk draws nothing. Touches (FINGERDOWN/UP)
and mouse clicks go through the same code; a button acts on release inside
the button it was pressed on. Touches synthesised by SDL as mouse events are
ignored, so one finger is one press.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pygame

from kiosk import desk, texts
from kiosk.cccd import CardError, Citizen, parse_card
from kiosk.desk import TakeRequest
from kiosk.layout import Layout, Rect
from kiosk.printer import FAULTS, PrinterStatus
from kiosk.texts import Bilingual
from kiosk.ticket import TicketInfo, wait_text
from luot import protocol as p
from luot.mqtt import HubLink
from luot.screen import WAKE_EVENT, Color, TextCache, wake
from luot.text import WEEKDAYS, nfc

HOME = "home"
PRIORITY = "priority"
PRIORITY_SERVICES = "priority_services"
TAKING = "taking"
NUMBER = "number"
MESSAGE = "message"

PAGE: Color = (245, 245, 240)
INK: Color = (33, 33, 33)
WHITE: Color = (255, 255, 255)
HEADER: Color = (13, 71, 161)
STYLES: dict[str, tuple[Color, Color]] = {  # background, text
    "service": ((21, 101, 192), WHITE),
    "priority": ((191, 54, 12), WHITE),
    "disabled": ((189, 189, 189), (80, 80, 80)),
    "back": ((84, 110, 122), WHITE),
    "pressed": ((255, 193, 7), INK),
    "normal": (PAGE, INK),
    "ok": ((200, 230, 201), (27, 94, 32)),
    "warn": ((255, 236, 179), (93, 64, 0)),
    "error": ((255, 205, 210), (150, 20, 20)),
}
IDLE_SCREEN_S = 30.0
TEXT_CACHE_ITEMS = 64
CARD_KEPT_S = 90.0
FAULT_SHOWN_FACTOR = 3
TAKING_GIVE_UP_S = desk.ATTEMPT_TIMEOUT_S + desk.GIVE_UP_AFTER_S + 5
IDLE_POLL_S = 0.05
ACTIVE_POLL_S = 0.005
ACTIVE_FOR_S = 5.0


@dataclass(frozen=True)
class HubSnapshot:
    """What the screen needs from the hub's retained state."""

    connected: bool
    catalogue: dict[str, Any] | None
    site: dict[str, Any] | None
    services: dict[str, dict[str, Any]]


def link_snapshot(link: HubLink) -> HubSnapshot:
    return HubSnapshot(
        connected=link.connected,
        catalogue=link.state(p.CONFIG),
        site=link.state(p.SITE_STATE),
        services={k.rsplit("/", 1)[-1]: v for k, v in link.states(p.SERVICE_STATES).items()},
    )


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
class _Visit:
    """One citizen's path through the screens, forgotten when the kiosk returns home."""

    priority: str | None = None
    ticket: TicketInfo | None = None
    print_state: str = ""
    message: Bilingual | None = None
    message_style: str = "error"
    notice: Bilingual | None = None
    citizen: Citizen | None = None
    citizen_at: float = 0.0


class KioskUI:
    def __init__(self, surface: pygame.Surface, snapshot: Callable[[], HubSnapshot],
                 submit: Callable[[TakeRequest], None], *, return_after_s: float = 8.0,
                 citizen_secret: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone()) -> None:
        self.surface = surface
        self.layout = Layout(*surface.get_size())
        # Sized to what the screens show (a few dozen lines each), not to a day's worth of
        # clock minutes and numbers: each surface of a large screen is tens to hundreds of KB.
        self.text = TextCache(max_items=TEXT_CACHE_ITEMS)
        self.snapshot = snapshot
        self.submit = submit
        self.return_after_s = return_after_s
        self.citizen_secret = citizen_secret
        self.now = now
        self.wakeup = threading.Event()
        self.running = True
        self.screen = HOME
        self.visit = _Visit()
        self.printer = PrinterStatus("unknown", None)
        self.frames_drawn = 0
        self._deadline: float | None = None
        self._pressed: str | None = None
        self._drawn: Frame | None = None
        self._script: list[str] = []
        self._injected = False
        self._active_until = 0.0
        self._box_cache: dict[tuple[Any, ...], tuple[list[tuple[str, int, bool, Color, int]], float]] = {}

    # ------------------------------------------------------------------ the loop

    def notify(self, kind: str, data: Any = None) -> None:
        """From any thread: hand the UI an event and wake it at once."""
        wake(kind=kind, data=data)
        self.wakeup.set()

    def pump(self, timeout: float) -> None:
        """Wait up to `timeout` for something to happen, handle it, redraw if anything changed.

        SDL's own wait (pygame.event.wait) polls every millisecond on the dummy and KMSDRM
        drivers, over 1 % CPU; this loop polls the input at 20 Hz when idle and 200 Hz
        for a while after a touch, and the MQTT side wakes it at once through `wakeup`.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            events = pygame.event.get()
            if events:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.running:
                break
            active = time.monotonic() < self._active_until
            if self.wakeup.wait(min(remaining, ACTIVE_POLL_S if active else IDLE_POLL_S)):
                self.wakeup.clear()
        for event in events:
            self.handle(event)
        self._tick()
        self._run_script()
        self.draw()

    def next_timeout(self) -> float:
        """Until the next thing that changes by itself: a screen timing out, the clock's minute."""
        now = self.now()
        to_minute = 60 - now.second - now.microsecond / 1e6
        if self._deadline is not None:
            return max(0.0, min(to_minute, self._deadline - time.monotonic()))
        return to_minute

    # ------------------------------------------------------------------ input

    def handle(self, event: pygame.event.Event) -> None:
        w, h = self.surface.get_size()
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.FINGERDOWN:
            self._press((event.x * w, event.y * h))
        elif event.type == pygame.FINGERUP:
            self._release((event.x * w, event.y * h))
        elif event.type == pygame.MOUSEBUTTONDOWN and _left_click(event):
            self._press(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and _left_click(event):
            self._release(event.pos)
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.running = False
        elif event.type == WAKE_EVENT:
            self._on_wake(getattr(event, "kind", ""), getattr(event, "data", None))

    def _hit(self, pos: tuple[float, float]) -> str | None:
        for button in self.frame().buttons:
            x, y, bw, bh = button.rect
            if button.style != "disabled" and x <= pos[0] < x + bw and y <= pos[1] < y + bh:
                return button.id
        return None

    def _press(self, pos: tuple[float, float]) -> None:
        self._active_until = time.monotonic() + ACTIVE_FOR_S
        self._pressed = self._hit(pos)

    def _release(self, pos: tuple[float, float]) -> None:
        pressed, self._pressed = self._pressed, None
        self._injected = False
        if pressed is not None and self._hit(pos) == pressed:
            self.activate(pressed)

    def activate(self, button: str) -> None:
        kind, _, value = button.partition(":")
        if kind == "service" and self.screen in (HOME, PRIORITY_SERVICES):
            citizen = self.visit.citizen
            self.submit(TakeRequest(value, self.visit.priority, citizen.id_hash if citizen else None))
            self._go(TAKING, TAKING_GIVE_UP_S)
        elif kind == "priority":
            self._go(PRIORITY, IDLE_SCREEN_S)
        elif kind == "category":
            self.visit.priority = value
            self._go(PRIORITY_SERVICES, IDLE_SCREEN_S)
        elif kind == "back" and self.screen == PRIORITY_SERVICES:
            self.visit.priority = None
            self._go(PRIORITY, IDLE_SCREEN_S)
        elif kind in ("back", "done"):
            self.go_home()

    def _go(self, screen: str, after_s: float | None) -> None:
        self.screen = screen
        self._deadline = time.monotonic() + after_s if after_s is not None else None

    def go_home(self) -> None:
        if self.screen != HOME:
            give_back_memory()
        citizen, at = self.visit.citizen, self.visit.citizen_at
        self.visit = _Visit()
        if citizen is not None and self.screen in (PRIORITY, PRIORITY_SERVICES):
            self.visit.citizen, self.visit.citizen_at = citizen, at
        self._go(HOME, None)

    def _tick(self) -> None:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            if self.screen == TAKING:  # the desk is stuck (a hung printer): never leave the citizen waiting
                self.visit.message = texts.OTHER_ERROR
                self._go(MESSAGE, self.return_after_s)
            else:
                self.go_home()
        if self.visit.citizen is not None and time.monotonic() - self.visit.citizen_at > CARD_KEPT_S:
            self.visit.citizen = None
            self.visit.notice = None

    # ------------------------------------------------------------------ what the hub and desk say

    def _on_wake(self, kind: str, data: Any) -> None:
        if kind == desk.ISSUED and self.screen == TAKING:
            self.visit.ticket = data
            self.visit.print_state = "printing"
            self.visit.citizen = None
            self._go(NUMBER, self.return_after_s * FAULT_SHOWN_FACTOR)
        elif kind == desk.REFUSED and self.screen == TAKING:
            self.visit.message = data
            self.visit.message_style = "error"
            self._go(MESSAGE, self.return_after_s)
        elif kind == desk.PRINTED:
            self.printer = data
            if self.screen == NUMBER:
                self.visit.print_state = "printed"
                self._go(NUMBER, self.return_after_s)
        elif kind == desk.PRINT_FAULT:
            self.printer = PrinterStatus(self.printer.paper, data)
            if self.screen == NUMBER:
                self.visit.print_state = f"fault:{data}"
                self._go(NUMBER, self.return_after_s * FAULT_SHOWN_FACTOR)
        elif kind == desk.PRINTER:
            self.printer = data
        elif kind == "scan":
            self._on_scan(str(data))
        elif kind == "keys":
            self._on_keys(str(data))

    def _on_scan(self, code: str) -> None:
        if self.screen in (TAKING, NUMBER) or self.citizen_secret is None:
            return
        snap = self.snapshot()
        catalogue = snap.catalogue or {}
        try:
            citizen = parse_card(code, self.citizen_secret, self.now().date())
        except CardError as e:
            self.visit = _Visit(message=(e.vi, e.en), message_style="warn")
            self._go(MESSAGE, self.return_after_s)
            return
        elderly_age = int(catalogue.get("priority", {}).get("elderly_age", 60))
        self.visit = _Visit(citizen=citizen, citizen_at=time.monotonic())
        if citizen.is_elderly(elderly_age) and catalogue.get("priority", {}).get("categories"):
            vi, en = texts.CARD_ELDERLY
            self.visit.notice = (vi.format(age=elderly_age), en.format(age=elderly_age))
            self._go(PRIORITY, IDLE_SCREEN_S)
        else:
            self.visit.notice = texts.CARD_OK
            self._go(HOME, None)

    # ------------------------------------------------------------------ `--keys`: scripted touches

    def _on_keys(self, line: str) -> None:
        """`CT` or `CT nguoi-cao-tuoi`: touch that service (through that priority group).

        Lines wait until the catalogue has come, so a demo may type before the hub is up."""
        if line.split():
            self._script.append(line)

    def _parse_key_line(self, line: str, catalogue: dict[str, Any]) -> tuple[str, str | None] | None:
        words = line.split()
        services = [s["code"] for s in catalogue.get("services", [])]
        categories = [c["code"] for c in catalogue.get("priority", {}).get("categories", [])]
        if words[0] not in services or len(words) > 2 or (len(words) == 2 and words[1] not in categories):
            print(f"kiosk --keys: cannot do {line!r}: services are {', '.join(services)}; "
                  f"priority groups are {', '.join(categories)}", flush=True)
            return None
        return words[0], words[1] if len(words) == 2 else None

    def _script_touch(self, service: str, priority: str | None) -> str | None:
        """The button to touch next on the way to this ticket; None to wait."""
        if self.screen == NUMBER:
            return None if self.visit.print_state == "printing" else "done"
        if self.screen == MESSAGE:
            return "back"
        if self.screen == HOME:
            return "priority" if priority else f"service:{service}"
        if self.screen == PRIORITY:
            return f"category:{priority}" if priority else "back"
        if self.screen == PRIORITY_SERVICES:
            return f"service:{service}" if self.visit.priority == priority else "back"
        return None

    def _run_script(self) -> None:
        catalogue = self.snapshot().catalogue
        if not self._script or self._injected or catalogue is None:
            return
        step = self._parse_key_line(self._script[0], catalogue)
        if step is None:
            self._script.pop(0)
            return
        service, priority = step
        target = self._script_touch(service, priority)
        if target is None:
            return
        if target == f"service:{service}":
            self._script.pop(0)
        if self.touch(target):
            self._injected = True
        else:
            print(f"kiosk --keys: {target} cannot be touched now", flush=True)
            self._script.clear()

    def touch(self, button_id: str) -> bool:
        """Post a real finger press and release at the centre of a button (as a finger would)."""
        centre = self.button_centre(button_id)
        if centre is None:
            return False
        w, h = self.surface.get_size()
        x, y = centre[0] / w, centre[1] / h
        for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
            pygame.event.post(pygame.event.Event(
                kind, touch_id=0, finger_id=0, x=x, y=y, dx=0.0, dy=0.0, pressure=1.0))
        self.wakeup.set()
        return True

    def button_centre(self, button_id: str) -> tuple[int, int] | None:
        for button in self.frame().buttons:
            if button.id == button_id and button.style != "disabled":
                x, y, w, h = button.rect
                return x + w // 2, y + h // 2
        return None

    # ------------------------------------------------------------------ building the frame

    def frame(self) -> Frame:
        snap = self.snapshot()
        catalogue = snap.catalogue
        title = (catalogue.get("name", ""), catalogue.get("name_en", "")) if catalogue else (
            "Hệ thống xếp hàng", "Queue system")
        now = self.now()
        if catalogue and catalogue.get("timezone"):
            now = now.astimezone(_zone(catalogue["timezone"]))
        footer = f"{WEEKDAYS[now.weekday()]}, {now:%d/%m/%Y}   {now:%H:%M}"
        base = Frame(screen=self.screen, title=title, footer=footer, pressed=self._pressed)
        if catalogue is None:
            message = texts.CONNECTING if snap.connected else texts.UNREACHABLE
            return replace(base, screen="unreachable", message=message,
                           prompt=texts.UNREACHABLE_HELP, message_style="warn" if snap.connected else "error")
        lay = self.layout
        if self.screen == TAKING:
            return replace(base, message=texts.TAKING, message_style="normal")
        if self.screen == NUMBER:
            done = Button("done", lay.bottom_button(), *texts.DONE, "back")
            return replace(base, number=self.visit.ticket, print_state=self.visit.print_state,
                           buttons=(done,))
        if self.screen == MESSAGE:
            back = Button("back", lay.bottom_button(), *texts.BACK, "back")
            return replace(base, message=self.visit.message, message_style=self.visit.message_style,
                           buttons=(back,))
        if self.screen == PRIORITY:
            categories = catalogue.get("priority", {}).get("categories", [])
            cells = lay.grid(len(categories), lay.body(tall_prompt=self.visit.notice is not None))
            buttons = tuple(Button(f"category:{c['code']}", r, c["name"], c["name_en"], "priority")
                            for c, r in zip(categories, cells, strict=True))
            prompt, style = (
                (self.visit.notice, "ok") if self.visit.notice else (texts.CHOOSE_PRIORITY, "normal"))
            back = Button("back", lay.bottom_button(), *texts.BACK, "back")
            return replace(base, prompt=prompt, prompt_style=style, buttons=(*buttons, back))
        return self._services_frame(base, snap, catalogue)

    def _services_frame(self, base: Frame, snap: HubSnapshot, catalogue: dict[str, Any]) -> Frame:
        lay = self.layout
        prompt, style = self._home_prompt(snap, catalogue)
        closed = style == "error"
        services = catalogue.get("services", [])
        cells = lay.grid(len(services), lay.body(tall_prompt=style != "normal"))
        buttons: list[Button] = []
        for service, rect in zip(services, cells, strict=True):
            state = snap.services.get(service["code"]) or {}
            full = state.get("remaining", 1) <= 0
            if closed or full:
                en = service["name_en"]
                if full and not closed:
                    en = f"{texts.CAP_REACHED_BUTTON[0]} · {texts.CAP_REACHED_BUTTON[1]}"
                buttons.append(Button(f"service:{service['code']}", rect, service["name"], en, "disabled"))
            else:
                style_name = "priority" if self.screen == PRIORITY_SERVICES else "service"
                buttons.append(Button(f"service:{service['code']}", rect, service["name"],
                                      service["name_en"], style_name))
        if self.screen == PRIORITY_SERVICES:
            bottom = Button("back", lay.bottom_button(), *texts.BACK, "back")
        else:
            has_priority = bool(catalogue.get("priority", {}).get("categories"))
            bottom = Button("priority", lay.bottom_button(), *texts.PRIORITY_BUTTON,
                            "disabled" if closed or not has_priority else "priority")
        return replace(base, prompt=prompt, prompt_style=style, buttons=(*buttons, bottom))

    def _home_prompt(self, snap: HubSnapshot, catalogue: dict[str, Any]) -> tuple[Bilingual, str]:
        if not snap.connected:
            return texts.UNREACHABLE, "error"
        site = snap.site or {}
        if site.get("open") is False:
            return texts.DAY_CLOSED, "error"
        if site.get("taking") is False:
            hours_vi, hours_en = texts.hours_text(catalogue)
            return (f"{texts.OUTSIDE_HOURS[0]} {hours_vi}", f"{texts.OUTSIDE_HOURS[1]} {hours_en}"), "error"
        if self.screen == PRIORITY_SERVICES:
            category = next((c for c in catalogue.get("priority", {}).get("categories", [])
                             if c["code"] == self.visit.priority), {"name": "", "name_en": ""})
            return (texts.PRIORITY_FOR[0].format(vi=category["name"]),
                    texts.PRIORITY_FOR[1].format(en=category["name_en"])), "normal"
        if self.printer.fault is not None:
            return texts.PRINTER_WARNING, "warn"
        if self.visit.notice is not None:
            return (f"{self.visit.notice[0]}. {texts.TOUCH_A_SERVICE[0]}",
                    f"{self.visit.notice[1]}. {texts.TOUCH_A_SERVICE[1]}"), "ok"
        return texts.TOUCH_A_SERVICE, "normal"

    # ------------------------------------------------------------------ drawing

    def draw(self, force: bool = False) -> bool:
        """Draw the frame if it changed; True if something was drawn."""
        frame = self.frame()
        if frame == self._drawn and not force:
            return False
        self.render(frame)
        pygame.display.flip()
        self._drawn = frame
        self.frames_drawn += 1
        return True

    def render(self, frame: Frame) -> None:
        lay = self.layout
        s = self.surface
        s.fill(PAGE)
        u = lay.u
        hx, hy, hw, hh = lay.header()
        pygame.draw.rect(s, HEADER, lay.header())
        self._box((hx + lay.margin, hy, hw - 2 * lay.margin, hh),
                  [(frame.title[0], u * 1.25, True, WHITE),
                   (frame.title[1], u * 0.7, False, (200, 220, 255))])
        self._box(lay.footer(), [(frame.footer, u * 0.7, False, (90, 90, 90))], volatile=True)
        if frame.prompt is not None:
            tall = frame.prompt_style != "normal"
            self._panel(lay.prompt(tall), frame.prompt, frame.prompt_style, u * (1.2 if tall else 1.0))
        bottom = lay.bottom_button()
        grid = [b for b in frame.buttons if b.rect != bottom]
        scale = min((self._fitted(*self._button_text(b))[1] for b in grid), default=1.0)
        for button in frame.buttons:
            self._button(button, button.id == frame.pressed, scale if button in grid else 1.0)
        if frame.screen == "unreachable" and frame.message:
            body = lay.body(with_bottom_button=False)
            self._panel(body, frame.message, frame.message_style, u * 1.6)
        elif frame.number is not None:
            self._number(frame)
        elif frame.message is not None:
            with_button = bool(frame.buttons)
            self._panel(lay.body(with_bottom_button=with_button), frame.message, frame.message_style, u * 1.6)

    def _number(self, frame: Frame) -> None:
        """The number, as large as the screen allows, with its details and the printing state.

        On a wide screen the number takes the left half and the details the right; on a
        narrow or portrait one they are stacked."""
        lay = self.layout
        u = lay.u
        info = frame.number
        assert info is not None
        x, top, w, _ = lay.prompt()
        bottom = lay.bottom_button()[1] - lay.gap
        status_h = round(u * 3.2)
        content_h = bottom - status_h - lay.gap - top
        wide = lay.width > lay.height * 1.3
        if wide:
            half = (w - lay.gap) // 2
            number_area: Rect = (x, top, half, content_h)
            details_area: Rect = (x + half + lay.gap, top, half, content_h)
        else:
            number_h = round(content_h * 0.5)
            number_area = (x, top, w, number_h)
            details_area = (x, top + number_h, w, content_h - number_h)
        nx, ny, nw, nh = number_area
        label_h = round(u * 2.2)
        self._box((nx, ny, nw, label_h),
                  [(texts.YOUR_NUMBER[0], u * 1.2, True, INK), (texts.YOUR_NUMBER[1], u * 0.75, False, INK)])
        # Sized for the widest number of this shape ("A001" → "M888"), so every number of a
        # service is drawn at one size and only a font or two of this height is ever loaded.
        # Measured once at 100 px and scaled: each font size loaded keeps glyph bitmaps of its
        # own, which at these sizes are hundreds of KB a digit.
        shape = re.sub(r"[A-Z]", "M", re.sub(r"\d", "8", info.number))
        width_at_100 = self.text.font(100, True).size(shape)[0]
        size = min(round((nh - label_h) * 1.25), int(100 * nw * 0.97 / width_at_100))
        digits = self.text.font(size, True).render(info.number, True, (183, 28, 28))  # not kept: MBs
        self.surface.blit(digits, (nx + (nw - digits.get_width()) // 2,
                                   ny + label_h + (nh - label_h - digits.get_height()) // 2))
        wait_vi, wait_en = wait_text(info.est_wait_min)
        lines = [(info.service, u * 1.5, True, INK), (info.service_en, u * 0.8, False, INK)]
        if info.priority:
            lines.append((f"Ưu tiên: {info.priority}", u * 1.0, True, STYLES["priority"][0]))
        lines += [
            (texts.AHEAD[0].format(n=info.ahead), u * 1.2, True, INK),
            (texts.AHEAD[1].format(n=info.ahead), u * 0.8, False, INK),
            (wait_vi, u * 1.0, False, INK),
            (wait_en, u * 0.75, False, INK),
        ]
        self._box(details_area, lines, volatile=True)
        if frame.print_state == "printed":
            status, style = texts.PRINTED, "ok"
        elif frame.print_state.startswith("fault:"):
            vi, en = FAULTS.get(frame.print_state[6:], texts.PRINTER_FAULT)
            status, style = (f"{vi}. {texts.NOT_PRINTED[0]}", f"{en}. {texts.NOT_PRINTED[1]}"), "error"
        else:
            status, style = texts.PRINTING, "warn"
        self._panel((x, bottom - status_h, w, status_h), status, style, u * 1.1)

    def _panel(self, rect: Rect, text: Bilingual, style: str, size: float) -> None:
        background, ink = STYLES[style]
        if style != "normal":
            pygame.draw.rect(self.surface, background, rect, border_radius=round(self.layout.u * 0.4))
        pad = round(self.layout.u * 0.4)
        x, y, w, h = rect
        self._box((x + pad, y + pad // 2, w - 2 * pad, h - pad),
                  [(text[0], size, True, ink), (text[1], size * 0.65, False, ink)])

    def _button_text(self, button: Button) -> tuple[Rect, list[tuple[str, float, bool, Color]]]:
        ink = STYLES[button.style][1]
        u = self.layout.u
        x, y, w, h = button.rect
        pad = round(u * 0.4)
        return (x + pad, y + pad // 2, w - 2 * pad, h - pad), [
            (button.vi, min(u * 1.4, h * 0.4), True, ink),
            (button.en, min(u * 0.8, h * 0.22), False, ink),
        ]

    def _button(self, button: Button, pressed: bool, scale: float) -> None:
        """A button; buttons of one grid share `scale` so their names are the same size."""
        background = STYLES["pressed" if pressed else button.style][0]
        pygame.draw.rect(self.surface, background, button.rect, border_radius=round(self.layout.u * 0.5))
        rect, blocks = self._button_text(button)
        if pressed:
            blocks = [(text, size, bold, STYLES["pressed"][1]) for text, size, bold, _ in blocks]
        self._box(rect, blocks, scale)

    def _box(self, rect: Rect, blocks: list[tuple[str, float, bool, Color]], scale: float = 1.0,
             *, volatile: bool = False) -> None:
        """Blocks of text centred in `rect`, wrapped, and shrunk together until all of it fits.

        Volatile text (a ticket's details, the clock) is drawn without keeping its surfaces,
        so the cache holds only what the screens show again and again."""
        x, y, w, _ = rect
        lines, _ = self._fitted(rect, blocks, scale, keep=not volatile)
        for text, size, bold, color, dy in lines:
            if volatile:
                surface = self.text.font(size, bold).render(nfc(text), True, color)
            else:
                surface = self.text.render(text, size, color, bold)
            self.surface.blit(surface, (x + (w - surface.get_width()) // 2, y + dy))

    def _fitted(self, rect: Rect, blocks: list[tuple[str, float, bool, Color]], scale: float = 1.0,
                keep: bool = True) -> tuple[list[tuple[str, int, bool, Color, int]], float]:
        """The wrapped lines (text, size, bold, colour, y) and the scale at which they fit."""
        key = (tuple(blocks), rect[2], rect[3], scale)
        found = self._box_cache.get(key)
        if found is None:
            found = self._fit_blocks(blocks, rect[2], rect[3], scale)
            if keep:
                if len(self._box_cache) > TEXT_CACHE_ITEMS:
                    self._box_cache.clear()
                self._box_cache[key] = found
        return found

    def _fit_blocks(self, blocks: list[tuple[str, float, bool, Color]], w: int, h: int,
                    scale: float) -> tuple[list[tuple[str, int, bool, Color, int]], float]:
        while True:
            placed: list[tuple[str, int, bool, Color, int]] = []
            total = 0
            for text, size, bold, color in blocks:
                if not text:
                    continue
                px = max(8, round(size * scale))
                line_h = self.text.font(px, bold).get_linesize()
                for line in self.text.wrap(text, px, w, bold):
                    placed.append((line, px, bold, color, total))
                    total += line_h
            if total <= h or scale < 0.2:
                offset = max(0, (h - total) // 2)
                return [(t, s, b, c, dy + offset) for t, s, b, c, dy in placed], scale
            scale *= 0.9

def give_back_memory() -> None:
    """Return freed heap to the system (glibc's malloc_trim), a no-op elsewhere.

    Drawing a number screen and a ticket allocates and frees a few MB of large
    surfaces and images; glibc keeps the freed pages, so over a day the resident
    size would creep up by tens of MB on a Pi Zero's 512 MB."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


@lru_cache(maxsize=4)
def _zone(name: str) -> tzinfo | None:
    """The centre's time zone for the clock on screen; the kiosk's own if the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _left_click(event: pygame.event.Event) -> bool:
    """A real left click; SDL also reports each finger as a mouse click (`touch` set): skip those."""
    return event.button == 1 and not getattr(event, "touch", False)
