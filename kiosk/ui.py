"""The kiosk's touch screen: choose a service (or the priority path), see the number.

Each screen is described by a `Frame` built from the hub's retained state and
the kiosk's own state; the screen is redrawn only when the frame differs from
the one on the glass, so an idle kiosk draws nothing. Touches (FINGERDOWN/UP)
and mouse clicks go through the same code; a button acts on release inside
the button it was pressed on. Touches synthesised by SDL as mouse events are
ignored, so one finger is one press.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pygame

from kiosk import desk, read_aloud, texts
from kiosk.cccd import CardError, parse_card
from kiosk.desk import Reprint, TakeRequest
from kiosk.key_script import KeyScript
from kiosk.layout import Layout
from kiosk.memory import give_back_memory
from kiosk.painter import Painter
from kiosk.printer import PrinterStatus
from kiosk.reader import Reader
from kiosk.screens import (
    HOME,
    MESSAGE,
    NUMBER,
    PRIORITY,
    PRIORITY_SERVICES,
    TAKING,
    Frame,
    HubSnapshot,
    Moment,
    Visit,
    build_frame,
)
from luot.screen import WAKE_EVENT, wake
from luot.update_hooks import UpdateHooks

IDLE_SCREEN_S = 30.0
QUIET_S = 15.0  # untouched this long on the start screen: nobody is using the kiosk
CARD_KEPT_S = 90.0
FAULT_SHOWN_FACTOR = 3
TAKING_GIVE_UP_S = desk.ATTEMPT_TIMEOUT_S + desk.GIVE_UP_AFTER_S + 5
IDLE_POLL_S = 0.05
ACTIVE_POLL_S = 0.005
ACTIVE_FOR_S = 5.0
READ_ALOUD_SCALE = 1.4


class KioskUI:
    def __init__(self, surface: pygame.Surface, snapshot: Callable[[], HubSnapshot],
                 submit: Callable[[TakeRequest | Reprint], None], *, return_after_s: float = 8.0,
                 citizen_secret: str | None = None, reader: Reader | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 update: UpdateHooks | None = None) -> None:
        self.surface = surface
        self.update = update or UpdateHooks(None)
        # Normal text, and the read-aloud mode's large text (its own pages of fewer buttons).
        self._painters = {False: Painter(surface), True: Painter(surface, READ_ALOUD_SCALE)}
        self.reader = reader
        self.snapshot = snapshot
        self.submit = submit
        self.return_after_s = return_after_s
        self.citizen_secret = citizen_secret
        self.now = now
        self.wakeup = threading.Event()
        self.running = True
        self.screen = HOME
        self.visit = Visit()
        self.printer = PrinterStatus("unknown", None)
        self.frames_drawn = 0
        self.script = KeyScript()
        self._deadline: float | None = None
        self._pressed: str | None = None
        self._drawn: Frame | None = None
        self._active_until = 0.0
        self._touched_at = float("-inf")
        self._page_counts: dict[tuple[bool, tuple[tuple[str, str], ...]], int] = {}

    @property
    def painter(self) -> Painter:
        return self._painters[self.visit.read_aloud]

    @property
    def layout(self) -> Layout:
        return self.painter.layout

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
        self._touched_at = time.monotonic()
        self._active_until = self._touched_at + ACTIVE_FOR_S
        self._pressed = self._hit(pos)

    def _release(self, pos: tuple[float, float]) -> None:
        pressed, self._pressed = self._pressed, None
        self.script.injected = False
        if pressed is not None and self._hit(pos) == pressed:
            self.activate(pressed)

    def activate(self, button: str) -> None:
        kind, _, value = button.partition(":")
        if kind == "access" and self.screen == HOME:
            self.visit.read_aloud = not self.visit.read_aloud
            self.visit.page, self.visit.armed = 0, None
            self._go(HOME, IDLE_SCREEN_S)
            if self.visit.read_aloud:
                self._say(f"{read_aloud.INTRO} {read_aloud.page(self.frame())}")
            return
        if self.visit.read_aloud and kind in ("service", "category") and self.visit.armed != button:
            touched = next((b for b in self.frame().buttons if b.id == button), None)
            if touched is not None:
                self.visit.armed = button
                self._go(self.screen, IDLE_SCREEN_S)
                self._say(read_aloud.button(touched))
            return
        self.visit.armed = None
        self._act(kind, value)
        if self.visit.read_aloud and kind in ("page", "priority", "category", "back") \
                and self.screen in (HOME, PRIORITY, PRIORITY_SERVICES):
            self._say(read_aloud.page(self.frame()))

    def _say(self, text: str) -> None:
        if self.reader is not None:
            self.reader.say(text)

    def _act(self, kind: str, value: str) -> None:
        if kind == "service" and self.screen in (HOME, PRIORITY_SERVICES):
            citizen = self.visit.citizen
            self.submit(TakeRequest(value, self.visit.priority, citizen.id_hash if citizen else None))
            self._go(TAKING, TAKING_GIVE_UP_S)
        elif kind == "page" and self.screen in (HOME, PRIORITY, PRIORITY_SERVICES):
            self.visit.page = max(0, self.visit.page + (1 if value == "next" else -1))
            self._go(self.screen, IDLE_SCREEN_S)
        elif kind == "priority":
            self.visit.page = 0
            self._go(PRIORITY, IDLE_SCREEN_S)
        elif kind == "category":
            self.visit.page = 0
            self.visit.priority = value
            self._go(PRIORITY_SERVICES, IDLE_SCREEN_S)
        elif kind == "back" and self.screen == PRIORITY_SERVICES:
            self.visit.priority = None
            self.visit.page = 0
            self._go(PRIORITY, IDLE_SCREEN_S)
        elif kind == "back" and self.screen == PRIORITY and self.visit.read_aloud:
            self.visit.page = 0  # back home, still reading aloud
            self._go(HOME, IDLE_SCREEN_S)
        elif kind == "reprint" and self.screen == NUMBER and self.visit.ticket is not None:
            self.visit.print_state = "printing"
            self.submit(Reprint(self.visit.ticket.number))
        elif kind in ("back", "done"):
            self.go_home()

    def _go(self, screen: str, after_s: float | None) -> None:
        self.screen = screen
        self._deadline = time.monotonic() + after_s if after_s is not None else None

    def go_home(self) -> None:
        if self.screen != HOME:
            give_back_memory()
        citizen, at = self.visit.citizen, self.visit.citizen_at
        self.visit = Visit()
        if citizen is not None and self.screen in (HOME, PRIORITY, PRIORITY_SERVICES):
            self.visit.citizen, self.visit.citizen_at = citizen, at
        self._go(HOME, None)

    def _follow_update(self) -> None:
        """Up once the catalogue is here; held for an update only with nobody at the screen
        (the start screen, untouched for QUIET_S), so a restart never cuts a visit or a print."""
        snap = self.snapshot()
        if snap.connected and snap.catalogue:
            self.update.ready()
        wanted = self.update.hold_asked()
        untouched_s = time.monotonic() - self._touched_at
        quiet = self.screen == HOME and self._pressed is None and untouched_s >= QUIET_S
        self.update.hold(wanted and (self.update.held or quiet))

    def _tick(self) -> None:
        self._follow_update()
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
        reading = self.visit.read_aloud
        if kind == desk.ISSUED and self.screen == TAKING:
            self.visit.ticket = data
            self.visit.print_state = "printing"
            self.visit.citizen = None
            self._go(NUMBER, self.return_after_s * (FAULT_SHOWN_FACTOR + reading))
            if reading:
                self._say(read_aloud.ticket(data))
        elif kind == desk.REFUSED and self.screen == TAKING:
            self.visit.message = data
            self.visit.message_style = "error"
            self._go(MESSAGE, self.return_after_s * (1 + reading))
            if reading:
                self._say(data[0])
        elif kind == desk.PRINTED:
            self.printer = data
            if self.screen == NUMBER:
                self.visit.print_state = "printed"
                self._go(NUMBER, self.return_after_s * (1 + 2 * reading))
                if reading and self.reader is not None:
                    self.reader.say(read_aloud.printed(), cut=False)
        elif kind == desk.PRINT_FAULT:
            self.printer = PrinterStatus(self.printer.paper, data)
            if self.screen == NUMBER:
                self.visit.print_state = f"fault:{data}"
                self._go(NUMBER, self.return_after_s * FAULT_SHOWN_FACTOR)
                if reading and self.reader is not None:
                    self.reader.say(read_aloud.not_printed(data, self.visit.ticket), cut=False)
        elif kind == desk.PRINTER:
            self.printer = data
        elif kind == "scan":
            self._on_scan(str(data))
        elif kind == "keys":
            self.script.add(str(data))

    def _on_scan(self, code: str) -> None:
        if self.screen in (TAKING, NUMBER) or self.citizen_secret is None:
            return
        snap = self.snapshot()
        catalogue = snap.catalogue or {}
        try:
            citizen = parse_card(code, self.citizen_secret, self.now().date())
        except CardError as e:
            self.visit = Visit(message=(e.vi, e.en), message_style="warn")
            self._go(MESSAGE, self.return_after_s)
            return
        elderly_age = int(catalogue.get("priority", {}).get("elderly_age", 60))
        self.visit = Visit(citizen=citizen, citizen_at=time.monotonic())
        if citizen.is_elderly(elderly_age) and catalogue.get("priority", {}).get("categories"):
            vi, en = texts.CARD_ELDERLY
            self.visit.notice = (vi.format(age=elderly_age), en.format(age=elderly_age))
            self._go(PRIORITY, IDLE_SCREEN_S)
        else:
            self.visit.notice = texts.CARD_OK
            self._go(HOME, None)

    def _run_script(self) -> None:
        snap = self.snapshot()
        if not (snap.connected and snap.hub_online):
            return  # the script waits for the hub, as a citizen at a paused kiosk would
        on_screen = {b.id for b in self.frame().buttons if b.style != "disabled"}
        target = self.script.next_touch(self.screen, self.visit, snap.catalogue, on_screen)
        if target is None:
            return
        if self.touch(target):
            self.script.injected = True
        else:
            self.script.cannot(target)

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

    # ------------------------------------------------------------------ the frame and drawing

    def frame(self) -> Frame:
        snap = self.snapshot()
        if self.update.held:
            snap = replace(snap, updating=True)
        catalogue = snap.catalogue or {}
        categories = catalogue.get("priority", {}).get("categories", [])
        moment = Moment(self.screen, self.visit, self.printer, self._pressed, self.now(),
                        self._pages(catalogue.get("services", [])), self._pages(categories))
        return build_frame(self.layout, moment, snap)

    def _pages(self, choices: list[dict[str, Any]]) -> int:
        """How many pages these choices take at this screen size, measured once for each list."""
        names = tuple((str(c.get("name", "")), str(c.get("name_en", ""))) for c in choices)
        key = (self.visit.read_aloud, names)
        if key not in self._page_counts:
            area = self.layout.body(tall_prompt=True)
            self._page_counts[key] = self.painter.pages_needed(list(names), area)
        return self._page_counts[key]

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
        self.painter.render(frame)


def _left_click(event: pygame.event.Event) -> bool:
    """A real left click; SDL also reports each finger as a mouse click (`touch` set): skip those."""
    return event.button == 1 and not getattr(event, "touch", False)
