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


def _checked(file: str | Path, ok: Callable[[Any], bool], message: Callable[[Any], str]) -> Reader:
    """A reader that passes a value on as it is when `ok(value)`, else says `message(value)`:
    the one shape of every reader that checks without converting."""

    def read(value: Any, key: str) -> Any:
        if not ok(value):
            raise ConfigError(file, key, message(value))
        return value

    return read


def whole_number(file: str | Path, low: int, high: int, what: str) -> Callable[[Any, str], int]:
    """An integer from `low` to `high`; `what` names it in the message ("a weekday 1 … 7")."""
    return _checked(
        file,
        lambda value: not isinstance(value, bool) and isinstance(value, int) and low <= value <= high,
        lambda value: f"expected {what}; got {value!r}",
    )


def weekday(file: str | Path) -> Callable[[Any, str], int]:
    return whole_number(file, 1, 7, "a weekday 1 (Monday) to 7 (Sunday)")


def string(file: str | Path) -> Callable[[Any, str], str]:
    return _checked(
        file, lambda value: isinstance(value, str), lambda value: f"expected a string, got {type_name(value)}"
    )


def counter_number(file: str | Path) -> Callable[[Any, str], int]:
    return whole_number(file, 1, 999, "a counter number 1 to 999")


def service_code(file: str | Path) -> Callable[[Any, str], str]:
    """A service code such as "HT"."""
    return _checked(
        file,
        lambda value: isinstance(value, str) and SERVICE_CODE.match(value) is not None,
        lambda value: f"expected a service code such as \"HT\"; got {value!r}",
    )
