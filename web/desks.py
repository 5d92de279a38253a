"""The officers' consoles and the leader's dashboard: logins, sessions, commands.

A console acts only for the counter its login names; every action needs the session's
CSRF token in the `X-CSRF-Token` header, and goes to the dispatcher as a command of this
web device, which the dispatcher checks as it checks a counter's buttons (the web device
may act only for the counters its inventory entry lists). Commands carry the ticket the
officer saw (`expect`), so a stale screen is refused, and the officer is told what the
dispatcher answered, or that no answer came.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from luot.mqtt import CommandRefused, HubTimeout, HubUnreachable
from web.pages import message, render
from web.report import report_csv, report_png
from web.service import SERVICE, WebService
from web.users import ADMIN, Session, counter_of
from web.views import counter_view, dashboard_view

COOKIE = "luot_session"
CSRF_HEADER = "X-CSRF-Token"
CONSOLE_OPS = frozenset({"next", "recall", "noshow", "done", "requeue", "transfer", "pause", "resume"})
EXPECTING = frozenset({"next", "recall", "noshow", "done", "requeue", "transfer"})
DAY_OPS = frozenset({"open", "close", "confirm_clock"})
# The leader confirms the hub's time as the dashboard showed it: not if it has moved since.
CLOCK_SHOWN_WITHIN_S = 120

Stream = Callable[..., Awaitable[web.StreamResponse]]


def _service(request: web.Request) -> WebService:
    return request.app[SERVICE]


def _session(request: web.Request) -> Session | None:
    return _service(request).sessions.get(request.cookies.get(COOKIE))


def _set_cookie(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    response.set_cookie(COOKIE, session.sid, httponly=True, samesite="Strict", path="/",
                        secure=request.secure)


def _user_label(user: str) -> str:
    number = counter_of(user)
    return "Lãnh đạo / Leader" if number is None else f"Quầy {number} / Counter {number}"


# ---------------------------------------------------------------------- logging in and out

async def login_page(request: web.Request, *, status: int = 200, error: str = "",
                     error_en: str = "") -> web.Response:
    service = _service(request)
    session = _session(request)
    if session is None or session.user is not None:
        session = service.sessions.new(None)
    wanted = request.query.get("user", "")
    options = "".join(
        f'<option value="{u}"{" selected" if u == wanted else ""}>{_user_label(u)}</option>'
        for u in service.users.names
    )
    response = render("login", status, csrf=session.csrf, error=error, error_en=error_en,
                      options_html=options)
    _set_cookie(request, response, session)
    return response


async def login(request: web.Request) -> web.Response:
    service = _service(request)
    form = await request.post()
    session = _session(request)
    if session is None or not session.csrf_ok(str(form.get("csrf", ""))):
        return await login_page(request, status=403, error="Phiên đăng nhập đã hết hạn, vui lòng thử lại.",
                                error_en="The login form expired; please try again.")
    user, password = str(form.get("user", ""))[:32], str(form.get("password", ""))[:256]
    address = request.remote or "?"
    wait = service.guard.wait_s(user, address)
    if wait > 0:
        return await login_page(
            request, status=429, error=f"Quá nhiều lần thử sai. Vui lòng thử lại sau {int(wait) + 1} giây.",
            error_en=f"Too many failed attempts. Try again in {int(wait) + 1} s.")
    loop = asyncio.get_running_loop()
    if not await loop.run_in_executor(None, service.users.check, user, password):
        service.guard.failed(user, address)
        return await login_page(request, status=401, error="Sai tên đăng nhập hoặc mật khẩu.",
                                error_en="Wrong login or password.")
    service.sessions.drop(session.sid)
    fresh = service.sessions.new(user)
    moved = web.HTTPSeeOther("/dashboard" if user == ADMIN else "/console")
    _set_cookie(request, moved, fresh)
    raise moved


async def logout(request: web.Request) -> web.Response:
    session = _session(request)
    if session is not None and session.csrf_ok(request.headers.get(CSRF_HEADER)):
        _service(request).sessions.drop(session.sid)
        return web.json_response({"ok": True})
    return web.json_response({"ok": False, "error": "csrf"}, status=403)


# ---------------------------------------------------------------------- commands

def _refuse(status: int, code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code}, status=status)


async def _send(request: web.Request, op: str, fields: dict[str, Any]) -> web.Response:
    service = _service(request)
    link = service.hub.link
    loop = asyncio.get_running_loop()
    try:
        reply = await loop.run_in_executor(
            None, lambda: link.request(op, timeout=service.command_timeout_s, **fields))
    except CommandRefused as e:
        return web.json_response({"ok": False, "error": e.code, "detail": e.detail})
    except HubTimeout:
        return web.json_response({"ok": False, "error": "hub_timeout"})
    except HubUnreachable:
        return web.json_response({"ok": False, "error": "hub_unreachable"})
    ticket = reply.get("ticket")
    return web.json_response({"ok": True, "op": op, "ticket": ticket.get("number") if ticket else None})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


Command = Callable[[web.Request, Session], Awaitable[web.Response]]
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _command(allowed: Callable[[Session], bool]) -> Callable[[Command], Handler]:
    """One gate for every command: a session that `allowed` admits, and its CSRF token sent back."""
    def gate(handler: Command) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.Response:
            session = _session(request)
            if session is None or not allowed(session):
                return _refuse(401, "login")
            if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
                return _refuse(403, "csrf")
            return await handler(request, session)
        return checked
    return gate


@_command(lambda session: session.counter is not None)
async def counter_command(request: web.Request, session: Session) -> web.Response:
    op = request.match_info["op"]
    if op not in CONSOLE_OPS:
        return _refuse(404, "unknown_op")
    if request.match_info["counter"] != str(session.counter):
        return _refuse(403, "forbidden")
    body = await _body(request)
    fields: dict[str, Any] = {"counter": session.counter}
    if op in EXPECTING:
        expect = body.get("expect")
        if expect is not None and (isinstance(expect, bool) or not isinstance(expect, int)):
            return _refuse(400, "bad_schema")
        fields["expect"] = expect
    if op == "transfer":
        target = body.get("service")
        if not isinstance(target, str) or not 1 <= len(target) <= 8:
            return _refuse(400, "bad_schema")
        fields["service"] = target
    return await _send(request, op, fields)


@_command(lambda session: session.user is not None)
async def reprint_command(request: web.Request, session: Session) -> web.Response:
    """An officer or the leader prints again a ticket a kiosk could not print. Only a number the
    kiosk's own health lists as unprinted is ordered; the answer is the kiosk's, or that none came."""
    service = _service(request)
    kiosk, number = request.match_info["kiosk"], (await _body(request)).get("number")
    entry = service.hub.snapshot().devices.get(kiosk, {})
    health = entry.get("health") or {}
    if not isinstance(number, str) or number not in (health.get("unprinted") or []):
        return _refuse(409, "not_unprinted")
    if entry.get("status") != "online":
        return _refuse(409, "kiosk_offline")
    try:
        answer = await service.hub.reprint(kiosk, number, service.reprint_wait_s)
    except HubUnreachable:
        return web.json_response({"ok": False, "error": "hub_unreachable"})
    except TimeoutError:
        return web.json_response({"ok": False, "error": "kiosk_silent"})
    return web.json_response({"ok": bool(answer.get("ok")), "error": answer.get("error"), "number": number})


@_command(lambda session: session.user == ADMIN)
async def day_command(request: web.Request, session: Session) -> web.Response:
    op = request.match_info["op"]
    if op not in DAY_OPS:
        return _refuse(404, "unknown_op")
    if op == "confirm_clock":
        shown = (await _body(request)).get("shown")
        try:
            seen = datetime.fromisoformat(shown) if isinstance(shown, str) else None
        except ValueError:
            seen = None
        if seen is None or seen.tzinfo is None:
            return _refuse(400, "bad_schema")
        if abs((datetime.now(UTC) - seen).total_seconds()) > CLOCK_SHOWN_WITHIN_S:
            return _refuse(409, "clock_moved")
    return await _send(request, op, {})


# ---------------------------------------------------------------------- pages

def _need(request: web.Request, admin: bool) -> Session:
    session = _session(request)
    if session is None or session.user is None or (session.user == ADMIN) != admin:
        raise web.HTTPSeeOther("/login")
    return session


async def console_page(request: web.Request) -> web.Response:
    session = _need(request, admin=False)
    return render("console", csrf=session.csrf, counter=str(session.counter))


async def dashboard_page(request: web.Request) -> web.Response:
    session = _need(request, admin=True)
    return render("dashboard", csrf=session.csrf)


def _live(request: web.Request, sid: str) -> bool:
    return _service(request).sessions.get(sid) is not None


def add_routes(app: web.Application, stream: Stream) -> None:
    async def console_events(request: web.Request) -> web.StreamResponse:
        session = _session(request)
        if session is None or session.counter is None:
            raise web.HTTPUnauthorized()
        number, sid = session.counter, session.sid
        return await stream(request, lambda snap: counter_view(snap, number) if _live(request, sid) else None)

    async def dashboard_events(request: web.Request) -> web.StreamResponse:
        session = _session(request)
        if session is None or session.user != ADMIN:
            raise web.HTTPUnauthorized()
        sid = session.sid
        return await stream(request, lambda snap: dashboard_view(snap) if _live(request, sid) else None)

    async def report(request: web.Request) -> web.Response:
        session = _session(request)
        if session is None or session.user != ADMIN:
            return message(401, "Vui lòng đăng nhập.", "Please log in.")
        view = dashboard_view(_service(request).hub.snapshot())
        day = view.get("day") or "today"
        if request.match_info["kind"] == "csv":
            body, kind = report_csv(view), "text/csv"
        else:
            loop = asyncio.get_running_loop()
            body, kind = await loop.run_in_executor(None, report_png, view), "image/png"
        return web.Response(body=body, content_type=kind, headers={
            "Content-Disposition": f'attachment; filename="luot-{day}.{request.match_info["kind"]}"'})

    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/console", console_page)
    app.router.add_get("/console/events", console_events)
    app.router.add_post("/console/{counter}/{op}", counter_command)
    app.router.add_post("/reprint/{kiosk}", reprint_command)
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/dashboard/events", dashboard_events)
    app.router.add_post("/dashboard/{op}", day_command)
    app.router.add_get("/dashboard/report.{kind:csv|png}", report)
