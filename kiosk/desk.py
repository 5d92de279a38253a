"""The kiosk's worker: take a number from the hub, then render and print the ticket.

It runs on its own thread so the screen never freezes while the hub or the
printer is slow. A `take` that gets no reply is sent again with the same
command id: the dispatcher answers a repeated id with its stored reply, so a
number is never issued twice, and a number the hub issued is never lost. If
the hub stays away, the unanswered id is kept and reused by the next touch on
the same choice, which then receives that very number if the hub issued it (its
reply was lost), or a number asked afresh if the hub refused the late attempt as
expired (nothing was issued under it).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kiosk import texts
from kiosk.printer import PrintFault, TicketPrinter
from kiosk.ticket import TicketInfo, render_ticket, ticket_info
from luot import protocol as p
from luot.mqtt import CommandRefused, HubLink, HubTimeout, HubUnreachable
from luot.protocol import ReprintOrder, parse_reprint_order
from luot.ticket_link import ticket_url

log = logging.getLogger(__name__)

ATTEMPT_TIMEOUT_S = 2.0
GIVE_UP_AFTER_S = 8.0
REUSE_UNANSWERED_FOR_S = 300.0
PRINTER_POLL_S = 60.0
UNPRINTED_KEPT = 20
# An officer's reprint order is carried out only if printing starts this soon after it came:
# the officer's page waits for the answer, and a ticket must not come out after it gave up.
ORDER_START_WITHIN_S = 5.0
ORDER_ANSWER_EXPIRY_S = 30

# What the desk tells the screen, as (kind, data).
ISSUED = "issued"          # data: TicketInfo
REFUSED = "refused"        # data: (vi, en)
PRINTED = "printed"        # data: PrinterStatus
PRINT_FAULT = "print_fault"  # data: fault code
PRINTER = "printer"        # data: PrinterStatus (it changed while idle)

Notify = Callable[[str, Any], None]


@dataclass(frozen=True)
class TakeRequest:
    service: str
    priority: str | None = None
    citizen: str | None = None


@dataclass(frozen=True)
class Reprint:
    """Print again a ticket of this kiosk that did not come out: the citizen's own button, or
    an officer's order from the web service (answered on device/<kiosk>/reprinted)."""

    number: str
    order: ReprintOrder | None = None
    received: float = 0.0  # time.monotonic() when the order came


class _Unanswered:
    __slots__ = ("command_id", "request", "since")

    def __init__(self, request: TakeRequest) -> None:
        self.request = request
        self.command_id = uuid.uuid4().hex
        self.since = time.monotonic()


class TicketDesk:
    """One take at a time: request with retries, ticket image, print, health."""

    def __init__(self, link: HubLink, printer: TicketPrinter, paper_px: int, notify: Notify,
                 *, versions: dict[str, str] | None = None,
                 attempt_timeout: float = ATTEMPT_TIMEOUT_S,
                 give_up_after: float = GIVE_UP_AFTER_S,
                 follow: tuple[str, bytes] | None = None) -> None:
        self.follow = follow  # (web service URL, ticket key): the ticket's QR opens its live page
        self.link = link
        self.printer = printer
        self.paper_px = paper_px
        self.notify = notify
        self.versions = versions or {}
        self.attempt_timeout = attempt_timeout
        self.give_up_after = give_up_after
        self.unprinted: list[str] = []
        self._unprinted_tickets: dict[str, TicketInfo] = {}
        self.extra_health: dict[str, Any] = {}
        self._unanswered: _Unanswered | None = None
        self._orders_seen: deque[str] = deque(maxlen=64)
        self._jobs: queue.Queue[TakeRequest | Reprint | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.link.watch(p.REPRINT + self.link.device_id, 1, self._on_order)
        self._thread = threading.Thread(target=self._work, name="kiosk-desk", daemon=True)
        self._thread.start()
        self.publish_health()

    def stop(self) -> None:
        """Finish the job in hand, then let go of the printer (unless a hung device still
        holds the worker: closing under it would race the ticket being written)."""
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout=GIVE_UP_AFTER_S + 2)
        if self._thread is None or not self._thread.is_alive():
            self.printer.close()

    def submit(self, request: TakeRequest | Reprint) -> None:
        self._jobs.put(request)

    def _on_order(self, _topic: str, payload: bytes) -> None:
        try:
            order = parse_reprint_order(payload)
        except ValueError as e:
            log.warning("dropping a reprint order: %s", e)
            return
        self.submit(Reprint(order.number, order, time.monotonic()))

    # ------------------------------------------------------------------ the work

    def _work(self) -> None:
        self._poll_printer()
        while True:
            try:
                request = self._jobs.get(timeout=PRINTER_POLL_S)
            except queue.Empty:
                self._poll_printer()
                continue
            if request is None:
                return
            try:
                if isinstance(request, Reprint) and request.order is not None:
                    self.carry_out(request.order, request.received)
                elif isinstance(request, Reprint):
                    self.reprint(request.number)
                else:
                    self.serve(request)
            except Exception:
                log.exception("taking a number for %s failed", request)
                self.notify(REFUSED, texts.OTHER_ERROR)

    def serve(self, request: TakeRequest) -> None:
        """Take the number, show it, print it: each step told to the screen as it happens."""
        try:
            reply = self.take(request)
        except CommandRefused as e:
            self.notify(REFUSED, texts.refusal(e.code, e.detail))
            return
        except (HubTimeout, HubUnreachable) as e:
            log.warning("no number for %s: %s", request.service, e)
            self.notify(REFUSED, texts.refusal("unreachable", str(e)))
            return
        info = ticket_info(self.link.state(p.CONFIG) or {}, reply)
        if self.follow is not None:
            base, key = self.follow
            info = replace(info, follow_url=ticket_url(base, key, self.link.topics.site, reply["ticket"]))
        self.notify(ISSUED, info)
        self.print_ticket(info)

    def take(self, request: TakeRequest) -> dict[str, Any]:
        """`take` with retries under one command id until a reply or `give_up_after`."""
        unanswered = self._unanswered
        if (unanswered is None or unanswered.request != request
                or time.monotonic() - unanswered.since > REUSE_UNANSWERED_FOR_S):
            unanswered = _Unanswered(request)
        deadline = time.monotonic() + self.give_up_after
        fields: dict[str, Any] = {"service": request.service}
        if request.priority:
            fields["priority"] = request.priority
        if request.citizen:
            fields["citizen"] = request.citizen
        while True:
            try:
                reply = self.link.request("take", timeout=self.attempt_timeout,
                                          command_id=unanswered.command_id, **fields)
            except CommandRefused as e:
                self._unanswered = None
                if e.code == p.EXPIRED and time.monotonic() < deadline:
                    # An earlier attempt under this id reached the hub after its sender had
                    # stopped waiting, so nothing was issued under it: ask afresh.
                    unanswered = _Unanswered(request)
                    continue
                raise
            except (HubTimeout, HubUnreachable) as e:
                self._unanswered = unanswered
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                log.info("take %s unanswered (%s); sending it again", unanswered.command_id, e)
                if not self.link.connected:
                    self.link.wait_connected(remaining)
                continue
            self._unanswered = None
            return reply

    def print_ticket(self, info: TicketInfo, *, on_screen: bool = True) -> str | None:
        """Print; a ticket that did not come out is kept (and named in health) to print again.

        Returns the fault's code, or None once the printer said the ticket came out. A ticket
        the screen is not showing (an officer's reprint) tells the screen only the printer's state.
        """
        image = render_ticket(info, self.paper_px)
        try:
            status = self.printer.print_ticket(image, info.number)
        except PrintFault as fault:
            if info.number not in self.unprinted:
                self.unprinted = [*self.unprinted, info.number][-UNPRINTED_KEPT:]
            self._unprinted_tickets = {n: self._unprinted_tickets.get(n, info) for n in self.unprinted}
            self.publish_health()
            if on_screen:
                self.notify(PRINT_FAULT, fault.code)
            else:
                self.notify(PRINTER, self.printer.status)
            return fault.code
        if info.number in self.unprinted:
            self.unprinted = [n for n in self.unprinted if n != info.number]
            self._unprinted_tickets.pop(info.number, None)
        self.publish_health()
        self.notify(PRINTED if on_screen else PRINTER, status)
        return None

    def reprint(self, number: str) -> None:
        """Print again a ticket that did not come out; a number this kiosk did not keep is refused."""
        info = self._unprinted_tickets.get(number)
        if info is None:
            self.notify(PRINT_FAULT, "not_kept")
            return
        self.print_ticket(info)

    def carry_out(self, order: ReprintOrder, received: float) -> None:
        """An officer's reprint: once per order id, only a kept ticket, only while the officer
        still waits; the answer says what happened."""
        if order.id in self._orders_seen:
            log.info("reprint order %s came again; it was carried out once", order.id)
            return
        self._orders_seen.append(order.id)
        info = self._unprinted_tickets.get(order.number)
        if info is None:
            error: str | None = "not_kept"
        elif time.monotonic() - received > ORDER_START_WITHIN_S:
            error = p.EXPIRED
        else:
            error = self.print_ticket(info, on_screen=False)
        log.info("reprint order %s for %s: %s", order.id, order.number, error or "printed")
        answer = {"id": order.id, "number": order.number, "ok": error is None, "error": error}
        try:
            self.link.send(f"{p.DEVICE}{self.link.device_id}/{p.REPRINTED}", answer,
                           expiry_s=ORDER_ANSWER_EXPIRY_S)
        except HubUnreachable as e:
            log.warning("the answer to reprint order %s was not sent: %s", order.id, e)

    def _poll_printer(self) -> None:
        before = self.printer.status
        after = self.printer.check()
        if after != before:
            self.publish_health()
            self.notify(PRINTER, after)

    def publish_health(self) -> None:
        self.link.publish_health(
            {"role": "kiosk", **self.printer.health(), "unprinted": self.unprinted,
             "versions": self.versions, "at": datetime.now().astimezone().isoformat(timespec="seconds"),
             **self.extra_health}
        )
