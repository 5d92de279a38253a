"""Who may log in: the leader (`admin`) and one officer login per counter (`counter-<n>`).

Passwords come from the bundle and are kept on the hub only as PBKDF2-SHA512 hashes,
one `user:$7$…` line each (the broker's password-file format, with many more rounds:
a browser login is rare, a broker connection is not). Failed logins are limited per
user and per address, and a session lives in a random HttpOnly SameSite cookie with
its own CSRF token.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from broker_config.passwords import check_password_line, parse_password_file, password_line

ROUNDS = 100_000
MAX_SESSIONS = 5_000
ADMIN = "admin"
_COUNTER_USER = re.compile(r"^counter-([1-9]\d{0,2})$")


def counter_user(number: int) -> str:
    return f"counter-{number}"


def counter_of(user: str) -> int | None:
    """The counter an officer login acts for; None for the leader."""
    found = _COUNTER_USER.match(user)
    return int(found[1]) if found else None


def valid_user(user: str) -> bool:
    return user == ADMIN or counter_of(user) is not None


def hash_line(user: str, password: str) -> str:
    if not valid_user(user):
        raise ValueError(f"a web login is 'admin' or 'counter-<n>', not {user!r}")
    return password_line(user, password, iterations=ROUNDS)


def set_password(path: Path, user: str, password: str) -> None:
    """Add or replace one user's line in the users file (mode 0600)."""
    lines = parse_password_file(path.read_text(encoding="utf-8")) if path.exists() else {}
    lines[user] = hash_line(user, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for _, line in sorted(lines.items())), encoding="utf-8")
    path.chmod(0o600)


@lru_cache(maxsize=1)
def _dummy_line() -> str:
    return hash_line(ADMIN, secrets.token_urlsafe(16))


class Users:
    """The hashed passwords, read once at start."""

    def __init__(self, lines: dict[str, str]) -> None:
        self._lines = {u: line for u, line in lines.items() if valid_user(u)}

    @classmethod
    def load(cls, path: Path) -> Users:
        return cls(parse_password_file(path.read_text(encoding="utf-8")) if path.exists() else {})

    @property
    def names(self) -> list[str]:
        return sorted(self._lines, key=lambda u: (counter_of(u) or 0, u))

    def check(self, user: str, password: str) -> bool:
        line = self._lines.get(user)
        if line is None:
            # The same work for an unknown user, so timing does not tell which users exist.
            check_password_line(_dummy_line(), password)
            return False
        return check_password_line(line, password)


class LoginGuard:
    """At most `limit` failed logins per user and per address in `window_s` seconds."""

    def __init__(self, limit: int = 5, window_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] > self.window_s:
            found.popleft()
        return found

    def wait_s(self, user: str, address: str) -> float:
        """0 if a login may be tried now, else the seconds until it may."""
        waits = []
        for key in (f"u:{user}", f"a:{address}"):
            recent = self._recent(key)
            if len(recent) >= self.limit:
                waits.append(recent[0] + self.window_s - self.clock())
        return max(waits, default=0.0)

    def failed(self, user: str, address: str) -> None:
        now = self.clock()
        for key in (f"u:{user}", f"a:{address}"):
            self._recent(key).append(now)
        if len(self._failures) > 10_000:  # an address scan cannot grow this without bound
            self._failures = {k: v for k, v in self._failures.items() if self._recent(k)}


@dataclass
class Session:
    sid: str
    user: str | None  # None: not logged in yet (the login form's CSRF token lives here)
    csrf: str
    seen: float = field(default=0.0)

    @property
    def counter(self) -> int | None:
        return counter_of(self.user) if self.user else None

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


class Sessions:
    """Sessions in memory: a restart of the service logs everyone out, which is safe."""

    def __init__(self, idle_s: float = 12 * 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.clock = clock
        self._by_id: dict[str, Session] = {}

    def new(self, user: str | None) -> Session:
        if len(self._by_id) > MAX_SESSIONS:
            # Forget idle sessions, then login forms never used: a flood of page loads cannot
            # grow this without bound, nor push out an officer who is logged in.
            now = self.clock()
            kept = {k: s for k, s in self._by_id.items() if now - s.seen < self.idle_s}
            forms = sorted((s.seen, k) for k, s in kept.items() if s.user is None)
            for _, sid in forms[: max(0, len(kept) - MAX_SESSIONS // 2)]:
                del kept[sid]
            self._by_id = kept
        session = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), self.clock())
        self._by_id[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        session = self._by_id.get(sid or "")
        if session is None:
            return None
        if self.clock() - session.seen > self.idle_s:
            del self._by_id[session.sid]
            return None
        session.seen = self.clock()
        return session

    def drop(self, sid: str) -> None:
        self._by_id.pop(sid, None)
