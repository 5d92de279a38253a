"""Where each key of a TOML file sits, so that an error can name its line.

tomllib gives values, not positions. This reads the text a second time, just far
enough to follow table headers (`[a]`, `[[a]]`, counting array items) and the keys
assigned under them; a key it cannot place falls back to its table's line.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"))*)\s*=")
_INDEX = re.compile(r"\[\d+\]$")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip('"') for p in dotted.split(".")]


class KeyLines:
    """Dotted key paths as `Section` names them (`services[2].code`) mapped to 1-based lines."""

    def __init__(self, text: str = "") -> None:
        self._lines: dict[str, int] = {}
        self._read(text)

    def _read(self, text: str) -> None:
        table = ""
        counts: dict[str, int] = {}
        depth = 0
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            toggles = line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1
            if in_multiline:
                in_multiline = not toggles
                continue
            in_multiline = toggles
            if depth > 0:
                depth += _bracket_balance(line)
                continue
            header = _HEADER.match(line)
            if header:
                table = self._table_path(header.group(2), header.group(1) == "[[", counts)
                self._lines.setdefault(table, number)
                continue
            assign = _ASSIGN.match(line)
            if assign:
                key = ".".join(_parts(assign.group(1)))
                self._lines.setdefault(f"{table}.{key}" if table else key, number)
                depth = max(0, _bracket_balance(line[assign.end():]))

    @staticmethod
    def _table_path(dotted: str, is_array: bool, counts: dict[str, int]) -> str:
        path = ""
        names = _parts(dotted)
        for i, name in enumerate(names):
            path = f"{path}.{name}" if path else name
            last = i == len(names) - 1
            if last and is_array:
                counts[path] = counts.get(path, -1) + 1
                # Nested tables of an earlier item start counting afresh.
                for other in [k for k in counts if k.startswith(f"{path}[")]:
                    del counts[other]
                path = f"{path}[{counts[path]}]"
            elif path in counts:
                path = f"{path}[{counts[path]}]"
        return path

    def line(self, key: str) -> int | None:
        """The line of `key`, else of the nearest enclosing key or table that has one."""
        while key:
            if key in self._lines:
                return self._lines[key]
            if _INDEX.search(key):
                key = _INDEX.sub("", key)
            elif "." in key:
                key = key.rsplit(".", 1)[0]
            else:
                return None
        return None


def _bracket_balance(text: str) -> int:
    """Opening minus closing brackets outside strings and comments."""
    balance = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            balance += 1
        elif char in "]}":
            balance -= 1
    return balance
