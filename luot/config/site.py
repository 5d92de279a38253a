"""Reading the hub's `site.toml`, every mistake at once."""

from __future__ import annotations

import re
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from luot.config import site_model as model
from luot.config.device import ROLES, read_id
from luot.config.items import SERVICE_CODE, counter_number, period, string, weekday
from luot.config.section import Section, open_toml

_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_URL = re.compile(r"^https?://\S+$")


def _service(s: Section, services: list[model.Service], blocks: list[tuple[int, int, str]]) -> model.Service:
    code = s.str("code", pattern=SERVICE_CODE, hint="upper-case letters and digits, such as \"HT\"")
    if any(other.code == code for other in services):
        s.problem("code", f"service {code!r} is defined twice")
    prefix = s.str("prefix", None, pattern=_PREFIX, hint="one or two upper-case letters")
    block_start = s.int("block_start", None, min=0, max=99000)
    if (prefix is None) == (block_start is None):
        s.problem("prefix", "give exactly one of prefix (\"A\") or block_start (1000)")
    daily_cap = s.int("daily_cap", 999, min=1, max=999)
    if prefix is not None and any(o.prefix == prefix for o in services):
        s.problem("prefix", f"prefix {prefix!r} is already used by another service")
    if block_start is not None:
        end = block_start + daily_cap
        for other_start, other_end, other in blocks:
            if block_start < other_end and other_start < end:
                s.problem("block_start", f"numbers {block_start + 1}–{end} overlap service {other}'s block")
        blocks.append((block_start, end, code))
    return model.Service(
        code=code,
        name=s.str("name"),
        name_en=s.str("name_en"),
        prefix=prefix,
        block_start=block_start,
        daily_cap=daily_cap,
        checklist_url=s.str("checklist_url", pattern=_URL, hint="an http(s) URL"),
        avg_service_min=s.float("avg_service_min", 10.0, min=0.5),
    )


def _services(top: Section) -> tuple[model.Service, ...]:
    services: list[model.Service] = []
    blocks: list[tuple[int, int, str]] = []
    for s in top.sections("services", required=True):
        services.append(_service(s, services, blocks))
    if not services:
        top.problem("services", "at least one [[services]] is required")
    return tuple(services)


def _counters(top: Section, codes: set[str], path: str | Path) -> tuple[model.Counter, ...]:
    counters: list[model.Counter] = []
    for c in top.sections("counters", required=True):
        number = c.int("number", min=1, max=999)
        if any(o.number == number for o in counters):
            c.problem("number", f"counter {number} is defined twice")
        served = c.list("services", string(path))
        for i, code in enumerate(served):
            if code not in codes:
                known = ", ".join(sorted(codes))
                c.problem(f"services[{i}]", f"unknown service {code!r}; services are {known}")
        if not served:
            c.problem("services", "a counter must serve at least one service")
        counters.append(model.Counter(number, tuple(served), c.str("name", f"Quầy {number}")))
    return tuple(counters)


def _priority(top: Section) -> model.PriorityPolicy:
    p = top.section("priority")
    categories = tuple(
        model.PriorityCategory(read_id(cat, "code"), cat.str("name"), cat.str("name_en"))
        for cat in p.sections("categories")
    )
    return model.PriorityPolicy(
        categories,
        max_in_a_row=p.int("max_in_a_row", 3, min=1, max=100),
        elderly_age=p.int("elderly_age", 60, min=50, max=100),
    )


def _devices(
    top: Section, counters: tuple[model.Counter, ...], path: str | Path
) -> tuple[model.DeviceEntry, ...]:
    devices: list[model.DeviceEntry] = []
    counter_numbers = {c.number for c in counters}
    for d in top.sections("devices"):
        device_id = read_id(d, "id")
        if any(o.id == device_id for o in devices):
            d.problem("id", f"device {device_id!r} is listed twice")
        role = d.str("role", choices=ROLES)
        counter = d.int("counter", None, min=1, max=999)
        if role == "counter":
            if counter is None:
                d.problem("counter", "a counter device needs the number of its counter")
            elif counter not in counter_numbers:
                d.problem("counter", f"no [[counters]] has number {counter}")
        elif counter is not None:
            d.problem("counter", f"only counter devices have a counter, not a {role}")
        shown = d.list("counters", counter_number(path), [])
        hostname = d.str("hostname", f"luot-{device_id}")
        devices.append(model.DeviceEntry(device_id, role, counter, hostname, tuple(shown)))
    return tuple(devices)


@lru_cache(maxsize=4)
def zone_named(name: str) -> tzinfo | None:
    """A catalogue's time zone as a screen or page shows its clock; None (the machine's own
    zone) for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def load_site(path: str | Path) -> model.SiteConfig:
    with open_toml(path) as top:
        site = top.section("site", required=True)
        zone = site.str("timezone", "Asia/Ho_Chi_Minh")
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            site.problem("timezone", "expected an IANA time zone such as Asia/Ho_Chi_Minh")
            tz = ZoneInfo("Asia/Ho_Chi_Minh")

        services = _services(top)
        counters = _counters(top, {s.code for s in services}, path)
        priority = _priority(top)

        h = top.section("hours")
        days = h.section("days")  # weekdays whose taking hours differ: saturday = [["07:30", "11:30"]]
        hours = model.TakingHours(
            periods=tuple(h.list("taking", period(path), [["07:30", "11:30"], ["13:30", "16:30"]])),
            working_days=tuple(h.list("working_days", weekday(path), [1, 2, 3, 4, 5])),
            by_weekday=tuple((i + 1, tuple(days.list(name, period(path))))
                             for i, name in enumerate(model.WEEKDAY_KEYS) if days.has(name)),
        )
        q = top.section("queue")
        a = top.section("announce")
        return model.SiteConfig(
            file=str(path),
            id=read_id(site, "id"),
            name=site.str("name"),
            name_en=site.str("name_en"),
            timezone=tz,
            notice=site.str("notice", ""),
            notice_en=site.str("notice_en", ""),
            services=services,
            counters=counters,
            priority=priority,
            hours=hours,
            auto_open=h.bool("auto_open", True),
            requeue_after=q.int("requeue_after", 2, min=0, max=50),
            one_ticket_per_citizen=q.bool("one_ticket_per_citizen", False),
            citizen_limits=model.CitizenLimits(
                per_day=q.int("citizen_numbers_per_day", 0, min=0, max=50),
                per_field_per_day=q.int("citizen_numbers_per_field_per_day", 0, min=0, max=50),
            ),
            announce_repeat=a.int("repeat", 2, min=1, max=3),
            announce_english=a.bool("english", False),
            devices=_devices(top, counters, path),
            network=top.raw("network"),
            broker=top.raw("broker"),
            lines=top.lines,
        )
