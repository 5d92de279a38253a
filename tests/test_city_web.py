"""The city dashboard and monthly report (aiohttp, real PostgreSQL), from a real hub's journal."""

from __future__ import annotations

import asyncio
import io
import time

import aiohttp
from aiohttp import web
from city_rig import journal_events, played_day
from PIL import Image

from city import store
from city.web import make_app
from testbed.broker import free_port
from testbed.city import ServedApp


def test_the_dashboard_and_the_monthly_report_show_a_centres_day(dispatcher, broker, connect, city_db,
                                                                   site, tmp_path, artifacts):
    played_day(connect, tmp_path / "luot.db", takes=6, served=3, score=5)
    events = journal_events(tmp_path / "luot.db")
    pg = store.connect(city_db)
    store.store_events(pg, site.id, events[-1]["seq"], events, 1e12)  # seen "now": linked
    store.store_device(pg, site.id, "kiosk-1", False, 1.0)
    pg.close()
    day = events[0]["day"]

    async def visit() -> tuple[dict, str, bytes, bytes, int]:
        runner = web.AppRunner(make_app(city_db))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as s:
                async with s.get(f"{base}/api/today") as r:
                    data = await r.json()
                async with s.get(f"{base}/") as r:
                    page = await r.text()
                async with s.get(f"{base}/report/{day[:7]}.csv") as r:
                    csv_body = await r.read()
                async with s.get(f"{base}/report/{day[:7]}.png") as r:
                    png = await r.read()
                async with s.get(f"{base}/report/2026-13.csv") as r:
                    bad = r.status
                async with s.get(f"{base}/report/{day[:7]}/{site.id}.csv") as r:
                    mine = (await r.read()).decode("utf-8-sig").splitlines()
                async with s.get(f"{base}/report/{day[:7]}/elsewhere.csv") as r:
                    assert r.status == 404
            assert mine[1].startswith(f"{site.id},6,") and len(mine) == 3, "one centre and its total"
            return data, page, csv_body, png, bad
        finally:
            await runner.cleanup()

    data, page, csv_body, png, bad = asyncio.run(visit())
    [centre] = data["centres"]
    assert (centre["hub"], centre["issued"], centre["waiting"], centre["serving"], centre["served"]) == (
        site.id, 6, 3, 1, 2)
    assert centre["satisfied_pct"] == 100.0 and centre["offline"] == 1 and centre["linked"]
    assert centre["missing"] == 0 and data["city"]["offline"] == 1
    assert "Các trung tâm hôm nay" in page and "Every centre today" in page and "http" not in page.split(
        "<body>")[0], "the page loads nothing from elsewhere"
    lines = csv_body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Trung tâm (centre),Số phiếu (tickets)")
    assert lines[1].startswith(f"{site.id},6,") and lines[2].startswith("Toàn thành phố,6,")
    image = Image.open(io.BytesIO(png))
    assert image.size[0] == 1240
    (artifacts / "city-monthly.png").write_bytes(png)
    (artifacts / "city-dashboard.html").write_text(page, encoding="utf-8")
    assert bad == 404


def test_the_dashboard_follows_the_city_live_in_a_real_browser(city_db, site, artifacts):
    """Chromium opens the dashboard; a new ticket stored afterwards shows up by itself
    (server-sent events), with no request to anywhere but this server."""
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from city.web import today

    day = today()
    at = time.time()
    pg = store.connect(city_db)
    store.store_events(pg, site.id, 1, [issued(1, at, day)], at)

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,600"):
        options.add_argument(flag)
    served = ServedApp(make_app(city_db)).__enter__()
    port = served.port
    browser = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        browser.get(served.url)
        def waiting_is(text: str):
            """The rows are redrawn by each push: read the cell afresh, a stale one is not yet."""
            def check(_browser) -> bool:
                try:
                    return browser.find_element(By.CSS_SELECTOR, "#rows tr td:nth-child(2)").text == text
                except (NoSuchElementException, StaleElementReferenceException):
                    return False
            return check

        WebDriverWait(browser, 10).until(waiting_is("1"), "one citizen waiting")
        store.store_events(pg, site.id, 2, [issued(2, at + 1, day)], at + 1)
        WebDriverWait(browser, 10).until(waiting_is("2"), "two citizens waiting")
        assert "Mất liên kết" not in browser.page_source
        browser.save_screenshot(str(artifacts / "city-dashboard.png"))
        requests = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(r.startswith(f"http://127.0.0.1:{port}/") for r in requests)
    finally:
        browser.quit()
        served.__exit__()
        pg.close()


def issued(n: int, at: float, day: str) -> dict:
    return {"seq": n, "kind": "issued", "at": at, "ticket": n, "day": day, "number": f"A{n:03d}",
            "service": "CT", "issued_service": "CT"}
