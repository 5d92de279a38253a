"""Reading a TOML table key by key, in the manner of ESPHome.

Every mistake in a file is collected and reported at once, each as
`file:line: key: what was expected`, so a technician on a ladder fixes them all
in one visit. A getter that finds a mistake records it and hands back a harmless
stand-in, so reading goes on. Reading happens inside `with section:`; leaving the
block reports every key nobody read, so no reader can forget to reject them.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from luot.config.lines import KeyLines

T = TypeVar("T")
_MISSING: Any = object()


class ConfigError(Exception):
    """Configuration mistakes: `file:line: key: what was expected`, one per line.

    `file`, `key`, `message` and `line` are those of the first mistake; `errors`
    holds them all.
    """

    def __init__(self, file: str | Path, key: str, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.key = key
        self.message = message
        self.line = line
        self.errors: list[ConfigError] = [self]
        super().__init__(self._one_line())

    def explain(self, prefix: str) -> str:
        """Every mistake on a line of its own, each after `prefix`, for a command's output."""
        return "\n".join(f"{prefix}{line}" for line in str(self).splitlines())

    def _one_line(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"

    @classmethod
    def of(cls, errors: list[ConfigError]) -> ConfigError:
        """All of them in the order of the file; those with no line last."""
        errors = sorted(errors, key=lambda e: (e.line is None, e.line or 0))
        first = errors[0]
        combined = cls(first.file, first.key, first.message, first.line)
        combined.errors = list(errors)
        combined.args = ("\n".join(e._one_line() for e in errors),)
        return combined


def type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Document:
    """What the sections of one file share: its lines, its mistakes, who read what."""

    def __init__(self, file: str | Path, lines: KeyLines) -> None:
        self.file = file
        self.lines = lines
        self.errors: list[ConfigError] = []
        self.sections: list[Section] = []
        self.depth = 0

    def add(self, error: ConfigError) -> None:
        for one in error.errors:
            if all(one.key != e.key or one.message != e.message for e in self.errors):
                self.errors.append(one)

    def has_error_at(self, key: str) -> bool:
        return any(e.key == key for e in self.errors)

    def unknown_keys(self) -> None:
        for section in self.sections:
            for name in sorted(set(section.data) - section.read):
                close = difflib.get_close_matches(name, sorted(section.read), n=1)
                suggestion = f"; did you mean {close[0]!r}?" if close else ""
                known = ", ".join(sorted(section.read)) or "none"
                section.problem(name, f"unknown key{suggestion} (known keys here: {known})")


class Section:
    """A TOML table being read; use it as `with Section(...) as s:` (children need no `with`)."""

    def __init__(
        self,
        data: dict[str, Any],
        file: str | Path,
        path: str = "",
        *,
        lines: KeyLines | None = None,
        _document: _Document | None = None,
    ) -> None:
        self.data = data
        self.file = file
        self.path = path
        self.read: set[str] = set()
        self._doc = _document or _Document(file, lines or KeyLines())
        self._doc.sections.append(self)

    def __enter__(self) -> Section:
        self._doc.depth += 1
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._doc.depth -= 1
        if self._doc.depth > 0:
            return
        if error is not None and not isinstance(error, ConfigError):
            return
        if isinstance(error, ConfigError):
            self._doc.add(error)  # keys after a mistake that stopped reading are not "unknown"
        else:
            self._doc.unknown_keys()
        if self._doc.errors:
            raise ConfigError.of(self._doc.errors) from None

    @property
    def lines(self) -> KeyLines:
        return self._doc.lines

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def line(self, name: str) -> int | None:
        return self._doc.lines.line(self.key(name))

    def error(self, name: str, message: str) -> ConfigError:
        """A mistake to raise where reading cannot go on."""
        return ConfigError(self.file, self.key(name), message, self.line(name))

    def problem(self, name: str, message: str) -> None:
        """A mistake to report while reading goes on; one per key is enough."""
        if not self._doc.has_error_at(self.key(name)):
            self._doc.add(self.error(name, message))

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, default: Any) -> tuple[Any, bool]:
        """The value and whether it came from the file."""
        if self._doc.depth == 0:
            raise RuntimeError("read a configuration Section inside `with section:`")
        self.read.add(name)
        if name in self.data:
            return self.data[name], True
        if default is _MISSING:
            typo = difflib.get_close_matches(name, [k for k in self.data if k not in self.read], n=1)
            hint = f" (there is {typo[0]!r}: a typo?)" if typo else ""
            self.problem(name, f"is required but missing{hint}")
        return default, False

    @staticmethod
    def _stand_in(default: Any, fallback: Any) -> Any:
        return fallback if default is _MISSING else default

    def str(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        choices: tuple[str, ...] | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> Any:
        value, given = self._get(name, default)
        fallback = self._stand_in(default, choices[0] if choices else "")
        if not given:
            return fallback
        if not isinstance(value, str):
            self.problem(name, f"expected a string, got {type_name(value)}")
        elif choices is not None and value not in choices:
            self.problem(name, f"expected one of {', '.join(choices)}; got {value!r}")
        elif pattern is not None and not pattern.match(value):
            self.problem(name, f"expected {hint or pattern.pattern}; got {value!r}")
        else:
            return value
        return fallback

    def int(
        self, name: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None
    ) -> Any:
        value, given = self._get(name, default)
        fallback = self._stand_in(default, min if min is not None else 0)
        if not given:
            return fallback
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(name, f"expected an integer, got {type_name(value)}")
        elif (min is not None and value < min) or (max is not None and value > max):
            bounds = f"from {min}" if min is not None else ""
            bounds += f" to {max}" if max is not None else ""
            self.problem(name, f"expected an integer {bounds.strip()}; got {value}")
        else:
            return value
        return fallback

    def float(self, name: str, default: Any = _MISSING, *, min: float | None = None) -> Any:
        value, given = self._get(name, default)
        fallback = self._stand_in(default, min if min is not None else 0.0)
        if not given:
            return fallback
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(name, f"expected a number, got {type_name(value)}")
        elif min is not None and value < min:
            self.problem(name, f"expected a number of at least {min}; got {value}")
        else:
            return float(value)
        return fallback

    def bool(self, name: str, default: Any = _MISSING) -> Any:
        value, given = self._get(name, default)
        if given and not isinstance(value, bool):
            self.problem(name, f"expected true or false, got {type_name(value)}")
            return self._stand_in(default, False)
        return value if given else self._stand_in(default, False)

    def list(self, name: str, item: Callable[[Any, str], T], default: Any = _MISSING) -> list[T]:
        """A list whose items `item(value, key)` converts; a ConfigError drops just that item."""
        value, given = self._get(name, default)
        if not given:
            return self._stand_in(default, [])
        if not isinstance(value, list):
            self.problem(name, f"expected a list, got {type_name(value)}")
            return self._stand_in(default, [])
        items: list[T] = []
        for i, v in enumerate(value):
            converted = self._item(item, v, f"{name}[{i}]")
            if converted is not _MISSING:
                items.append(converted)
        return items

    def _item(self, item: Callable[[Any, str], T], value: Any, name: str) -> Any:
        try:
            return item(value, self.key(name))
        except ConfigError as e:
            self._doc.add(ConfigError(e.file, e.key, e.message, e.line or self.line(name)))
            return _MISSING

    def section(self, name: str, *, required: bool = False) -> Section:
        value, given = self._get(name, _MISSING if required else {})
        if given and not isinstance(value, dict):
            self.problem(name, f"expected a table [{self.key(name)}], got {type_name(value)}")
            value = {}
        return Section(value if given else {}, self.file, self.key(name), _document=self._doc)

    def sections(self, name: str, *, required: bool = False) -> list[Section]:
        value, given = self._get(name, _MISSING if required else [])
        if not given:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(name, f"expected an array of tables [[{self.key(name)}]]")
            return []
        return [
            Section(v, self.file, f"{self.key(name)}[{i}]", _document=self._doc)
            for i, v in enumerate(value)
        ]

    def raw(self, name: str) -> dict[str, Any]:
        """A table passed on whole, for a component that reads it with its own Section."""
        value, given = self._get(name, {})
        if given and not isinstance(value, dict):
            self.problem(name, f"expected a table [{self.key(name)}], got {type_name(value)}")
            return {}
        return value if given else {}

    def value(self, name: str, item: Callable[[Any, str], T], default: Any = _MISSING) -> T:
        """A key whose value `item(value, key)` checks, for values of more than one type."""
        value, given = self._get(name, default)
        if not given:
            return self._stand_in(default, None)
        checked = self._item(item, value, name)
        return self._stand_in(default, None) if checked is _MISSING else checked


def read_toml_text(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except PermissionError:
        raise ConfigError(path, "", "cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise ConfigError(path, "", "is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "", "not UTF-8 text") from None


def parse_toml(text: str, path: str | Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(path, "", f"not valid TOML: {e}") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    return parse_toml(read_toml_text(path), path)


def open_toml(path: str | Path) -> Section:
    """The top table of a file, with its lines known; read it inside `with`."""
    text = read_toml_text(path)
    return Section(parse_toml(text, path), path, lines=KeyLines(text))


@dataclass(frozen=True)
class ConfigFile:
    """What a loader keeps of a checked file (`device.toml`, `site.toml`), so a table it hands
    on whole, read later by its owner, or a later check names the same file and line."""

    file: str
    lines: KeyLines = field(default_factory=KeyLines, compare=False, repr=False, kw_only=True)

    def _table(self, data: dict[str, Any], name: str) -> Section:
        return Section(data, self.file, name, lines=self.lines)

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.file, key, message, self.lines.line(key))
