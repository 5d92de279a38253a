"""The four pages in a real browser (Debian's chromium through chromium-driver), against the
real broker, dispatcher and web service; screenshots at phone and desktop sizes land in
artifacts/ for a person to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import WEB_PASSWORDS as PASSWORDS
from helpers import wait_for

from luot import protocol as p
from luot.ticket_link import ticket_url
from testbed.broker import Mosquitto
from testbed.browser import CHROMEDRIVER, CHROMIUM, page_errors
from testbed.web_service import TICKET_KEY, WebThread

PHONE = (390, 844)
DESKTOP = (1366, 900)
TV = (1920, 1080)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="apt-get install chromium chromium-driver (make system installs them)",
)


@pytest.fixture
def web(broker: Mosquitto, dispatcher: Any, site: Any, web_users: Path) -> Iterator[WebThread]:
    service = WebThread(broker.settings("web"), site.id, web_users)
    service.start()
    wait_for(lambda: service.hub.link.state(p.SITE_STATE), what="site state at the web service")
    yield service
    service.stop()


def until(driver: Any, probe: Callable[[Any], Any], what: str, timeout: float = 5.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(probe, message=what)


def data(driver: Any, name: str) -> str:
    return str(driver.execute_script(f"return document.body.dataset.{name} || ''"))


def shoot(driver: Any, artifacts: Path, name: str, size: tuple[int, int]) -> Path:
    driver.set_window_size(*size)
    path = artifacts / f"web-{name}-{size[0]}x{size[1]}.png"
    driver.save_screenshot(str(path))
    return path


def log_in(driver: Any, base: str, user: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.delete_all_cookies()
    driver.get(f"{base}/login?user={user}")
    assert Select(driver.find_element(By.ID, "user")).first_selected_option.get_attribute("value") == user
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    driver.find_element(By.ID, "submit").click()


def test_a_ticket_is_followed_on_a_phone_until_called(chrome: Any, web: WebThread, connect: Any, site: Any,
                                                      broker: Mosquitto, web_users: Path,
                                                      artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    kiosk = connect("kiosk-1")
    kiosk.request("take", service="CT")
    reply = kiosk.request("take", service="CT")
    chrome.set_window_size(*PHONE)
    chrome.get(ticket_url(web.url, TICKET_KEY.encode(), site.id, reply["ticket"]))
    until(chrome, lambda d: data(d, "status") == "waiting", "the ticket waiting")
    assert chrome.find_element(By.ID, "number").text == reply["ticket"]["number"]
    assert "Số người chờ trước: 1" in chrome.find_element(By.ID, "status").text
    assert "Chứng thực" in chrome.find_element(By.ID, "field").text
    shoot(chrome, artifacts, "ticket-waiting", PHONE)
    officer = connect("quay-1")
    officer.request("next", counter=1)
    until(chrome, lambda d: "Số người chờ trước: 0" in d.find_element(By.ID, "status").text, "one ahead less")
    # The phone loses the service (here the service restarts); the call comes meanwhile, and
    # the page shows it once its stream is back, from the retained state alone.
    web.stop()
    until(chrome, lambda d: "Mất kết nối" in d.find_element(By.ID, "banner").text, "the lost-link banner")
    officer.request("next", counter=1)
    again = WebThread(broker.settings("web"), site.id, web_users, port=web.port)
    again.start()
    try:
        until(chrome, lambda d: data(d, "status") == "called", "the call after the reconnect", timeout=8)
        assert "Mời đến quầy số 1" in chrome.find_element(By.ID, "status").text
        assert "Please go to counter 1" in chrome.find_element(By.ID, "status").text
        assert chrome.find_element(By.ID, "banner").text == ""
        shoot(chrome, artifacts, "ticket-called", PHONE)
        shoot(chrome, artifacts, "ticket-called", DESKTOP)
    finally:
        again.stop()
    resources = chrome.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(web.url) for r in resources)  # nothing from outside the hub
    assert page_errors(chrome) == []


def test_the_kiosks_ticket_carries_the_page_link(chrome: Any, web: WebThread, connect: Any,
                                                  tmp_path: Path, artifacts: Path) -> None:
    """The kiosk prints the ticket's QR code to its live page: scanned (decoded from the printed
    image) and opened, the page shows that ticket, and it shows the call when it comes."""
    from PIL import Image
    from pyzbar.pyzbar import decode
    from selenium.webdriver.common.by import By

    from kiosk.desk import TakeRequest, TicketDesk
    from kiosk.printer import PngPrinter

    printer = PngPrinter(tmp_path / "tickets", "TM-T88V", f"png://{tmp_path / 'tickets'}")
    desk = TicketDesk(connect("kiosk-1"), printer, 512, lambda *_: None,
                      follow=(web.url, TICKET_KEY.encode()))
    desk.serve(TakeRequest("HT"))
    printed = sorted((tmp_path / "tickets").glob("*.png"))
    assert len(printed) == 1
    (artifacts / "web-kiosk-ticket.png").write_bytes(printed[0].read_bytes())
    codes = [c.data.decode() for c in decode(Image.open(printed[0]))]
    assert len(codes) == 1 and codes[0].startswith(f"{web.url}/t/")
    chrome.set_window_size(*PHONE)
    chrome.get(codes[0])
    until(chrome, lambda d: data(d, "status") == "waiting", "the printed ticket's page")
    assert chrome.find_element(By.ID, "number").text == "B001"
    assert chrome.find_element(By.ID, "checklist-link").get_attribute("href").endswith("linhvuc=ho-tich")
    chrome.find_element(By.ID, "sound").click()  # the citizen allows the chime and the buzz
    assert "Đã bật âm thanh và rung" in chrome.find_element(By.ID, "sound").text
    connect("quay-3").request("next", counter=3)
    until(chrome, lambda d: data(d, "status") == "called", "the call on the printed ticket's page")
    assert "Mời đến quầy số 3" in chrome.find_element(By.ID, "status").text
    assert page_errors(chrome) == []


def test_an_officer_logs_in_calls_transfers_and_pauses(chrome: Any, web: WebThread, connect: Any,
                                                       dispatcher: Any, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    kiosk = connect("kiosk-1")
    first = kiosk.request("take", service="HT")["ticket"]["number"]
    kiosk.request("take", service="CT")
    chrome.set_window_size(*DESKTOP)
    log_in(chrome, web.url, "counter-2")
    until(chrome, lambda d: data(d, "status") == "idle", "the console of counter 2")
    chrome.find_element(By.TAG_NAME, "body").send_keys(Keys.ENTER)  # the call pad's NEXT
    until(chrome, lambda d: data(d, "serving") == "A001", "the console showing the citizen")
    assert "Đã gọi số A001" in chrome.find_element(By.ID, "outcome").text
    assert dispatcher.snapshot()["counters"][2]["ticket"]["number"] == "A001"
    Select(chrome.find_element(By.ID, "target")).select_by_value("DD")
    chrome.find_element(By.CSS_SELECTOR, "button[data-op=transfer]").click()
    until(chrome, lambda d: "Đã chuyển số A001" in d.find_element(By.ID, "outcome").text, "the transfer")
    until(chrome, lambda d: data(d, "serving") == "", "the counter free after the transfer")
    assert dispatcher.snapshot()["services"]["DD"]["waiting"] == 1
    chrome.find_element(By.CSS_SELECTOR, "button[data-op=next]").click()
    until(chrome, lambda d: data(d, "serving") == first, "the next citizen")
    shoot(chrome, artifacts, "console-serving", DESKTOP)
    chrome.find_element(By.ID, "pause").click()
    until(chrome, lambda d: data(d, "status") == "paused", "the counter paused")
    assert dispatcher.snapshot()["counters"][2]["status"] == "paused"
    shoot(chrome, artifacts, "console-paused", PHONE)
    assert page_errors(chrome) == []


def test_the_leader_closes_the_day_and_the_board_shows_the_hall(chrome: Any, web: WebThread, connect: Any,
                                                               dispatcher: Any, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    kiosk = connect("kiosk-1")
    for service in ("CT", "HT", "DD", "CT"):
        kiosk.request("take", service=service)
    connect("quay-5").request("next", counter=5)
    chrome.set_window_size(*DESKTOP)
    log_in(chrome, web.url, "admin")
    until(chrome, lambda d: data(d, "open") == "true", "the dashboard of an open day")
    assert "Chứng thực" in chrome.find_element(By.ID, "fields").text
    shoot(chrome, artifacts, "dashboard-open", DESKTOP)
    chrome.find_element(By.ID, "close").click()
    until(chrome, lambda d: data(d, "open") == "false", "the day closed on the dashboard")
    assert dispatcher.snapshot()["site"]["open"] is False
    assert "Đã đóng ngày làm việc" in chrome.find_element(By.ID, "outcome").text
    shoot(chrome, artifacts, "dashboard-closed", PHONE)
    chrome.get(f"{web.url}/board")
    until(chrome, lambda d: "A001" in d.find_element(By.ID, "counters").text, "the board's counters")
    shoot(chrome, artifacts, "board", TV)
    shoot(chrome, artifacts, "board", PHONE)
    chrome.set_window_size(*TV)
    connect("quay-1").request("next", counter=1)
    until(chrome, lambda d: "A002" in d.find_element(By.ID, "flash-number").text, "the call flashing")
    shoot(chrome, artifacts, "board-call", TV)
    assert page_errors(chrome) == []


def test_an_officer_reprints_a_ticket_the_kiosk_could_not_print(chrome: Any, web: WebThread, connect: Any,
                                                                 dispatcher: Any, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By

    from kiosk.desk import TakeRequest, TicketDesk
    from kiosk.printer import open_printer
    from kiosk.settings import parse_printer_url
    from testbed.pty_printer import CUT, OFFLINE, READY, PtyPrinter

    pty = PtyPrinter()
    pty.after_cut.update(OFFLINE)  # the printer jams right after the first ticket
    printer = open_printer(parse_printer_url(f"serial://{pty.path}"), "TM-T88V")
    pty.printers.append(printer)
    desk = TicketDesk(connect("kiosk-1"), printer, 512, lambda *_: None)
    desk.start()
    try:
        desk.submit(TakeRequest("CT"))
        chrome.set_window_size(*DESKTOP)
        log_in(chrome, web.url, "counter-2")
        until(chrome, lambda d: "A001" in d.find_element(By.ID, "unprinted").text, "the ticket listed")
        assert "kiosk-1: số A001 chưa in được" in chrome.find_element(By.ID, "unprinted").text
        shoot(chrome, artifacts, "console-unprinted", DESKTOP)
        pty.answers.update(READY)
        jobs = pty.received.count(CUT)
        chrome.find_element(By.CSS_SELECTOR, "#unprinted button[data-number=A001]").click()
        until(chrome, lambda d: "Đã in lại số A001 ở kiosk-1" in d.find_element(By.ID, "outcome").text,
              "the officer told it printed", timeout=10)
        assert pty.received.count(CUT) == jobs + 1
        until(chrome, lambda d: "Mọi phiếu đều đã in" in d.find_element(By.ID, "unprinted").text,
              "the list emptied")
        shoot(chrome, artifacts, "console-reprinted", DESKTOP)
        assert dispatcher.snapshot()["services"]["CT"]["issued"] == 1
        assert page_errors(chrome) == []
    finally:
        desk.stop()
        pty.close()


def test_the_leader_confirms_the_hubs_clock_and_numbers_are_given_again(
        chrome: Any, display: Any, broker: Mosquitto, site: Any, web_users: Path, connect: Any,
        tmp_path: Path, artifacts: Path) -> None:
    """A hub whose clock nobody vouches for (no time server on the LAN) gives no numbers; the
    dashboard shows the hub's time and the leader's "Giờ này đúng" lets numbers be given."""
    import pygame
    from selenium.webdriver.common.by import By

    from dispatcher.clock import ClockGuard
    from dispatcher.service import Dispatcher
    from kiosk import texts
    from kiosk.screens import link_snapshot
    from kiosk.ui import KioskUI
    from luot.mqtt import CommandRefused

    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"),
                     clock_guard=ClockGuard(synchronised=lambda: False))
    hub.start()
    service = WebThread(broker.settings("web"), site.id, web_users)
    service.start()
    try:
        kiosk = connect("kiosk-1")
        with pytest.raises(CommandRefused) as refused:
            kiosk.request("take", service="CT")
        assert refused.value.code == p.CLOCK_UNSURE
        wait_for(lambda: (kiosk.state(p.SITE_STATE) or {}).get("clock") == "unsynchronised",
                 what="the site state saying why no numbers are given")
        assert kiosk.state(p.SITE_STATE)["taking"] is False
        screen = KioskUI(pygame.display.set_mode((800, 480)), lambda: link_snapshot(kiosk), lambda _r: None)
        assert screen.frame().prompt == texts.CLOCK_HELD, "the kiosk says why, not 'closed today'"
        assert screen.button_centre("service:CT") is None
        chrome.set_window_size(*DESKTOP)
        log_in(chrome, service.url, "admin")
        box = until(chrome, lambda d: d.find_element(By.ID, "clock-box").is_displayed()
                    and d.find_element(By.ID, "clock-box"), "the clock to confirm")
        assert "Giờ của hệ thống chưa được xác nhận" in box.text and "Giờ hệ thống:" in box.text
        assert "giờ của hệ thống chưa được xác nhận" in chrome.find_element(By.ID, "banner").text
        shoot(chrome, artifacts, "dashboard-clock", DESKTOP)
        chrome.find_element(By.ID, "confirm-clock").click()
        until(chrome, lambda d: "Đã xác nhận giờ" in d.find_element(By.ID, "outcome").text, "confirmed")
        until(chrome, lambda d: not d.find_element(By.ID, "clock-box").is_displayed(), "the box gone")
        assert kiosk.request("take", service="CT")["ticket"]["number"] == "A001"
        wait_for(lambda: "clock" not in kiosk.state(p.SITE_STATE), what="the site state without the hold")
        assert screen.frame().prompt == texts.TOUCH_A_SERVICE
        assert page_errors(chrome) == []
    finally:
        service.stop()
        hub.stop()
