"""The hub's web service, as its own process against the real broker and dispatcher:

- a counter's `next` → the ticket page's DOM showing the call, and → the officer's console
  showing the new citizen, in Chromium, beside the raw MQTT round trip of the same run;
- 500 ticket pages held as server-sent event clients: the web service's resident memory and
  CPU, and the push's p99 to all of them after a `next`;
- the ticket page's bytes on a first load and its time to first render in Chromium.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    bench_run,
    cpu_seconds,
    emit,
    process_figures,
    rss_mb,
    summary_ms,
    wait_for_dispatcher,
    wait_or_fail,
)
from luot.mqtt import HubLink
from luot.ticket_link import ticket_url
from testbed.broker import Mosquitto, free_port
from testbed.browser import start_chromium
from testbed.supervisor import stop_process
from testbed.web_service import TICKET_KEY, web_table
from web.users import set_password

OFFICER = ("counter-1", "bench-officer-pass")
MARK = ("window.__t = null; new MutationObserver(() => { if (!window.__t && (%s))"
        " window.__t = performance.timeOrigin + performance.now(); })"
        ".observe(document.body, {attributes: true});")


def wait_js(driver: Any, script: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.005)
    raise RuntimeError(f"the page never satisfied: {script}")


def start_web(broker: Mosquitto, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    users = workdir / "web-users"
    set_password(users, *OFFICER)
    port = free_port()
    config = broker.write_device_file(workdir / "web.toml", "web", web_table(users, port=port),
                                      log_level="warning")
    process = subprocess.Popen([sys.executable, "-m", "web", "--config", str(config)])
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(base + "/", timeout=1):
                return True
        except OSError:
            return False

    wait_or_fail(up, 20, "the web service to listen")
    return process, base


def dom_latency(base: str, site: str, kiosk: HubLink, counter: HubLink, trials: int) -> dict[str, Any]:
    """`next` from counter 1's buttons → the called ticket's page, and → counter 1's console."""
    from selenium.webdriver.common.by import By

    ticket_page, console = start_chromium((390, 844)), start_chromium((390, 844))
    try:
        console.get(base + "/login?user=counter-1")
        console.find_element(By.ID, "password").send_keys(OFFICER[1])
        console.find_element(By.ID, "submit").click()
        wait_js(console, "return document.body.dataset.status")
        to_ticket, to_console = [], []
        for _ in range(trials):
            ticket = kiosk.request("take", service="CT")["ticket"]
            ticket_page.get(ticket_url(base, TICKET_KEY.encode(), site, ticket))
            wait_js(ticket_page, "return document.body.dataset.status === 'waiting'")
            ticket_page.execute_script(MARK % "document.body.dataset.status === 'called'")
            console.execute_script(MARK % f"document.body.dataset.serving === '{ticket['number']}'")
            sent = time.time() * 1000
            counter.request("next", counter=1)
            to_ticket.append((wait_js(ticket_page, "return window.__t") - sent) / 1000)
            to_console.append((wait_js(console, "return window.__t") - sent) / 1000)
        first = first_load(ticket_page, base, site, kiosk)
    finally:
        ticket_page.quit()
        console.quit()
    return {"next_to_ticket_page": summary_ms(to_ticket), "next_to_console": summary_ms(to_console), **first}


def first_load(driver: Any, base: str, site: str, kiosk: HubLink) -> dict[str, Any]:
    """A cold load of a ticket page: bytes over the wire, first paint, live status shown."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    ticket = kiosk.request("take", service="CT")["ticket"]
    driver.get(ticket_url(base, TICKET_KEY.encode(), site, ticket))
    shown = wait_js(driver, "return document.body.dataset.status && performance.now()")
    time.sleep(0.2)
    loaded = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "const r = performance.getEntriesByType('resource');"
        "const p = performance.getEntriesByName('first-contentful-paint')[0];"
        "return {bytes: n.transferSize + r.reduce((s, e) => s + e.transferSize, 0),"
        " fcp: p ? p.startTime : null, files: r.length + 1};")
    return {"first_load_bytes": loaded["bytes"], "first_load_files": loaded["files"],
            "first_contentful_paint_ms": round(loaded["fcp"], 1) if loaded["fcp"] else None,
            "live_status_shown_ms": round(shown, 1)}


async def hold_pages(urls: list[str], called: list[str], counter: HubLink, pid: int) -> dict[str, Any]:
    """Every URL's event stream held open; after each `next` (which calls the next of `called`),
    when each stream got the push that shows it."""
    got: list[float] = []
    first = asyncio.Event()
    connected = 0
    marker: dict[str, Any] = {"text": None, "times": []}

    async def follow(session: aiohttp.ClientSession, url: str) -> None:
        nonlocal connected
        async with session.get(url + "/events") as response:
            async for raw in response.content:
                if not raw.startswith(b"data: "):
                    continue
                if marker["text"] is None:
                    connected += 1
                    if connected == len(urls):
                        first.set()
                elif marker["text"] in raw:
                    marker["times"].append(time.perf_counter())

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(follow(session, url)) for url in urls]
        await asyncio.wait_for(first.wait(), 60)
        await asyncio.sleep(1.0)
        held = await asyncio.to_thread(process_figures, pid, 2.0, "web_")
        cpu_before = cpu_seconds(pid)
        for number in called:
            marker["times"] = []
            marker["text"] = f'"number":"{number}"'.encode()
            sent = time.perf_counter()
            reply = await asyncio.to_thread(counter.request, "next", counter=3)
            assert reply["ticket"]["number"] == number, reply
            deadline = time.monotonic() + 10
            while len(marker["times"]) < len(urls) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            if len(marker["times"]) < len(urls):
                raise RuntimeError(f"only {len(marker['times'])} of {len(urls)} pages got the push")
            got += [t - sent for t in marker["times"]]
        held["web_cpu_s_per_push"] = round((cpu_seconds(pid) - cpu_before) / len(called), 3)
        held["web_rss_mb_after_pushes"] = rss_mb(pid)
        for task in tasks:
            task.cancel()
    return {**held, **summary_ms(got, "push")}


def main() -> None:
    with bench_run(__doc__ or "") as run:
        broker, site = run.broker, run.site
        trials, pages, pushes = (20, 500, 3) if run.quick else (100, 500, 10)
        run.measure_raw(200, 1000)
        dispatcher = run.start_dispatcher()
        web, base = start_web(broker, run.workdir)
        links = {d: HubLink(broker.settings(d), device_id=d, site=site.id, purpose="bench")
                 for d in ("kiosk-1", "quay-1", "quay-3")}
        try:
            for link in links.values():
                link.start()
                link.wait_connected(10)
            wait_for_dispatcher(links["kiosk-1"])
            dom = dom_latency(base, site.id, links["kiosk-1"], links["quay-1"], trials)
            kiosk = links["kiosk-1"]
            tickets = [kiosk.request("take", service="HT")["ticket"] for _ in range(pages + pushes)]
            urls = [ticket_url(base, TICKET_KEY.encode(), site.id, t) for t in tickets[pushes:]]
            called = [t["number"] for t in tickets[:pushes]]
            held = asyncio.run(hold_pages(urls, called, links["quay-3"], web.pid))
        finally:
            for link in links.values():
                link.stop()
            stop_process(web, timeout=5)
            stop_process(dispatcher, timeout=5)
    target = round(run.target_ms(20), 2)
    emit({
        "bench": "web", "quick": run.quick, "trials": trials, **run.raw,
        **dom, "target_ticket_page_p99_ms": target,
        "ticket_page_within_target": dom["next_to_ticket_page"]["p99_ms"] <= target,
        "pages_held": pages, "pushes": pushes, **held,
        "targets": {"web_rss_mb": 60, "push_p99_ms": 250, "first_load_bytes": 100_000},
    })


if __name__ == "__main__":
    main()
