"""Loading and validating `device.toml` and `site.toml`.

Every mistake is reported before anything starts, naming the file, the key
and what was expected, in the manner of ESPHome: a technician on a ladder
reads one line and knows what to fix.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T")
_MISSING: Any = object()

ROLES = ("hub", "kiosk", "display", "counter", "admin", "web")
DEFAULT_DEVICE_FILE = Path("/etc/luot/device.toml")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class ConfigError(Exception):
    """A configuration mistake: `file: key: what was expected`."""

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        self.file = str(file)
        self.key = key
        self.message = message
        where = f"{self.file}: {key}" if key else self.file
        super().__init__(f"{where}: {message}")


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class Section:
    """A TOML table being read: each getter checks one key, `done()` rejects the rest."""

    def __init__(self, data: dict[str, Any], file: str | Path, path: str = "") -> None:
        self.data = data
        self.file = file
        self.path = path
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), message)

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, default: Any) -> Any:
        self._read.add(name)
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            typo = difflib.get_close_matches(name, [k for k in self.data if k not in self._read], n=1)
            hint = f" (there is {typo[0]!r}: a typo?)" if typo else ""
            raise self.error(name, f"is required but missing{hint}")
        return default

    def str(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        choices: tuple[str, ...] | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> Any:
        value = self._get(name, default)
        if value is default and name not in self.data:
            return value
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {_type_name(value)}")
        if choices is not None and value not in choices:
            raise self.error(name, f"expected one of {', '.join(choices)}; got {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.error(name, f"expected {hint or pattern.pattern}; got {value!r}")
        return value

    def int(
        self, name: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None
    ) -> Any:
        value = self._get(name, default)
        if value is default and name not in self.data:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected an integer, got {_type_name(value)}")
        if (min is not None and value < min) or (max is not None and value > max):
            bounds = f"from {min}" if min is not None else ""
            bounds += f" to {max}" if max is not None else ""
            raise self.error(name, f"expected an integer {bounds.strip()}; got {value}")
        return value

    def float(
        self, name: str, default: Any = _MISSING, *, min: float | None = None
    ) -> Any:
        value = self._get(name, default)
        if value is default and name not in self.data:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number, got {_type_name(value)}")
        if min is not None and value < min:
            raise self.error(name, f"expected a number of at least {min}; got {value}")
        return float(value)

    def bool(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {_type_name(value)}")
        return value

    def list(self, name: str, item: Callable[[Any, str], T], default: Any = _MISSING) -> list[T]:
        """A list whose items `item(value, key)` converts, raising ConfigError on a bad one."""
        value = self._get(name, default)
        if value is default and name not in self.data:
            return value
        if not isinstance(value, list):
            raise self.error(name, f"expected a list, got {_type_name(value)}")
        return [item(v, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def section(self, name: str, *, required: bool = False) -> Section:
        value = self._get(name, _MISSING if required else {})
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table [{self.key(name)}], got {_type_name(value)}")
        return Section(value, self.file, self.key(name))

    def sections(self, name: str, *, required: bool = False) -> list[Section]:
        value = self._get(name, _MISSING if required else [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(name, f"expected an array of tables [[{self.key(name)}]]")
        return [Section(v, self.file, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def raw(self, name: str) -> dict[str, Any]:
        """A table passed on whole, for a component that validates it with its own Section."""
        return self.section(name).data

    def value(self, name: str, item: Callable[[Any, str], T], default: Any = _MISSING) -> T:
        """A key whose value `item(value, key)` checks, for values of more than one type."""
        value = self._get(name, default)
        if value is default and name not in self.data:
            return value
        return item(value, self.key(name))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(name, sorted(self._read), n=1)
            suggestion = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(self._read))
            raise self.error(name, f"unknown key{suggestion} (known keys here: {known})")


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except PermissionError:
        raise ConfigError(path, "", "cannot be read (permission denied)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "not UTF-8 text") from None


# --------------------------------------------------------------------------- device.toml


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    username: str
    password: str
    tls: bool = False
    ca_file: str | None = None
    keepalive: int = 15


@dataclass(frozen=True)
class DeviceConfig:
    """One device's own file: who it is, how it reaches the broker, its hardware."""

    file: str
    id: str
    role: str
    site: str
    broker: BrokerSettings
    log_level: str
    role_settings: dict[str, Any] = field(default_factory=dict)

    def role_section(self) -> Section:
        """The `[<role>]` table, for the role's own validation."""
        return Section(self.role_settings, self.file, self.role)


def _read_password(broker: Section) -> str:
    if broker.has("password") and broker.has("password_file"):
        raise broker.error("password_file", "give either password or password_file, not both")
    if broker.has("password_file"):
        name = broker.str("password_file")
        try:
            return Path(name).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise broker.error("password_file", f"cannot read {name}: {e.strerror}") from None
    return broker.str("password")


def load_device(path: str | Path) -> DeviceConfig:
    data = read_toml(path)
    top = Section(data, path)
    device_id = top.str("id", pattern=ID_PATTERN, hint="lower-case letters, digits and '-'")
    role = top.str("role", choices=ROLES)
    site = top.str("site", pattern=ID_PATTERN, hint="lower-case letters, digits and '-'")
    log_level = top.str("log_level", "info", choices=("debug", "info", "warning", "error"))
    b = top.section("broker", required=True)
    broker = BrokerSettings(
        host=b.str("host"),
        port=b.int("port", 1883, min=1, max=65535),
        username=b.str("username", device_id),
        password=_read_password(b),
        tls=b.bool("tls", False),
        ca_file=b.str("ca_file", None),
        keepalive=b.int("keepalive", 15, min=5, max=300),
    )
    b.done()
    role_settings = top.raw(role) if top.has(role) else {}
    top.done()
    return DeviceConfig(str(path), device_id, role, site, broker, log_level, role_settings)


# --------------------------------------------------------------------------- site.toml

_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


@dataclass(frozen=True)
class Service:
    """A field ("lĩnh vực"): its own daily number sequence, cap and checklist."""

    code: str
    name: str
    name_en: str
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
class PriorityCategory:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class PriorityPolicy:
    categories: tuple[PriorityCategory, ...]
    max_in_a_row: int
    elderly_age: int

    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)


@dataclass(frozen=True)
class TakingHours:
    """When numbers may be taken: periods on working days (ISO weekday, Monday = 1)."""

    periods: tuple[tuple[time, time], ...]
    working_days: tuple[int, ...]

    def is_working_day(self, when: datetime) -> bool:
        return when.isoweekday() in self.working_days

    def is_taking(self, when: datetime) -> bool:
        if not self.is_working_day(when):
            return False
        now = when.time()
        return any(start <= now < end for start, end in self.periods)


@dataclass(frozen=True)
class DeviceEntry:
    """A device in the site's inventory: the dispatcher's source for who may do what."""

    id: str
    role: str
    counter: int | None
    hostname: str
    counters: tuple[int, ...]


@dataclass(frozen=True)
class SiteConfig:
    file: str
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
    announce_repeat: int
    announce_english: bool
    devices: tuple[DeviceEntry, ...]
    network: dict[str, Any]
    broker: dict[str, Any]

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
                    "code": s.code,
                    "name": s.name,
                    "name_en": s.name_en,
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
                "categories": [
                    {"code": c.code, "name": c.name, "name_en": c.name_en}
                    for c in self.priority.categories
                ],
                "elderly_age": self.priority.elderly_age,
            },
            "hours": {
                "periods": [
                    [a.strftime("%H:%M"), "24:00" if b == time.max else b.strftime("%H:%M")]
                    for a, b in self.hours.periods
                ],
                "working_days": list(self.hours.working_days),
            },
            "kiosk": {"one_ticket_per_citizen": self.one_ticket_per_citizen},
            "announce": {"repeat": self.announce_repeat, "english": self.announce_english},
        }


def _clock(value: Any, key: str, file: str | Path) -> time:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ConfigError(file, key, f"expected a time as \"HH:MM\"; got {value!r}")
    if value == "24:00":
        return time.max
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _period(file: str | Path) -> Callable[[Any, str], tuple[time, time]]:
    def read(value: Any, key: str) -> tuple[time, time]:
        if not isinstance(value, list) or len(value) != 2:
            raise ConfigError(file, key, 'expected a period as ["HH:MM", "HH:MM"]')
        start, end = _clock(value[0], key, file), _clock(value[1], key, file)
        if end <= start:
            raise ConfigError(file, key, f"the period ends before it starts: {value}")
        return start, end

    return read


def _weekday(file: str | Path) -> Callable[[Any, str], int]:
    def read(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
            raise ConfigError(file, key, f"expected a weekday 1 (Monday) to 7 (Sunday); got {value!r}")
        return value

    return read


def _string(file: str | Path) -> Callable[[Any, str], str]:
    def read(value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise ConfigError(file, key, f"expected a string, got {_type_name(value)}")
        return value

    return read


def counter_number(file: str | Path) -> Callable[[Any, str], int]:
    """An item reader for `Section.list`: a counter number."""

    def read(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
            raise ConfigError(file, key, f"expected a counter number 1 to 999; got {value!r}")
        return value

    return read


def service_code(file: str | Path) -> Callable[[Any, str], str]:
    """An item reader for `Section.list`: a service code such as "HT"."""

    def read(value: Any, key: str) -> str:
        if not isinstance(value, str) or not _CODE.match(value):
            raise ConfigError(file, key, f"expected a service code such as \"HT\"; got {value!r}")
        return value

    return read


def _load_services(top: Section) -> tuple[Service, ...]:
    services: list[Service] = []
    blocks: list[tuple[int, int, str]] = []
    for s in top.sections("services", required=True):
        code = s.str("code", pattern=_CODE, hint="upper-case letters and digits, such as \"HT\"")
        if any(other.code == code for other in services):
            raise s.error("code", f"service {code!r} is defined twice")
        prefix = s.str("prefix", None, pattern=_PREFIX, hint="one or two upper-case letters")
        block_start = s.int("block_start", None, min=0, max=99000)
        if (prefix is None) == (block_start is None):
            raise s.error("prefix", "give exactly one of prefix (\"A\") or block_start (1000)")
        daily_cap = s.int("daily_cap", 999, min=1, max=999)
        if prefix is not None and any(o.prefix == prefix for o in services):
            raise s.error("prefix", f"prefix {prefix!r} is already used by another service")
        if block_start is not None:
            end = block_start + daily_cap
            for other_start, other_end, other in blocks:
                if block_start <= other_end and other_start <= end:
                    raise s.error(
                        "block_start",
                        f"numbers {block_start + 1}–{end} overlap service {other}'s block",
                    )
            blocks.append((block_start, end, code))
        services.append(
            Service(
                code=code,
                name=s.str("name"),
                name_en=s.str("name_en"),
                prefix=prefix,
                block_start=block_start,
                daily_cap=daily_cap,
                checklist_url=s.str(
                    "checklist_url",
                    pattern=re.compile(r"^https?://\S+$"),
                    hint="an http(s) URL",
                ),
                avg_service_min=s.float("avg_service_min", 10.0, min=0.5),
            )
        )
        s.done()
    if not services:
        raise top.error("services", "at least one [[services]] is required")
    return tuple(services)


def load_site(path: str | Path) -> SiteConfig:
    data = read_toml(path)
    top = Section(data, path)
    site = top.section("site", required=True)
    try:
        tz = ZoneInfo(site.str("timezone", "Asia/Ho_Chi_Minh"))
    except (ZoneInfoNotFoundError, ValueError):
        raise site.error("timezone", "expected an IANA time zone such as Asia/Ho_Chi_Minh") from None

    services = _load_services(top)
    codes = {s.code for s in services}

    counters: list[Counter] = []
    for c in top.sections("counters", required=True):
        number = c.int("number", min=1, max=999)
        if any(o.number == number for o in counters):
            raise c.error("number", f"counter {number} is defined twice")
        served = c.list("services", _string(path))
        for i, code in enumerate(served):
            if code not in codes:
                raise ConfigError(
                    path, f"{c.key('services')}[{i}]",
                    f"unknown service {code!r}; services are {', '.join(sorted(codes))}",
                )
        if not served:
            raise c.error("services", "a counter must serve at least one service")
        counters.append(Counter(number, tuple(served), c.str("name", f"Quầy {number}")))
        c.done()

    p = top.section("priority")
    categories: list[PriorityCategory] = []
    for cat in p.sections("categories"):
        categories.append(
            PriorityCategory(
                cat.str("code", pattern=ID_PATTERN, hint="lower-case letters, digits and '-'"),
                cat.str("name"),
                cat.str("name_en"),
            )
        )
        cat.done()
    priority = PriorityPolicy(
        tuple(categories),
        max_in_a_row=p.int("max_in_a_row", 3, min=1, max=100),
        elderly_age=p.int("elderly_age", 60, min=50, max=100),
    )
    p.done()

    h = top.section("hours")
    hours = TakingHours(
        periods=tuple(h.list("taking", _period(path), [["07:30", "11:30"], ["13:30", "16:30"]])),
        working_days=tuple(h.list("working_days", _weekday(path), [1, 2, 3, 4, 5])),
    )
    auto_open = h.bool("auto_open", True)
    h.done()

    q = top.section("queue")
    requeue_after = q.int("requeue_after", 2, min=0, max=50)
    one_per_citizen = q.bool("one_ticket_per_citizen", False)
    q.done()

    a = top.section("announce")
    announce_repeat = a.int("repeat", 2, min=1, max=3)
    announce_english = a.bool("english", False)
    a.done()

    devices: list[DeviceEntry] = []
    counter_numbers = {c.number for c in counters}
    for d in top.sections("devices"):
        device_id = d.str("id", pattern=ID_PATTERN, hint="lower-case letters, digits and '-'")
        if any(o.id == device_id for o in devices):
            raise d.error("id", f"device {device_id!r} is listed twice")
        role = d.str("role", choices=ROLES)
        counter = d.int("counter", None, min=1, max=999)
        if role == "counter":
            if counter is None:
                raise d.error("counter", "a counter device needs the number of its counter")
            if counter not in counter_numbers:
                raise d.error("counter", f"no [[counters]] has number {counter}")
        elif counter is not None:
            raise d.error("counter", f"only counter devices have a counter, not a {role}")
        shown = d.list("counters", counter_number(path), [])
        devices.append(
            DeviceEntry(device_id, role, counter, d.str("hostname", f"luot-{device_id}"), tuple(shown))
        )
        d.done()

    network = top.raw("network")
    broker = top.raw("broker")
    result = SiteConfig(
        file=str(path),
        id=site.str("id", pattern=ID_PATTERN, hint="lower-case letters, digits and '-'"),
        name=site.str("name"),
        name_en=site.str("name_en"),
        timezone=tz,
        notice=site.str("notice", ""),
        notice_en=site.str("notice_en", ""),
        services=services,
        counters=tuple(counters),
        priority=priority,
        hours=hours,
        auto_open=auto_open,
        requeue_after=requeue_after,
        one_ticket_per_citizen=one_per_citizen,
        announce_repeat=announce_repeat,
        announce_english=announce_english,
        devices=tuple(devices),
        network=network,
        broker=broker,
    )
    site.done()
    top.done()
    return result
