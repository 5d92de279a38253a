"""Item readers for `Section.list` and `Section.value`: one value, checked, or a ConfigError."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any

from luot.config.section import ConfigError, type_name

SERVICE_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")

Reader = Callable[[Any, str], Any]


def clock(value: Any, key: str, file: str | Path) -> time:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ConfigError(file, key, f"expected a time as \"HH:MM\"; got {value!r}")
    if value == "24:00":
        return time.max
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def period(file: str | Path) -> Callable[[Any, str], tuple[time, time]]:
    def read(value: Any, key: str) -> tuple[time, time]:
        if not isinstance(value, list) or len(value) != 2:
            raise ConfigError(file, key, 'expected a period as ["HH:MM", "HH:MM"]')
        start, end = clock(value[0], key, file), clock(value[1], key, file)
        if end <= start:
            raise ConfigError(file, key, f"the period ends before it starts: {value}")
        return start, end

    return read


def whole_number(file: str | Path, low: int, high: int, what: str) -> Callable[[Any, str], int]:
    """An integer from `low` to `high`; `what` names it in the message ("a weekday 1 … 7")."""

    def read(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(file, key, f"expected {what}; got {value!r}")
        return value

    return read


def weekday(file: str | Path) -> Callable[[Any, str], int]:
    return whole_number(file, 1, 7, "a weekday 1 (Monday) to 7 (Sunday)")


def string(file: str | Path) -> Callable[[Any, str], str]:
    def read(value: Any, key: str) -> str:
        if not isinstance(value, str):
            raise ConfigError(file, key, f"expected a string, got {type_name(value)}")
        return value

    return read


def counter_number(file: str | Path) -> Callable[[Any, str], int]:
    return whole_number(file, 1, 999, "a counter number 1 to 999")


def service_code(file: str | Path) -> Callable[[Any, str], str]:
    """A service code such as "HT"."""

    def read(value: Any, key: str) -> str:
        if not isinstance(value, str) or not SERVICE_CODE.match(value):
            raise ConfigError(file, key, f"expected a service code such as \"HT\"; got {value!r}")
        return value

    return read
