"""The web service's shared parts, as every request handler finds them on the app."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from web.hub import HubWatch
from web.users import LoginGuard, Sessions, Users


@dataclass
class WebService:
    hub: HubWatch
    site: str
    ticket_key: bytes
    users: Users
    sessions: Sessions
    guard: LoginGuard
    command_timeout_s: float = 3.0  # as the counter's buttons wait for a reply
    # A reprint: the order's expiry and the kiosk's start (5 s each), then the printer's time.
    reprint_wait_s: float = 25.0


SERVICE: web.AppKey[WebService] = web.AppKey("service")
