"""The web service's routes: the ticket page, the board, and the server-sent event streams
that push each page's view whenever the retained state changes.

Every stream starts with the whole view, so a phone that lost the Wi-Fi and reconnects
(EventSource does so by itself) shows the truth at once. The officers' consoles and the
leader's dashboard are in `web.desks`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from luot.ticket_link import read_token
from web import desks
from web.hub import Snapshot
from web.pages import SECURITY_HEADERS, STATIC, message, render
from web.service import SERVICE, WebService
from web.views import board_view, ticket_json

log = logging.getLogger(__name__)
KEEPALIVE_S = 15.0


@web.middleware
async def _headers(request: web.Request, handler: Callable[..., Any]) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


View = Callable[[Snapshot], dict[str, Any] | str | None]


async def stream(request: web.Request, make_view: View) -> web.StreamResponse:
    """Server-sent events: the view now, then again whenever it changes; None ends the stream.
    A view is a dict, or JSON already encoded (the ticket pages share most of theirs)."""
    hub = request.app[SERVICE].hub
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    changes = hub.changes
    assert changes is not None
    seen, last = -1, ""
    try:
        await response.write(b"retry: 2000\n\n")
        while not changes.closed:
            if changes.version != seen:
                seen = changes.version
                view = make_view(hub.snapshot())
                if view is None:
                    await response.write(b"event: end\ndata: {}\n\n")
                    break
                data = view if isinstance(view, str) else json.dumps(view, ensure_ascii=False,
                                                                     separators=(",", ":"))
                if data != last:
                    last = data
                    await response.write(f"data: {data}\n\n".encode())
            else:
                await response.write(b": keep-alive\n\n")
            await changes.wait(seen, KEEPALIVE_S)
            await asyncio.sleep(0)  # let the rest of a burst of messages land before the next view
    except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
        pass
    return response


# ---------------------------------------------------------------------- pages anyone may open

async def index(_request: web.Request) -> web.Response:
    return render("index")


async def ticket_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    if read_token(service.ticket_key, service.site, request.match_info["token"]) is None:
        return message(404, "Không tìm thấy phiếu này. Vui lòng quét lại mã trên phiếu.",
                       "This ticket was not found. Please scan the code on your ticket again.")
    return render("ticket", token=request.match_info["token"])


async def ticket_events(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    ref = read_token(service.ticket_key, service.site, request.match_info["token"])
    if ref is None:
        raise web.HTTPNotFound()
    return await stream(request, lambda snap: ticket_json(snap, ref))


async def board_page(_request: web.Request) -> web.Response:
    return render("board")


async def board_events(request: web.Request) -> web.StreamResponse:
    return await stream(request, board_view)


def make_app(service: WebService) -> web.Application:
    app = web.Application(middlewares=[_headers], client_max_size=16 * 1024)
    app[SERVICE] = service
    app.router.add_get("/", index)
    app.router.add_get("/t/{token}", ticket_page)
    app.router.add_get("/t/{token}/events", ticket_events)
    app.router.add_get("/board", board_page)
    app.router.add_get("/board/events", board_events)
    desks.add_routes(app, stream)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app


async def serve(service: WebService, host: str, port: int, stop: asyncio.Event,
                ready: Callable[[int], None] | None = None) -> None:
    """Follow the hub and serve until `stop` is set; `ready(port)` once listening."""
    service.hub.start(asyncio.get_running_loop())
    runner = web.AppRunner(make_app(service), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        log.info("serving pages on http://%s:%s/", host, bound)
        if ready is not None:
            ready(bound)
        await stop.wait()
    finally:
        if service.hub.changes is not None:
            service.hub.changes.close()
        await runner.cleanup()
        service.hub.stop()
