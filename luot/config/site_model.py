"""The site as the hub knows it: fields, counters, priorities, hours, the inventory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from luot.config.section import ConfigFile, Section


@dataclass(frozen=True)
class Named:
    """A code and its Vietnamese and English names, as screens and pages show a field or a
    priority category (and as the catalogue carries them)."""

    code: str
    name: str
    name_en: str

    def names(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "name_en": self.name_en}


@dataclass(frozen=True)
class Service(Named):
    """A field ("lĩnh vực"): its own daily number sequence, cap and checklist."""

    prefix: str | None
    block_start: int | None
    daily_cap: int
    checklist_url: str
    avg_service_min: float

    def number(self, seq: int) -> str:
        if self.prefix is not None:
            return f"{self.prefix}{seq:03d}"
        assert self.block_start is not None
        return str(self.block_start + seq)


@dataclass(frozen=True)
class Counter:
    number: int
    services: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class PriorityCategory(Named):
    """Who may be called ahead (the elderly, people with meritorious service, …)."""


@dataclass(frozen=True)
class PriorityPolicy:
    categories: tuple[PriorityCategory, ...]
    max_in_a_row: int
    elderly_age: int

    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)


WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class TakingHours:
    """When numbers may be taken: periods on working days (ISO weekday, Monday = 1), and the
    periods of the weekdays that differ (a Saturday morning duty)."""

    periods: tuple[tuple[time, time], ...]
    working_days: tuple[int, ...]
    by_weekday: tuple[tuple[int, tuple[tuple[time, time], ...]], ...] = ()

    def periods_on(self, iso_weekday: int) -> tuple[tuple[time, time], ...]:
        return dict(self.by_weekday).get(iso_weekday, self.periods)

    def is_working_day(self, when: datetime) -> bool:
        return when.isoweekday() in self.working_days

    def is_taking(self, when: datetime) -> bool:
        if not self.is_working_day(when):
            return False
        now = when.time()
        return any(start <= now < end for start, end in self.periods_on(when.isoweekday()))


@dataclass(frozen=True)
class DeviceEntry:
    """A device in the site's inventory: the dispatcher's source for who may do what."""

    id: str
    role: str
    counter: int | None
    hostname: str
    counters: tuple[int, ...]


@dataclass(frozen=True)
class CitizenLimits:
    """Numbers one person (a scanned ID card) may take a day, over every channel (kiosk,
    web, …), beside `one_ticket_per_citizen` (one open number per field). Hanoi's 2025
    rule is `per_day = 2, per_field_per_day = 1`; 0 is no limit."""

    per_day: int = 0
    per_field_per_day: int = 0


@dataclass(frozen=True)
class SiteConfig(ConfigFile):
    id: str
    name: str
    name_en: str
    timezone: ZoneInfo
    notice: str
    notice_en: str
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    priority: PriorityPolicy
    hours: TakingHours
    auto_open: bool
    requeue_after: int
    one_ticket_per_citizen: bool
    citizen_limits: CitizenLimits
    announce_repeat: int
    announce_english: bool
    devices: tuple[DeviceEntry, ...]
    network: dict[str, Any]
    broker: dict[str, Any]

    def table(self, name: str) -> Section:
        """A table the loader handed on whole (`network`, `broker`), for its owner to read in `with`."""
        return self._table(getattr(self, name), name)

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def counter(self, number: int) -> Counter | None:
        return next((c for c in self.counters if c.number == number), None)

    def device(self, device_id: str) -> DeviceEntry | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def now(self) -> datetime:
        return datetime.now(self.timezone)

    def catalogue(self) -> dict[str, Any]:
        """What every device needs to know about the site: the retained `config` payload."""
        return {
            "site": self.id,
            "name": self.name,
            "name_en": self.name_en,
            "timezone": self.timezone.key,
            "notice": self.notice,
            "notice_en": self.notice_en,
            "services": [
                {
                    **s.names(),
                    "prefix": s.prefix,
                    "block_start": s.block_start,
                    "daily_cap": s.daily_cap,
                    "checklist_url": s.checklist_url,
                }
                for s in self.services
            ],
            "counters": [
                {"number": c.number, "name": c.name, "services": list(c.services)}
                for c in self.counters
            ],
            "priority": {
                "categories": [c.names() for c in self.priority.categories],
                "elderly_age": self.priority.elderly_age,
            },
            "hours": {
                "periods": [
                    [a.strftime("%H:%M"), "24:00" if b == time.max else b.strftime("%H:%M")]
                    for a, b in self.hours.periods
                ],
                "working_days": list(self.hours.working_days),
                "days": {
                    str(day): [[a.strftime("%H:%M"), "24:00" if b == time.max else b.strftime("%H:%M")]
                               for a, b in periods]
                    for day, periods in self.hours.by_weekday
                },
            },
            "kiosk": {"one_ticket_per_citizen": self.one_ticket_per_citizen},
            "announce": {"repeat": self.announce_repeat, "english": self.announce_english},
        }
