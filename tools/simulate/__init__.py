"""`luot simulate`: a day of a ward centre at accelerated time, through the real parts.

A private Mosquitto, the real dispatcher as its own process, one kiosk and
one link per counter (each with its device's own credentials) send real
`take`, `next` and `noshow` commands. Citizens arrive as a Poisson stream
whose rate changes hour by hour (the load profile); officers press NEXT when
a citizen is done, wait a little for one who does not come and press NO-SHOW.

The dispatcher keeps the real clock, so simulated time lives here: events run
in simulated order, paced at `--ms-per-min` real milliseconds per simulated
minute, and waits are computed from the simulated time at which each ticket
was taken and called. Which ticket a counter gets is always the dispatcher's
choice. The planner's question (how many counters keep the p90 wait under a
target) is answered per service with Erlang C at each hour's arrival rate and
the simulated service times.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import math
import random
import sys
import tempfile
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

from luot import EXAMPLES
from luot.config import ConfigError, Section, SiteConfig, load_site, open_toml
from luot.mqtt import CommandRefused, HubLink, HubTimeout
from testbed.centre import LocalCentre
from tools.report import (
    Figures,
    PlanRow,
    Stint,
    Visit,
    compute_figures,
    render_summary,
    write_csv,
)

EXAMPLE_PROFILE = EXAMPLES / "load-profile.toml"
DISTRIBUTIONS = ("exponential", "lognormal", "fixed")
P90 = 0.10  # the share of citizens allowed to wait longer than the target


# --------------------------------------------------------------------------- the load profile


@dataclass(frozen=True)
class ServiceTime:
    distribution: str
    mean_min: float
    cv: float = 0.5

    def draw(self, rng: random.Random) -> float:
        """One service time in minutes."""
        if self.distribution == "fixed":
            return self.mean_min
        if self.distribution == "exponential":
            return rng.expovariate(1 / self.mean_min)
        sigma2 = math.log(1 + self.cv**2)
        return rng.lognormvariate(math.log(self.mean_min) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(frozen=True)
class Demand:
    service: str
    per_hour: tuple[float, ...]  # arrivals in each hour from the opening
    service_time: ServiceTime


@dataclass(frozen=True)
class LoadProfile:
    file: str
    site_file: Path
    opens: time
    demand: tuple[Demand, ...]
    counters: list[dict[str, Any]] | None  # a what-if layout replacing the site's
    no_show_rate: float
    noshow_wait_min: float
    priority_rate: float
    p90_target_min: float
    seed: int

    @property
    def hours(self) -> int:
        return max(len(d.per_hour) for d in self.demand)


def _clock_value(section: Section, name: str, default: str) -> time:
    text = section.str(name, default)
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise section.error(name, f'expected a time as "HH:MM"; got {text!r}') from None


def _rate(file: str) -> Callable[[Any, str], float]:
    def read(value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(file, key, f"expected a number of arrivals per hour ≥ 0; got {value!r}")
        return float(value)

    return read


def load_profile(path: Path) -> tuple[LoadProfile, SiteConfig]:
    """The profile and its site, checked against each other; ConfigError names the key."""
    with open_toml(path) as top:
        return _read_profile(top, path)


def _read_profile(top: Section, path: Path) -> tuple[LoadProfile, SiteConfig]:
    p = top.section("profile", required=True)
    site_file = (path.parent / p.str("site_file")).resolve()
    site = load_site(site_file)
    codes = {s.code for s in site.services}
    opens = _clock_value(p, "opens", "07:30")
    no_show = p.float("no_show_rate", 0.0, min=0.0)
    if no_show >= 1:
        p.problem("no_show_rate", f"expected a share below 1; got {no_show}")
    priority = p.float("priority_rate", 0.0, min=0.0)
    if priority >= 1:
        p.problem("priority_rate", f"expected a share below 1; got {priority}")
    if priority and not site.priority.categories:
        p.problem("priority_rate", f"{site_file} has no [[priority.categories]]")
    profile_fields = dict(
        no_show_rate=no_show,
        noshow_wait_min=p.float("noshow_wait_min", 2.0, min=0.0),
        priority_rate=priority,
        p90_target_min=p.float("p90_target_min", 20.0, min=0.5),
        seed=p.int("seed", 1),
    )
    demand: list[Demand] = []
    for d in top.sections("demand", required=True):
        code = d.str("service")
        if code not in codes:
            d.problem("service", f"unknown service {code!r}; {site_file} has {', '.join(sorted(codes))}")
        if any(o.service == code for o in demand):
            d.problem("service", f"service {code!r} has two [[demand]] tables")
        per_hour = tuple(d.list("per_hour", _rate(str(path))))
        if not per_hour:
            d.problem("per_hour", "expected at least one hour")
        st = d.section("service_time", required=True)
        service_time = ServiceTime(
            st.str("distribution", "lognormal", choices=DISTRIBUTIONS),
            st.float("mean_min", min=0.1),
            st.float("cv", 0.5, min=0.0),
        )
        demand.append(Demand(code, per_hour, service_time))
    if not demand:
        top.problem("demand", "at least one [[demand]] is required")
    counters = None
    if top.has("counters"):
        counters = []
        for c in top.sections("counters"):
            number = c.int("number", min=1, max=999)
            served = c.list("services", lambda v, k: str(v))
            unknown = [s for s in served if s not in codes]
            if unknown or not served:
                c.problem("services", f"expected services of {site_file}; got {served!r}")
            counters.append({"number": number, "services": served})
    return LoadProfile(str(path), site_file, opens, tuple(demand), counters, **profile_fields), site


# --------------------------------------------------------------------------- the planner


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (load a = λ/μ < c)."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    term = 1.0
    total = 1.0
    for k in range(1, servers):
        term *= load / k
        total += term
    top = term * load / servers * servers / (servers - load)
    return top / (total + top)


def mmc_mean_wait(arrivals_per_min: float, service_min: float, servers: int) -> float:
    """Mean wait in queue (minutes) of M/M/c: C(c, a) / (cμ − λ)."""
    load = arrivals_per_min * service_min
    return erlang_c(servers, load) / (servers / service_min - arrivals_per_min)


def counters_needed(per_hour: float, service_min: float, target_min: float, limit: int = 200) -> int | None:
    """The fewest counters for which P(wait > target) ≤ 10 % in M/M/c at this arrival rate."""
    if per_hour <= 0:
        return 0
    rate = per_hour / 60
    load = rate * service_min
    for c in range(max(1, math.floor(load) + 1), limit + 1):
        if erlang_c(c, load) * math.exp(-(c - load) * target_min / service_min) <= P90:
            return c
    return None


def plan(profile: LoadProfile, site: SiteConfig, figures: Figures) -> tuple[list[PlanRow], list[list[Any]]]:
    """Per service: counters now, counters needed at the peak hour; and the hour-by-hour table."""
    measured = {s.code: s.service_mean_min for s in figures.services}
    rows: list[PlanRow] = []
    table: list[list[Any]] = []
    for d in profile.demand:
        service_min = measured.get(d.service) or d.service_time.mean_min
        needs = [counters_needed(rate, service_min, profile.p90_target_min) for rate in d.per_hour]
        for hour, (rate, need) in enumerate(zip(d.per_hour, needs, strict=True)):
            table.append([d.service, _hour_label(profile, hour), rate, round(service_min, 2),
                          "" if need is None else need])
        peak = max(range(len(d.per_hour)), key=lambda h: d.per_hour[h])
        needed = None if any(n is None for n in needs) else max(n for n in needs if n is not None)
        rows.append(PlanRow(
            code=d.service,
            counters_now=sum(d.service in c.services for c in site.counters),
            first_choice=sum(c.services[0] == d.service for c in site.counters),
            needed=needed,
            peak_hour=_hour_label(profile, peak),
            peak_per_hour=d.per_hour[peak],
        ))
    return rows, table


def _hour_label(profile: LoadProfile, hour: int) -> str:
    minutes = profile.opens.hour * 60 + profile.opens.minute + hour * 60
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


# --------------------------------------------------------------------------- the desk: real links


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


# --------------------------------------------------------------------------- the simulation


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


# --------------------------------------------------------------------------- running it


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


def write_outputs(out: Path, profile: LoadProfile, site: SiteConfig, result: DayResult,
                  figures: Figures) -> list[Path]:
    files = write_csv(figures, out)
    rows, table = plan(profile, site, figures)
    planning = out / "planning.csv"
    with planning.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Lĩnh vực (service)", "Giờ (hour)", "Phiếu/giờ (arrivals per hour)",
                    "Phục vụ TB, phút (service mean, min)",
                    f"Quầy cần cho p90 ≤ {profile.p90_target_min:g} phút (counters needed)"])
        w.writerows(table)
    tickets = out / "tickets.csv"
    with tickets.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["ticket", "number", "service", "status", "counter", "issued_min", "called_min",
                    "finished_min", "wait_min", "service_min"])
        for v in sorted(result.visits, key=lambda v: v.issued_at):
            w.writerow([v.ticket, v.number, v.service, v.status, v.counter or "",
                        *(("" if x is None else round(x / 60, 2))
                          for x in (v.issued_at, v.called_at, v.finished_at, v.wait_s, v.service_s))])
    png = render_summary(
        out / "summary.png",
        figures,
        centre=site.name,
        title="Mô phỏng một ngày làm việc",
        subtitle=f"A simulated day: {figures.total.issued} tickets, {len(site.counters)} counters, "
                 f"profile {Path(profile.file).name}, seed {profile.seed}",
        show_ratings=False,
        target_min=profile.p90_target_min,
        plan=rows,
    )
    return [*files, planning, tickets, png]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", type=Path, default=EXAMPLE_PROFILE,
                        help="the load profile (default: the example ward, %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("simulation"),
                        help="folder for the CSV files and the chart (default: %(default)s)")
    parser.add_argument("--p90-target-min", type=float, default=None,
                        help="the planner's target for the p90 wait, minutes (default: the profile's)")
    parser.add_argument("--ms-per-min", type=float, default=5.0,
                        help="real milliseconds per simulated minute; 0 runs flat out (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the profile's)")
    args = parser.parse_args(argv)
    if args.p90_target_min is not None and args.p90_target_min <= 0:
        print("luot simulate: --p90-target-min must be more than 0")
        return 2
    if args.ms_per_min < 0:
        print("luot simulate: --ms-per-min cannot be negative")
        return 2
    try:
        profile, _ = load_profile(args.profile)
    except ConfigError as e:
        print(e.explain("luot simulate: configuration error: "))
        return 2
    changes: dict[str, Any] = {}
    if args.p90_target_min is not None:
        changes["p90_target_min"] = args.p90_target_min
    if args.seed is not None:
        changes["seed"] = args.seed
    profile = replace(profile, **changes)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="luot-simulate-") as tmp:
        print(f"simulating {profile.hours} hours from {profile.opens:%H:%M} through a private broker "
              f"and dispatcher…", flush=True)
        result, site = simulate(profile, Path(tmp), args.ms_per_min)
    figures = day_figures(profile, site, result)
    files = write_outputs(args.out, profile, site, result, figures)
    rows, _ = plan(profile, site, figures)
    print(f"{figures.total.issued} tickets ({sum(result.refused.values())} refused at the daily cap), "
          f"{result.commands} commands in {result.real_s:.1f} s; day ended at "
          f"{_hour_label(profile, 0)} + {result.closed_at_min / 60:.1f} h")
    print(f"{'service':<8}{'tickets':>8}{'wait':>8}{'p90':>8}{'max':>8}{'svc':>7}{'now':>9}{'need':>6}")
    needs = {row.code: row for row in rows}
    for s in figures.services:
        row = needs[s.code]
        print(f"{s.code:<8}{s.issued:>8}{_num(s.wait_mean_min):>8}{_num(s.wait_p90_min):>8}"
              f"{_num(s.wait_max_min):>8}{_num(s.service_mean_min):>7}"
              f"{f'{row.counters_now} ({row.first_choice})':>9}"
              f"{'-' if row.needed is None else row.needed:>6}")
    print(f"(minutes; 'now' = counters serving it (first choice); 'need' = counters serving only it "
          f"to keep p90 ≤ {profile.p90_target_min:g} min at its peak hour)")
    for path in files:
        print(f"  {path}")
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
