"""`luot kiosk --keys`: lines such as `CT` or `CT nguoi-cao-tuoi` turned into touches.

Each line is walked through the screens a citizen would see (home, priority group,
service), one touch at a time, each touch a real finger event posted to the UI.
Lines wait until the catalogue has come, so a demo may type before the hub is up.
"""

from __future__ import annotations

from typing import Any

from kiosk.screens import HOME, MESSAGE, NUMBER, PRIORITY, PRIORITY_SERVICES, Visit


class KeyScript:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.injected = False  # a touch is on its way; wait for its release

    def add(self, line: str) -> None:
        if line.split():
            self.lines.append(line)

    def next_touch(self, screen: str, visit: Visit, catalogue: dict[str, Any] | None,
                   on_screen: set[str]) -> str | None:
        """The button to touch now on the way to the first line's ticket; None to wait.

        A service on another page is reached by turning pages forward, then back."""
        if not self.lines or self.injected or catalogue is None:
            return None
        step = _parse(self.lines[0], catalogue)
        if step is None:
            self.lines.pop(0)
            return None
        service, priority = step
        target = _touch_for(screen, visit, service, priority)
        if target == f"service:{service}" and target not in on_screen:
            return "page:next" if "page:next" in on_screen else "page:prev"
        if target == f"service:{service}":
            self.lines.pop(0)
        return target

    def cannot(self, target: str) -> None:
        print(f"kiosk --keys: {target} cannot be touched now", flush=True)
        self.lines.clear()


def _parse(line: str, catalogue: dict[str, Any]) -> tuple[str, str | None] | None:
    words = line.split()
    services = [s["code"] for s in catalogue.get("services", [])]
    categories = [c["code"] for c in catalogue.get("priority", {}).get("categories", [])]
    if words[0] not in services or len(words) > 2 or (len(words) == 2 and words[1] not in categories):
        print(f"kiosk --keys: cannot do {line!r}: services are {', '.join(services)}; "
              f"priority groups are {', '.join(categories)}", flush=True)
        return None
    return words[0], words[1] if len(words) == 2 else None


def _touch_for(screen: str, visit: Visit, service: str, priority: str | None) -> str | None:
    if screen == NUMBER:
        return None if visit.print_state == "printing" else "done"
    if screen == MESSAGE:
        return "back"
    if screen == HOME:
        return "priority" if priority else f"service:{service}"
    if screen == PRIORITY:
        return f"category:{priority}" if priority else "back"
    if screen == PRIORITY_SERVICES:
        return f"service:{service}" if visit.priority == priority else "back"
    return None
