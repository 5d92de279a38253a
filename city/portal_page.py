"""The portal's page: choose a centre and a field, give the ID-card number, get a number.

What the page says is what the hub answered; with no answer it says the centre cannot be
reached and that no number was given. Vietnamese first, English second; nothing loaded
from elsewhere.
"""

from __future__ import annotations

import asyncio
import html

from aiohttp import web

from city.portal import Outcome, Portal

REFUSALS = {
    "duplicate_citizen": ("Bạn đã có một số đang chờ ở lĩnh vực này.",
                          "You already hold a number for this field."),
    "cap_reached": ("Lĩnh vực này đã hết số hôm nay.", "No numbers are left for this field today."),
    "outside_hours": ("Hiện tại chưa đến giờ lấy số hoặc đã hết giờ!",
                      "Numbers are given only in the taking hours."),
    "day_closed": ("Hôm nay trung tâm không làm việc.", "The centre is closed today."),
}
UNREACHABLE = ("Không liên lạc được với trung tâm. Chưa có số nào được cấp cho bạn.",
               "The centre cannot be reached. No number has been given to you.")

HEAD = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><title>Lấy số từ xa / A number from home</title>
<style>body{font-family:"DejaVu Sans","Noto Sans",sans-serif;margin:24px;max-width:640px;color:#212529}
.en{color:#6c757d}label{display:block;margin-top:14px;font-weight:bold}select,input,button{font-size:1.1em;
padding:8px;margin-top:4px;width:100%;box-sizing:border-box}.number{font-size:4em;font-weight:bold;color:#185caa}
.no{color:#c0392b;font-weight:bold}</style></head><body>"""


def form(portal: Portal, message: tuple[str, str] | None = None) -> str:
    options = "".join(
        f'<option value="{html.escape(c.id)}|{html.escape(code)}">{html.escape(c.name)} — {html.escape(name)}'
        "</option>"
        for c in portal.centres.values() for code, name in c.services
    )
    note = f'<p class="no">{message[0]}<br><span class="en">{message[1]}</span></p>' if message else ""
    return (HEAD + '<h1>Lấy số thứ tự từ xa</h1><div class="en">Take a number from home</div>' + note
            + '<form method="post" action="portal"><label for="where">Trung tâm và lĩnh vực'
            ' <span class="en">Centre and field</span></label>'
            f'<select id="where" name="where">{options}</select>'
            '<label for="card">Số thẻ căn cước (12 chữ số) <span class="en">ID-card number (12 digits)</span>'
            '</label><input id="card" name="card" inputmode="numeric" pattern="[0-9]{12}" required>'
            '<button type="submit">Lấy số / Take a number</button></form></body></html>')


def result(portal: Portal, centre_id: str, service: str, outcome: Outcome) -> str:
    centre = portal.centres[centre_id]
    field_name = dict(centre.services)[service]
    where = f"<p>{html.escape(centre.name)} — {html.escape(field_name)}</p>"
    if not outcome.reached:
        body = f'<p class="no">{UNREACHABLE[0]}<br><span class="en">{UNREACHABLE[1]}</span></p>'
    elif outcome.error:
        vi, en = REFUSALS.get(outcome.error, (f"Trung tâm từ chối ({outcome.error}).",
                                              f"The centre refused ({outcome.error})."))
        body = f'<p class="no">{vi}<br><span class="en">{en}</span></p>'
    else:
        wait = "" if outcome.est_wait_min is None else (
            f"<p>Thời gian chờ dự kiến: {outcome.est_wait_min} phút"
            f' <span class="en">Estimated wait: {outcome.est_wait_min} min</span></p>')
        body = (f'<p>Số của bạn <span class="en">Your number</span></p>'
                f'<div class="number" id="number">{html.escape(outcome.number or "")}</div>'
                f"<p>Số người chờ trước: {outcome.ahead}"
                f' <span class="en">People ahead: {outcome.ahead}</span></p>'
                f"{wait}<p>Vui lòng mang theo thẻ căn cước khi đến."
                ' <span class="en">Please bring your ID card.</span></p>')
    back = '<p><a href="portal">Quay lại / Back</a></p></body></html>'
    return HEAD + "<h1>Lấy số thứ tự từ xa</h1>" + where + body + back


def add_portal_routes(app: web.Application, portal: Portal) -> None:
    async def show(_request: web.Request) -> web.Response:
        return web.Response(text=form(portal), content_type="text/html")

    async def take(request: web.Request) -> web.Response:
        data = await request.post()
        where, card = str(data.get("where", "")), str(data.get("card", "")).strip()
        centre_id, _, service = where.partition("|")
        try:
            outcome = await asyncio.to_thread(portal.take, centre_id, service, card)
        except ValueError:
            message = ("Số thẻ căn cước có 12 chữ số; hãy chọn trung tâm và lĩnh vực trong danh sách.",
                       "An ID-card number has 12 digits; choose a centre and a field from the list.")
            return web.Response(text=form(portal, message), content_type="text/html", status=400)
        return web.Response(text=result(portal, centre_id, service, outcome), content_type="text/html")

    app.router.add_get("/portal", show)
    app.router.add_post("/portal", take)
