"""A simulated day: citizens and officers as real clients of the real dispatcher, in simulated time."""

from __future__ import annotations

import heapq
import random
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dispatcher.service import Dispatcher
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
        """The dispatcher's reply (the ticket and its estimated wait), or None when it refuses
        (the daily cap)."""
        try:
            return self._request(self.kiosk, "take", service=service, priority=priority)
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
    estimates: dict[int, int | None] = field(default_factory=dict)  # ticket id → minutes on its ticket
    # The baseline: people ahead × the catalogue's service time ÷ every counter the site lists.
    naive: dict[int, float | None] = field(default_factory=dict)

    def estimate_error(self, naive: bool = False) -> tuple[float | None, float | None, int, int]:
        """(mean absolute error, mean error) in minutes between the wait printed on each ticket
        (or the baseline's) and the wait it then had; the tickets compared; those with none."""
        given = self.naive if naive else self.estimates
        pairs = [(given[v.ticket], v.wait_s / 60) for v in self.visits
                 if v.wait_s is not None and given.get(v.ticket) is not None]
        without = sum(1 for e in given.values() if e is None)
        if not pairs:
            return None, None, 0, without
        mae = sum(abs(e - w) for e, w in pairs) / len(pairs)
        bias = sum(e - w for e, w in pairs) / len(pairs)
        return round(mae, 2), round(bias, 2), len(pairs), without


class SimulatedClock:
    """The dispatcher's clock in a simulation: the day's start plus the simulated minutes."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.minutes = 0.0

    def __call__(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


class DaySimulation:
    """Discrete events in simulated minutes; every decision about the queue is the dispatcher's."""

    def __init__(self, profile: LoadProfile, site: SiteConfig, desk: HubDesk,
                 ms_per_min: float = 5.0, sim_clock: SimulatedClock | None = None) -> None:
        self.profile = profile
        self.desk = desk
        self.clock = sim_clock or SimulatedClock(datetime.now().astimezone())
        self.estimates: dict[int, int | None] = {}
        self.naive: dict[int, float | None] = {}
        self.listed = {s.code: (s.avg_service_min, sum(s.code in c.services for c in site.counters))
                       for s in site.services}
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
        for number in self.counters:  # officers sit down and press NEXT at the opening
            self._schedule(0.0, "done", number)
        started = clock.monotonic()
        now = 0.0
        while self._events:
            now, _, kind, what = heapq.heappop(self._events)
            lag = started + now * self.ms_per_min / 1000 - clock.monotonic()
            if lag > 0:
                clock.sleep(lag)
            self.clock.minutes = now
            if kind == "arrive":
                self._arrive(now, what)
            else:
                self._press(now, what, "next" if kind == "done" else "noshow")
        spans = {("sim", n): (0.0, self.profile.hours * 3600.0) for n in self.counters}
        return DayResult(list(self.visits.values()), self.stints, self.refused, now,
                         self.desk.commands, clock.monotonic() - started, spans, self.estimates, self.naive)

    def _arrive(self, now: float, service: str) -> None:
        priority = None
        if self.profile.priority_rate and self.rng.random() < self.profile.priority_rate:
            priority = self.rng.choice(self.priority_codes)
        reply = self.desk.take(service, priority)
        if reply is None:
            self.refused[service] += 1
            return
        ticket = reply["ticket"]
        self.estimates[ticket["id"]] = reply.get("est_wait_min")
        service_min, listed = self.listed[service]
        self.naive[ticket["id"]] = reply["ahead"] * service_min / listed if listed else None
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
    """Start the broker and the dispatcher in `workdir`, play the day, stop everything.

    The dispatcher runs in this process on the simulated clock, from today's opening time, so
    what it measures (service times, counters heard from lately) and so the waits it estimates
    are in simulated time. A day is a day: a profile must end before midnight."""
    centre = LocalCentre(workdir, profile.site_file, counters=profile.counters, midday=True)
    centre.start_broker()
    desk = None
    today = centre.site.now()
    sim_clock = SimulatedClock(today.replace(hour=profile.opens.hour, minute=profile.opens.minute,
                                             second=0, microsecond=0))
    hub = Dispatcher(centre.site, centre.database, centre.broker.settings(centre.hub_id), clock=sim_clock)
    try:
        hub.start()
        deadline = clock.monotonic() + 15
        while not (hub.client.is_connected() and hub.batches > 0):
            if clock.monotonic() > deadline:
                raise RuntimeError("the dispatcher did not connect to the simulation's broker")
            clock.sleep(0.02)
        desk = HubDesk(centre, [c.number for c in centre.site.counters])
        result = DaySimulation(profile, centre.site, desk, ms_per_min, sim_clock).run()
    finally:
        if desk is not None:
            desk.close()
        hub.stop()
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
