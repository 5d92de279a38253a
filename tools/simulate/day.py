"""A simulated day: citizens and officers as real clients of the real dispatcher, in simulated time."""

from __future__ import annotations

import heapq
import random
import time as clock
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luot.config import SiteConfig
from luot.mqtt import CommandRefused, HubLink, HubTimeout
from testbed.centre import LocalCentre
from tools.report import Figures, Stint, Visit, compute_figures
from tools.simulate.profile import LoadProfile


class HubDesk:
    """The kiosk and the counters as real clients of the dispatcher."""

    def __init__(self, centre: LocalCentre, counters: list[int]) -> None:
        kiosks = centre.device_ids("kiosk")
        if not kiosks:
            raise ValueError("the site's inventory has no kiosk device")
        self.kiosk = centre.link(kiosks[0])
        self.counters: dict[int, HubLink] = {n: centre.link(centre.counter_device(n)) for n in counters}
        self.commands = 0

    def _request(self, link: HubLink, op: str, **fields: Any) -> dict[str, Any]:
        """A command, retried with the same id on a timeout: the dispatcher answers it once."""
        command_id = f"sim-{self.commands}-{random.getrandbits(32):08x}"
        self.commands += 1
        for _ in range(5):
            try:
                return link.request(op, timeout=5.0, command_id=command_id, **fields)
            except HubTimeout:
                continue
        raise RuntimeError(f"the dispatcher did not answer {op} five times")

    def take(self, service: str, priority: str | None) -> dict[str, Any] | None:
        """The ticket taken, or None when the dispatcher refuses (the daily cap)."""
        try:
            return self._request(self.kiosk, "take", service=service, priority=priority)["ticket"]
        except CommandRefused as e:
            if e.code == "cap_reached":
                return None
            raise

    def press(self, counter: int, op: str, expect: int | None) -> dict[str, Any] | None:
        """NEXT or NO-SHOW at a counter: the ticket the dispatcher called next, or None."""
        reply = self._request(self.counters[counter], op, counter=counter, expect=expect)
        return reply.get("ticket")

    def close(self) -> None:
        for link in [self.kiosk, *self.counters.values()]:
            link.stop()


@dataclass
class _CounterDesk:
    number: int
    services: tuple[str, ...]
    current: int | None = None
    idle_since: float = 0.0
    busy_since: float = 0.0


@dataclass
class DayResult:
    visits: list[Visit]
    stints: list[Stint]
    refused: dict[str, int]
    closed_at_min: float
    commands: int
    real_s: float
    spans: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)


class DaySimulation:
    """Discrete events in simulated minutes; every decision about the queue is the dispatcher's."""

    def __init__(self, profile: LoadProfile, site: SiteConfig, desk: HubDesk,
                 ms_per_min: float = 5.0) -> None:
        self.profile = profile
        self.desk = desk
        self.rng = random.Random(profile.seed)
        self.ms_per_min = ms_per_min
        self.counters = {c.number: _CounterDesk(c.number, c.services) for c in site.counters}
        self.times = {d.service: d.service_time for d in profile.demand}
        self.priority_codes = site.priority.codes()
        self.visits: dict[int, Visit] = {}
        self.stints: list[Stint] = []
        self.refused: dict[str, int] = {d.service: 0 for d in profile.demand}
        self._events: list[tuple[float, int, str, Any]] = []
        self._order = 0

    def _schedule(self, at: float, kind: str, what: Any) -> None:
        heapq.heappush(self._events, (at, self._order, kind, what))
        self._order += 1

    def _arrivals(self) -> None:
        for d in self.profile.demand:
            for hour, rate in enumerate(d.per_hour):
                if rate <= 0:
                    continue
                t = hour * 60 + self.rng.expovariate(rate / 60)
                while t < (hour + 1) * 60:
                    self._schedule(t, "arrive", d.service)
                    t += self.rng.expovariate(rate / 60)

    def run(self) -> DayResult:
        self._arrivals()
        started = clock.monotonic()
        now = 0.0
        while self._events:
            now, _, kind, what = heapq.heappop(self._events)
            lag = started + now * self.ms_per_min / 1000 - clock.monotonic()
            if lag > 0:
                clock.sleep(lag)
            if kind == "arrive":
                self._arrive(now, what)
            else:
                self._press(now, what, "next" if kind == "done" else "noshow")
        spans = {("sim", n): (0.0, self.profile.hours * 3600.0) for n in self.counters}
        return DayResult(list(self.visits.values()), self.stints, self.refused, now,
                         self.desk.commands, clock.monotonic() - started, spans)

    def _arrive(self, now: float, service: str) -> None:
        priority = None
        if self.profile.priority_rate and self.rng.random() < self.profile.priority_rate:
            priority = self.rng.choice(self.priority_codes)
        ticket = self.desk.take(service, priority)
        if ticket is None:
            self.refused[service] += 1
            return
        self.visits[ticket["id"]] = Visit(ticket["id"], ticket["number"], service, now * 60, day="sim")
        idle = [c for c in self.counters.values() if c.current is None and service in c.services]
        if idle:
            first = min(idle, key=lambda c: (c.idle_since, c.number))
            self._press(now, first.number, "next")

    def _press(self, now: float, number: int, op: str) -> None:
        desk = self.counters[number]
        ticket = self.desk.press(number, op, desk.current)
        if desk.current is not None:
            finished = self.visits[desk.current]
            finished.status = "served" if op == "next" else "noshow"
            finished.finished_at = now * 60
            self.stints.append(Stint(number, desk.current, desk.busy_since * 60, now * 60, "sim"))
        if ticket is None:
            desk.current = None
            desk.idle_since = now
            return
        visit = self.visits.get(ticket["id"])
        if visit is None:
            raise RuntimeError(f"the dispatcher called ticket {ticket['number']}, which this run never took")
        visit.called_at = visit.served_from = now * 60
        visit.counter = number
        visit.status = "serving"
        desk.current = visit.ticket
        desk.busy_since = now
        if self.rng.random() < self.profile.no_show_rate:
            self._schedule(now + self.profile.noshow_wait_min, "absent", number)
        else:
            self._schedule(now + self.times[visit.service].draw(self.rng), "done", number)


def simulate(profile: LoadProfile, workdir: Path, ms_per_min: float = 5.0) -> tuple[DayResult, SiteConfig]:
    """Start broker and dispatcher in `workdir`, play the day, stop everything."""
    centre = LocalCentre(workdir, profile.site_file, counters=profile.counters, midday=True)
    centre.start_broker()
    desk = None
    try:
        centre.start_dispatcher()
        desk = HubDesk(centre, [c.number for c in centre.site.counters])
        result = DaySimulation(profile, centre.site, desk, ms_per_min).run()
    finally:
        if desk is not None:
            desk.close()
        centre.stop()
    return result, centre.site


def day_figures(profile: LoadProfile, site: SiteConfig, result: DayResult) -> Figures:
    opens_s = profile.opens.hour * 3600 + profile.opens.minute * 60
    return compute_figures(
        result.visits,
        result.stints,
        services=[(s.code, s.name) for s in site.services if s.code in {d.service for d in profile.demand}],
        counters=[(c.number, c.name) for c in site.counters],
        hour_of=lambda stamp: int((opens_s + stamp) // 3600),
        refused=result.refused,
        spans=result.spans,
    )
