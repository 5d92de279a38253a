"""A device's own file, `device.toml`: who it is, how it reaches the broker, its hardware."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luot.config.section import ConfigFile, Section, open_toml

ROLES = ("hub", "kiosk", "display", "counter", "admin", "web")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
ID_HINT = "lower-case letters, digits and '-'"


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
class DeviceConfig(ConfigFile):
    id: str
    role: str
    site: str
    broker: BrokerSettings
    log_level: str
    role_settings: dict[str, Any] = field(default_factory=dict)

    def role_section(self) -> Section:
        """The `[<role>]` table, for the role's own reading (inside `with`)."""
        return self._table(self.role_settings, self.role)

    def require_role(self, role: str, command: str) -> None:
        """The one check every entry point makes before it touches hardware or the broker."""
        if self.role != role:
            raise self.error("role", f"is {self.role!r}, but luot {command} runs on a {role} device")


def read_id(s: Section, key: str) -> str:
    """A device, site or priority category id: what topics and host names are made of."""
    return s.str(key, pattern=ID_PATTERN, hint=ID_HINT)


def read_password(s: Section, default_file: Path | None = None) -> str:
    """A broker password given in the file (`password`) or beside it (`password_file`, which
    keeps it out of a file others may read); `default_file` where neither is given."""
    if s.has("password") and s.has("password_file"):
        s.problem("password_file", "give either password or password_file, not both")
    if s.has("password_file"):
        name = s.str("password_file")
    elif default_file is not None and not s.has("password"):
        name = str(default_file)
    else:
        return s.str("password")
    try:
        return Path(name).read_text(encoding="utf-8").strip()
    except OSError as e:
        s.problem("password_file", f"cannot read {name}: {e.strerror}")
        return ""


def load_device(path: str | Path) -> DeviceConfig:
    with open_toml(path) as top:
        device_id = read_id(top, "id")
        role = top.str("role", choices=ROLES)
        site = read_id(top, "site")
        log_level = top.str("log_level", "info", choices=("debug", "info", "warning", "error"))
        b = top.section("broker", required=True)
        broker = BrokerSettings(
            host=b.str("host"),
            port=b.int("port", 1883, min=1, max=65535),
            username=b.str("username", device_id),
            password=read_password(b),
            tls=b.bool("tls", False),
            ca_file=b.str("ca_file", None),
            keepalive=b.int("keepalive", 15, min=5, max=300),
        )
        role_settings = top.raw(role) if top.has(role) else {}
        lines = top.lines
    return DeviceConfig(str(path), device_id, role, site, broker, log_level, role_settings, lines=lines)
