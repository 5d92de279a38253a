"""`luot city web`: the city dashboard and monthly reports, from PostgreSQL (aiohttp).

Every centre live — waiting, served today, waits, satisfaction, devices offline and
how far its journal lags — pushed to the page with server-sent events. The page loads
nothing from outside this server. Vietnamese first, English second.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from city import store
from city.figures import centre_figures, city_total
from city.monthly import month_days, monthly_csv, monthly_png
from city.portal import Portal
from city.portal_page import add_portal_routes

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PUSH_S = 2.0
STALE_S = 60.0  # a centre silent this long is shown as cut off (its heartbeat is every 5 s)


def today() -> str:
    return datetime.now(TZ).date().isoformat()


def live(dsn: str, day: str) -> dict[str, Any]:
    """Every centre's figures of `day`, its link and its devices, and the city's total."""
    db = store.connect(dsn)
    try:
        figures = centre_figures(db, day, day)
        missing = {hub: sum(g.last - g.first + 1 for g in store.gaps(db, hub)) for hub in store.hubs(db)}
        seen_at = dict(db.execute("SELECT hub, seen_at FROM hubs").fetchall())
        offline = dict(db.execute(
            "SELECT hub, count(*) FILTER (WHERE NOT online) FROM devices GROUP BY hub").fetchall())
    finally:
        db.close()
    now = time.time()
    centres = []
    for hub in sorted(set(figures) | set(seen_at)):
        f = figures[hub].summary() if hub in figures else {"hub": hub}
        seen = seen_at.get(hub)
        f.update(missing=missing.get(hub, 0), offline=offline.get(hub, 0),
                 linked=seen is not None and now - seen < STALE_S)
        centres.append(f)
    total = city_total(figures).summary()
    total["offline"] = sum(offline.values())
    return {"day": day, "centres": centres, "city": total}


PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Lượt · Thành phố / City</title>
<style>
body{font-family:"DejaVu Sans","Noto Sans",sans-serif;margin:24px;color:#212529}
h1{margin:0}.en{color:#6c757d;font-size:.85em}table{border-collapse:collapse;margin-top:16px;width:100%}
th,td{padding:6px 10px;border-bottom:1px solid #dee2e6;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.total td{font-weight:bold;border-top:2px solid #212529}.cut{color:#c0392b;font-weight:bold}
</style></head><body>
<h1>Các trung tâm hôm nay</h1><div class="en">Every centre today · <span id="day">{day}</span></div>
<table><thead><tr>
<th>Trung tâm<div class="en">Centre</div></th><th>Đang chờ<div class="en">Waiting</div></th>
<th>Đã phục vụ<div class="en">Served</div></th><th>Chờ TB, phút<div class="en">Mean wait, min</div></th>
<th>Chờ p90, phút<div class="en">p90 wait, min</div></th><th>Hài lòng<div class="en">Satisfied</div></th>
<th>Thiết bị mất kết nối<div class="en">Devices offline</div></th><th>Liên kết<div class="en">Link</div></th>
</tr></thead><tbody id="rows">{rows}</tbody></table>
<p><a href="report/{month}.csv">Báo cáo tháng (CSV)</a> · <a href="report/{month}.png">Báo cáo tháng (PNG)</a>
<span class="en">Monthly report</span></p>
<script>
const src = new EventSource("stream");
src.onmessage = e => { const d = JSON.parse(e.data);
  document.getElementById("day").textContent = d.day;
  document.getElementById("rows").innerHTML = d.html; };
</script></body></html>"""


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    return (f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)) + unit


def rows_html(data: dict[str, Any]) -> str:
    out = []
    for c in [*data["centres"], {**data["city"], "hub": "Toàn thành phố / City", "total": True}]:
        link = ""
        if not c.get("total"):
            link = ("Bình thường / OK" if c["linked"] else '<span class="cut">Mất liên kết / Cut off</span>')
            if c["missing"]:
                link += f" · thiếu {c['missing']} sự kiện / {c['missing']} events missing"
        out.append(
            f'<tr class="{"total" if c.get("total") else ""}"><td>{html.escape(c["hub"])}</td>'
            f"<td>{_fmt(c.get('waiting'))}</td><td>{_fmt(c.get('served'))}</td>"
            f"<td>{_fmt(c.get('wait_mean_min'))}</td><td>{_fmt(c.get('wait_p90_min'))}</td>"
            f"<td>{_fmt(c.get('satisfied_pct'), ' %')}</td><td>{_fmt(c.get('offline', '') or 0)}</td>"
            f"<td>{link}</td></tr>"
        )
    return "".join(out)


def make_app(dsn: str, city_name: str = "Thành phố", portal: Portal | None = None) -> web.Application:
    async def page(_request: web.Request) -> web.Response:
        data = await asyncio.to_thread(live, dsn, today())
        body = (PAGE.replace("{day}", data["day"]).replace("{rows}", rows_html(data))
                .replace("{month}", data["day"][:7]))
        return web.Response(text=body, content_type="text/html")

    async def api(_request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(live, dsn, today()))

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            while True:
                data = await asyncio.to_thread(live, dsn, today())
                message = json.dumps({"day": data["day"], "html": rows_html(data)}, ensure_ascii=False)
                await response.write(f"data: {message}\n\n".encode())
                await asyncio.sleep(PUSH_S)
        except ConnectionError:  # the browser went away
            return response

    async def report(request: web.Request) -> web.Response:
        month, kind = request.match_info["month"], request.match_info["kind"]
        try:
            first, last = month_days(month)
        except ValueError:
            raise web.HTTPNotFound(text="tháng không hợp lệ / not a month (YYYY-MM)") from None

        def build() -> bytes:
            db = store.connect(dsn)
            try:
                figures = centre_figures(db, first, last)
            finally:
                db.close()
            return monthly_csv(figures) if kind == "csv" else monthly_png(figures, month, city_name)

        body = await asyncio.to_thread(build)
        return web.Response(body=body, content_type="text/csv" if kind == "csv" else "image/png",
                            charset="utf-8" if kind == "csv" else None)

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/api/today", api)
    app.router.add_get("/stream", stream)
    app.router.add_get(r"/report/{month:\d{4}-\d{2}}.{kind:csv|png}", report)
    if portal is not None:
        add_portal_routes(app, portal)
    return app


def serve(dsn: str, bind: str, port: int, city_name: str, portal: Portal | None) -> None:
    web.run_app(make_app(dsn, city_name, portal), host=bind, port=port, print=None)
