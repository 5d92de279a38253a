"""The link printed on a ticket to follow it on a phone: `<base>/t/<token>`.

The kiosk makes the token and the hub's web service checks it, with a key both
hold (`ticket_key` in their device.toml). The token names the ticket (day, id,
field, number: nothing the hall's board does not show) and carries a 128-bit
HMAC, so a guessed or edited URL opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

TAG_BYTES = 16
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORD = re.compile(r"^[A-Za-z0-9-]{1,16}$")


@dataclass(frozen=True)
class TicketRef:
    """What a ticket page may show about its ticket without asking anyone."""

    site: str
    day: str
    ticket_id: int
    service: str
    number: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: bytes, site: str, body: str) -> bytes:
    return hmac.new(key, f"{site}|{body}".encode(), hashlib.sha256).digest()[:TAG_BYTES]


def make_token(key: bytes, ref: TicketRef) -> str:
    body = f"{ref.day}~{ref.ticket_id}~{ref.service}~{ref.number}"
    return f"{_b64(body.encode())}.{_b64(_tag(key, ref.site, body))}"


def read_token(key: bytes, site: str, token: str) -> TicketRef | None:
    """The ticket a token names, or None for anything forged, edited or malformed."""
    if len(token) > 200 or token.count(".") != 1:
        return None
    body_part, tag_part = token.split(".")
    try:
        body = _unb64(body_part).decode("ascii")
        tag = _unb64(tag_part)
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(tag, _tag(key, site, body)):
        return None
    parts = body.split("~")
    if len(parts) != 4 or not _DAY.match(parts[0]) or not parts[1].isdigit():
        return None
    if not _WORD.match(parts[2]) or not _WORD.match(parts[3]):
        return None
    return TicketRef(site, parts[0], int(parts[1]), parts[2], parts[3])


def ticket_url(base: str, key: bytes, site: str, ticket: dict[str, object]) -> str:
    """The follow link of a ticket as the `take` reply describes it."""
    ref = TicketRef(site, str(ticket["day"]), int(str(ticket["id"])), str(ticket["service"]),
                    str(ticket["number"]))
    return f"{base.rstrip('/')}/t/{make_token(key, ref)}"
