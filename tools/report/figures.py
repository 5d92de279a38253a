"""A day's figures per service and per counter, from visits and counter stints.

The same code serves a real day (`luot report`, from the database) and a simulated one
(`luot simulate`, from the visits it played)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from luot.stats import mean, minutes, percentile, rating_mean, tally


@dataclass
class Visit:
    """One ticket's life, timestamps in seconds (epoch for a real day, simulated for a simulation)."""

    ticket: int
    number: str
    service: str
    issued_at: float
    called_at: float | None = None  # the first call: the wait ends here
    served_from: float | None = None  # the call that led to the end of service
    finished_at: float | None = None
    status: str = "waiting"  # waiting, serving, served, noshow, expired
    counter: int | None = None
    rating: int | None = None
    day: str = ""

    @property
    def wait_s(self) -> float | None:
        return None if self.called_at is None else self.called_at - self.issued_at

    @property
    def service_s(self) -> float | None:
        if self.status != "served" or self.served_from is None or self.finished_at is None:
            return None
        return self.finished_at - self.served_from


@dataclass
class Stint:
    """A counter busy with one ticket: from its call to its end (served, no-show, sent on)."""

    counter: int
    ticket: int
    start: float
    end: float
    day: str = ""


# --------------------------------------------------------------------------- figures


def _overlap(a: float, b: float, c: float, d: float) -> float:
    return max(0.0, min(b, d) - max(a, c))


@dataclass
class ServiceFigures:
    code: str
    name: str
    issued: int = 0
    refused: int = 0
    served: int = 0
    noshow: int = 0
    unserved: int = 0
    wait_mean_min: float | None = None
    wait_p90_min: float | None = None
    wait_max_min: float | None = None
    service_mean_min: float | None = None
    service_p90_min: float | None = None
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def rating_mean(self) -> float | None:
        return rating_mean(self.ratings)


@dataclass
class CounterFigures:
    counter: int
    name: str
    called: int = 0
    served: int = 0
    noshow: int = 0
    busy_min: float = 0.0
    idle_min: float = 0.0
    service_mean_min: float | None = None
    ratings: dict[int, int] = field(default_factory=dict)

    @property
    def utilisation(self) -> float | None:
        total = self.busy_min + self.idle_min
        return round(self.busy_min / total, 3) if total > 0 else None


@dataclass
class Figures:
    services: list[ServiceFigures]
    counters: list[CounterFigures]
    total: ServiceFigures
    per_hour: dict[int, dict[str, int]]  # hour of day → service → tickets issued


def _service_figures(code: str, name: str, visits: list[Visit], refused: int) -> ServiceFigures:
    waits = [v.wait_s for v in visits if v.wait_s is not None]
    times = [v.service_s for v in visits if v.service_s is not None]
    return ServiceFigures(
        code=code,
        name=name,
        issued=len(visits),
        refused=refused,
        served=sum(v.status == "served" for v in visits),
        noshow=sum(v.status == "noshow" for v in visits),
        unserved=sum(v.status in ("waiting", "expired") for v in visits),
        wait_mean_min=minutes(mean(waits)),
        wait_p90_min=minutes(percentile(waits, 90)),
        wait_max_min=minutes(max(waits) if waits else None),
        service_mean_min=minutes(mean(times)),
        service_p90_min=minutes(percentile(times, 90)),
        ratings=tally(v.rating for v in visits),
    )


def compute_figures(
    visits: Iterable[Visit],
    stints: Iterable[Stint],
    *,
    services: list[tuple[str, str]],
    counters: list[tuple[int, str]],
    hour_of: Callable[[float], int],
    refused: dict[str, int] | None = None,
    spans: dict[tuple[str, int], tuple[float, float]] | None = None,
    breaks: dict[str, list[tuple[float, float]]] | None = None,
) -> Figures:
    """Figures per service and per counter.

    A counter's idle time is its span minus its busy time and minus the part of the day's
    `breaks` (the lunch break between taking periods) it was not serving in. The span of
    a counter on a day is `spans[(day, counter)]` when given (a simulation knows when
    officers sit down), else from its first call to its last end that day.
    """
    visits = list(visits)
    stints = list(stints)
    refused = refused or {}
    known = {code for code, _ in services}
    services = services + [(v.service, v.service) for v in visits if v.service not in known]
    services = list(dict.fromkeys(services))
    by_service: dict[str, list[Visit]] = defaultdict(list)
    per_hour: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in visits:
        by_service[v.service].append(v)
        per_hour[hour_of(v.issued_at)][v.service] += 1
    service_rows = [
        _service_figures(code, name, by_service[code], refused.get(code, 0)) for code, name in services
    ]
    total = _service_figures("*", "Tất cả", visits, sum(refused.values()))

    names = dict(counters)
    numbers = sorted(set(names) | {s.counter for s in stints})
    by_counter: dict[int, list[Stint]] = defaultdict(list)
    for s in stints:
        by_counter[s.counter].append(s)
    visit_by_id = {v.ticket: v for v in visits}
    counter_rows = []
    for number in numbers:
        mine = by_counter[number]
        busy = sum(s.end - s.start for s in mine)
        span = 0.0
        days = {s.day for s in mine} | {d for d, c in (spans or {}) if c == number}
        for day in days:
            if spans and (day, number) in spans:
                start, end = spans[(day, number)]
                end = max([end] + [s.end for s in mine if s.day == day])
            else:
                start = min(s.start for s in mine if s.day == day)
                end = max(s.end for s in mine if s.day == day)
            span += end - start
            for pause_start, pause_end in (breaks or {}).get(day, []):
                span -= _overlap(pause_start, pause_end, start, end) - sum(
                    _overlap(pause_start, pause_end, s.start, s.end) for s in mine if s.day == day)
        ended = [visit_by_id[s.ticket] for s in mine if s.ticket in visit_by_id]
        finished_here = {v.ticket: v for v in ended if v.counter == number}
        times = [v.service_s for v in finished_here.values() if v.service_s is not None]
        counter_rows.append(
            CounterFigures(
                counter=number,
                name=names.get(number, f"Quầy {number}"),
                called=len({s.ticket for s in mine}),
                served=sum(v.status == "served" for v in finished_here.values()),
                noshow=sum(v.status == "noshow" for v in finished_here.values()),
                busy_min=round(busy / 60, 1),
                idle_min=round(max(0.0, span - busy) / 60, 1),
                service_mean_min=minutes(mean(times)),
                ratings=tally(v.rating for v in finished_here.values()),
            )
        )
    hours = {h: dict(per_hour[h]) for h in sorted(per_hour)}
    return Figures(service_rows, counter_rows, total, hours)
