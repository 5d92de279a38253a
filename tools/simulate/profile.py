"""The load profile of a simulated day: arrivals per hour and service times of each service."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from luot import EXAMPLES
from luot.config import ConfigError, Section, SiteConfig, load_site, open_toml

EXAMPLE_PROFILE = EXAMPLES / "load-profile.toml"
DISTRIBUTIONS = ("exponential", "lognormal", "fixed")


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
    hours = max((len(d.per_hour) for d in demand), default=0)
    if opens.hour * 60 + opens.minute + hours * 60 > 23 * 60 + 30:
        top.problem("demand", f"{hours} hours from {opens:%H:%M} run past midnight, when the dispatcher "
                              "starts the next business day; a simulated day ends by 23:30")
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
