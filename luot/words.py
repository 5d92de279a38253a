"""Words that every screen, ticket and page says the same way: a citizen who reads
"dưới 1 phút" on the kiosk must not read "0 phút" on the board."""

from __future__ import annotations


def minutes_text(value: float | None) -> tuple[str, str]:
    """A number of minutes as people read it (Vietnamese, English); "—" when not known."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "—", "—"
    if value < 1:
        return "dưới 1 phút", "under a minute"
    return f"{round(value)} phút", f"{round(value)} min"
