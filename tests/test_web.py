"""The hub's web service over HTTP, against the real broker and dispatcher: ticket links,
logins, CSRF, a console acting only for its counter, the dispatcher's own check of the web
device, server-sent events and the day's report."""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import WEB_PASSWORDS as PASSWORDS
from helpers import wait_for

from dispatcher.service import Dispatcher
from luot import protocol as p
from luot.mqtt import CommandRefused, command_expiry
from luot.ticket_link import TicketRef, make_token, read_token, ticket_url
from testbed.broker import Mosquitto
from testbed.web_service import TICKET_KEY, WebThread
from web.__main__ import main as web_main
from web.users import MAX_SESSIONS, LoginGuard, Sessions, Users


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def web(broker: Mosquitto, dispatcher: Any, site: Any, web_users: Path,
        clock: list[float]) -> Iterator[WebThread]:
    service = WebThread(broker.settings("web"), site.id, web_users,
                        guard=LoginGuard(limit=5, window_s=300, clock=lambda: clock[0]))
    service.start()
    wait_for(lambda: service.hub.link.state(p.SITE_STATE), what="site state at the web service")
    yield service
    service.stop()


class Browser:
    """A cookie-keeping HTTP client: what a browser does, without one."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    @staticmethod
    def csrf_of(page: bytes) -> str:
        found = re.search(r'name="csrf" (?:value|content)="([^"]+)"', page.decode())
        assert found, "no CSRF token in the page"
        return found[1]

    def login(self, user: str, password: str) -> tuple[int, bytes]:
        status, _, page = self.request("/login")
        assert status == 200
        form = urllib.parse.urlencode({"csrf": self.csrf_of(page), "user": user, "password": password})
        status, _, body = self.request("/login", form.encode())
        return status, body

    def command(self, path: str, body: dict[str, Any], csrf: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf
        status, _, raw = self.request(path, json.dumps(body).encode(), headers)
        return status, json.loads(raw)


def first_event(base: str, path: str, until: Any = None, timeout: float = 5.0,
                client: Browser | None = None) -> dict[str, Any]:
    """Read the stream until an event for which `until(view)` holds (the first one if None)."""
    opener = client.opener if client is not None else urllib.request.build_opener()
    with opener.open(base + path, timeout=timeout) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                view = json.loads(line[6:])
                if until is None or until(view):
                    return view
    raise AssertionError("the stream ended")


# ---------------------------------------------------------------------- pure parts

def test_a_ticket_token_names_its_ticket_and_nothing_else_opens() -> None:
    key = b"k" * 32
    ref = TicketRef("ward", "2026-12-02", 41, "CT", "A041")
    token = make_token(key, ref)
    assert read_token(key, "ward", token) == ref
    body, tag = token.split(".")
    edited = make_token(key, TicketRef("ward", "2026-12-02", 42, "CT", "A042")).split(".")[0]
    assert read_token(key, "ward", f"{edited}.{tag}") is None  # another ticket, the old tag
    assert read_token(key, "other-ward", token) is None
    assert read_token(b"x" * 32, "ward", token) is None
    for junk in ("", ".", "abc", f"{body}.", "a.b.c", "%%%.%%%", token + "A", "x" * 500):
        assert read_token(key, "ward", junk) is None


def test_logins_are_hashed_and_failures_limited(web_users: Path) -> None:
    text = web_users.read_text()
    assert "officer-pass-2" not in text and "counter-2:$7$" in text
    users = Users.load(web_users)
    assert users.check("counter-2", "officer-pass-2")
    assert not users.check("counter-2", "officer-pass-3")
    assert not users.check("counter-9", "anything")
    now = [0.0]
    guard = LoginGuard(limit=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert guard.wait_s("counter-2", "10.0.0.5") == 0
        guard.failed("counter-2", "10.0.0.5")
    assert guard.wait_s("counter-2", "10.0.0.9") > 0  # the user, from anywhere
    assert guard.wait_s("admin", "10.0.0.5") > 0  # the address, for any user
    assert guard.wait_s("admin", "10.0.0.9") == 0
    now[0] = 61.0
    assert guard.wait_s("counter-2", "10.0.0.5") == 0


def test_a_flood_of_login_forms_neither_grows_sessions_nor_logs_an_officer_out() -> None:
    now = [0.0]
    sessions = Sessions(clock=lambda: now[0])
    officer = sessions.new("counter-2")
    for _ in range(3 * MAX_SESSIONS):
        now[0] += 0.001
        sessions.new(None)
    assert len(sessions._by_id) <= MAX_SESSIONS + 1
    assert sessions.get(officer.sid) is officer
    now[0] += sessions.idle_s + 1
    assert sessions.get(officer.sid) is None  # idle too long: logged out


def test_luot_web_passwd_and_a_bad_web_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    users = tmp_path / "web-users"
    assert web_main(["passwd", "--users", str(users), "counter-4"]) == 0
    user, password = capsys.readouterr().out.strip().split(": ")
    assert user == "counter-4" and Users.load(users).check("counter-4", password)
    assert users.stat().st_mode & 0o777 == 0o600
    assert web_main(["passwd", "--users", str(users), "quay-4"]) == 2
    config = tmp_path / "web.toml"
    config.write_text('id = "web"\nrole = "web"\nsite = "test-ward"\n\n[broker]\nhost = "127.0.0.1"\n'
                      'password = "x"\n\n[web]\nticket_key = "short"\nprot = 8080\n')
    assert web_main(["--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "web.ticket_key" in out and "web.prot" in out  # every mistake at once


# ---------------------------------------------------------------------- against the hub

def test_a_ticket_page_follows_its_ticket_until_called(web: WebThread, connect: Any, site: Any) -> None:
    kiosk = connect("kiosk-1")
    replies = [kiosk.request("take", service="CT") for _ in range(3)]
    url = ticket_url(web.url, TICKET_KEY.encode(), site.id, replies[2]["ticket"])
    path = urllib.parse.urlsplit(url).path
    status, headers, _ = Browser(web.url).request(path)
    assert status == 200 and "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    view = first_event(web.url, f"{path}/events", lambda v: v["status"] == "waiting" and v["ahead"] == 2)
    assert view["number"] == replies[2]["ticket"]["number"] and view["field"]["code"] == "CT"
    assert {c["number"] for c in view["counters"]} == {c.number for c in site.counters if "CT" in c.services}
    officer = connect("quay-1")  # counter 1 serves CT only
    officer.request("next", counter=1)
    officer.request("next", counter=1)
    assert first_event(web.url, f"{path}/events", lambda v: v.get("ahead") == 0)["status"] == "waiting"
    officer.request("next", counter=1)
    called = first_event(web.url, f"{path}/events", lambda v: v["status"] == "called")
    assert called["counter"] == 1
    officer.request("next", counter=1)
    assert first_event(web.url, f"{path}/events", lambda v: v["status"] != "called")["status"] == "passed"


def test_a_forged_ticket_token_reveals_nothing(web: WebThread, connect: Any, site: Any) -> None:
    reply = connect("kiosk-1").request("take", service="CT")
    real = ticket_url(web.url, TICKET_KEY.encode(), site.id, reply["ticket"])
    forged = ticket_url(web.url, b"a guessed key of thirty-two char", site.id, reply["ticket"])
    client = Browser(web.url)
    for url in (forged, real[:-2] + "AA", web.url + "/t/" + "A" * 40):
        path = urllib.parse.urlsplit(url).path
        status, _, body = client.request(path)
        assert status == 404 and reply["ticket"]["number"].encode() not in body
        assert client.request(path + "/events")[0] == 404


def test_a_wrong_password_is_refused_and_attempts_are_limited(web: WebThread, clock: list[float]) -> None:
    client = Browser(web.url)
    for _ in range(5):
        status, body = client.login("counter-2", "not-the-password")
        assert status == 401 and "Sai tên đăng nhập hoặc mật khẩu" in body.decode()
    status, body = client.login("counter-2", PASSWORDS["counter-2"])
    assert status == 429 and "Quá nhiều lần thử sai" in body.decode()
    page = client.request("/console")[2]
    assert b'action="/login"' in page and b'name="counter"' not in page  # not logged in: the form
    clock[0] += 301
    status, body = client.login("counter-2", PASSWORDS["counter-2"])
    assert status == 200 and b'name="counter" content="2"' in body
    cookie = next(c for c in client.jar if c.name == "luot_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Strict"


def test_a_console_acts_only_for_its_counter_and_only_with_csrf(web: WebThread, connect: Any,
                                                                 dispatcher: Any) -> None:
    connect("kiosk-1").request("take", service="HT")
    client = Browser(web.url)
    status, page = client.login("counter-2", PASSWORDS["counter-2"])
    csrf = client.csrf_of(page)
    assert client.command("/console/2/next", {"expect": None}, None) == (403, {"ok": False, "error": "csrf"})
    assert client.command("/console/2/next", {"expect": None}, "wrong")[0] == 403
    assert dispatcher.snapshot()["counters"][2]["ticket"] is None  # nothing happened
    status, body = client.command("/console/3/next", {"expect": None}, csrf)
    assert (status, body["error"]) == (403, "forbidden")
    assert dispatcher.snapshot()["counters"][3]["ticket"] is None
    status, body = client.command("/console/2/next", {"expect": None}, csrf)
    assert status == 200 and body["ok"] and body["ticket"] == "B001"
    assert dispatcher.snapshot()["counters"][2]["ticket"]["number"] == "B001"
    status, body = client.command("/console/2/recall", {"expect": 999}, csrf)
    assert body == {"ok": False, "error": p.STALE, "detail": body["detail"]}  # the buttons' stale guard
    status, body = client.command("/console/2/transfer", {"expect": dispatcher.snapshot()["counters"][2]
                                                          ["ticket"]["id"], "service": "DD"}, csrf)
    assert body["ok"] and dispatcher.snapshot()["services"]["DD"]["waiting"] == 1
    assert client.command("/dashboard/close", {}, csrf)[0] == 401  # an officer is not the leader


def test_a_reprint_is_ordered_only_for_a_listed_ticket_and_silence_is_not_success(web: WebThread,
                                                                                  connect: Any) -> None:
    """An officer orders a reprint only of what a kiosk's health lists as unprinted, only while
    that kiosk is online; a kiosk that does not answer is reported as silent, never as printed."""
    client = Browser(web.url)
    assert client.command("/reprint/kiosk-1", {"number": "A007"}, "x")[1]["error"] == "login"
    _, page = client.login("counter-2", PASSWORDS["counter-2"])
    csrf = client.csrf_of(page)
    assert client.command("/reprint/kiosk-1", {"number": "A007"}, "wrong")[0] == 403
    assert client.command("/reprint/kiosk-1", {"number": "A007"}, csrf) == (
        409, {"ok": False, "error": "not_unprinted"})
    kiosk = connect("kiosk-1")  # a kiosk that keeps A007 unprinted but hears no orders
    kiosk.publish_health({"role": "kiosk", "unprinted": ["A007"]})
    wait_for(lambda: web.hub.snapshot().devices.get("kiosk-1", {}).get("health"), what="the kiosk's health")
    for wrong in ({"number": "A008"}, {"number": ["A007"]}, {}):
        assert client.command("/reprint/kiosk-1", wrong, csrf)[1]["error"] == "not_unprinted"
    assert client.command("/reprint/kiosk-9", {"number": "A007"}, csrf)[1]["error"] == "not_unprinted"
    web.service.reprint_wait_s = 1.0
    assert client.command("/reprint/kiosk-1", {"number": "A007"}, csrf) == (
        200, {"ok": False, "error": "kiosk_silent"})
    kiosk.stop()
    wait_for(lambda: web.hub.snapshot().devices["kiosk-1"]["status"] == "offline", what="the kiosk offline")
    assert client.command("/reprint/kiosk-1", {"number": "A007"}, csrf) == (
        409, {"ok": False, "error": "kiosk_offline"})


def test_the_clock_is_confirmed_only_as_the_dashboard_showed_it(web: WebThread) -> None:
    client = Browser(web.url)
    _, page = client.login("admin", PASSWORDS["admin"])
    csrf = client.csrf_of(page)
    now = datetime.now(UTC)
    for shown, answer in ((None, (400, "bad_schema")), ("yesterday", (400, "bad_schema")),
                          ("2026-12-03T10:00:00", (400, "bad_schema")),  # no zone: which 10:00?
                          ((now - timedelta(minutes=10)).isoformat(), (409, "clock_moved"))):
        status, body = client.command("/dashboard/confirm_clock", {"shown": shown}, csrf)
        assert (status, body["error"]) == answer, shown
    status, body = client.command("/dashboard/confirm_clock", {"shown": now.isoformat()}, csrf)
    assert (status, body["ok"]) == (200, True)
    officer = Browser(web.url)
    _, page = officer.login("counter-2", PASSWORDS["counter-2"])
    assert officer.command("/dashboard/confirm_clock", {"shown": now.isoformat()},
                           officer.csrf_of(page))[0] == 401  # the leader's alone


def test_the_dispatcher_refuses_the_web_device_for_a_counter_without_a_console(connect: Any,
                                                                              dispatcher: Any) -> None:
    web_device = connect("web")
    with pytest.raises(CommandRefused) as refused:
        web_device.request("next", counter=6)  # the inventory lists consoles for counters 1-5
    assert refused.value.code == p.FORBIDDEN
    assert web_device.request("pause", counter=5)["ok"]
    with pytest.raises(CommandRefused) as refused:
        web_device.request("take", service="CT")  # not a kiosk
    assert refused.value.code == p.FORBIDDEN


def test_the_leader_closes_the_day_and_downloads_the_report(web: WebThread, connect: Any,
                                                            dispatcher: Any) -> None:
    connect("kiosk-1").request("take", service="DD")
    client = Browser(web.url)
    status, page = client.login("admin", PASSWORDS["admin"])
    assert status == 200 and b"Dashboard" in page
    csrf = client.csrf_of(page)
    assert client.command("/dashboard/close", {}, None)[0] == 403
    assert dispatcher.snapshot()["site"]["open"] is True
    assert client.command("/dashboard/close", {}, csrf) == (200, {"ok": True, "op": "close", "ticket": None})
    assert dispatcher.snapshot()["site"]["open"] is False
    wait_for(lambda: web.hub.link.state(p.SITE_STATE)["open"] is False, what="the closed day at the web")
    kiosk = connect("kiosk-2")
    kiosk.publish_health({"paper": "out", "printer_fault": "out_of_paper"})
    connect("quay-7").stop()  # its last word: offline
    view = first_event(web.url, "/dashboard/events", client=client, until=lambda v: len(
        [d for d in v["devices"] if d["status"] == "offline" or d["paper"] == "out"]) >= 2)
    assert {"quay-7"} <= {d["id"] for d in view["devices"] if d["status"] == "offline"}
    assert [d["id"] for d in view["devices"] if d["paper"] == "out"] == ["kiosk-2"]
    assert view["open"] is False and view["today"]["issued"] == 1
    status, headers, body = client.request("/dashboard/report.csv")
    assert status == 200 and body.startswith("\ufeff".encode()) and "Đất đai".encode() in body
    assert "attachment" in headers["Content-Disposition"]
    status, headers, body = client.request("/dashboard/report.png")
    assert status == 200 and body.startswith(b"\x89PNG")
    assert Browser(web.url).request("/dashboard/report.csv")[0] == 401
    assert client.command("/dashboard/open", {}, csrf) == (200, {"ok": True, "op": "open", "ticket": None})
    assert dispatcher.snapshot()["site"]["open"] is True
    assert client.command("/dashboard/take", {}, csrf)[0] == 404  # only the day's two ops


def test_a_console_command_reported_failed_never_happens_later(broker: Mosquitto, site: Any, web_users: Path,
                                                               tmp_path: Path, connect: Any) -> None:
    """Broker up, dispatcher down: the officer is told NEXT got no answer, and when the hub
    returns nobody is called — the console's commands expire as the buttons' do."""
    database = tmp_path / "hub.db"
    first = Dispatcher(site, database, broker.settings("hub"))
    first.start()
    wait_for(lambda: first.client.is_connected() and first.batches > 0, what="the dispatcher")
    connect("kiosk-1").request("take", service="HT")
    service = WebThread(broker.settings("web"), site.id, web_users)
    service.service.command_timeout_s = 1.0
    service.start()
    try:
        client = Browser(service.url)
        _, page = client.login("counter-2", PASSWORDS["counter-2"])
        first.stop()  # its persistent session keeps collecting commands
        status, body = client.command("/console/2/next", {"expect": None}, client.csrf_of(page))
        assert (status, body) == (200, {"ok": False, "error": "hub_timeout"})
        expiry, wait = command_expiry(1.0)
        time.sleep(expiry + 1.0 - wait + 0.1)  # past the broker's whole-second rounding
        second = Dispatcher(site, database, broker.settings("hub"))
        second.start()
        try:
            wait_for(lambda: second.batches > 0, what="the second dispatcher")
            assert connect("quay-1").request("pause", counter=1, timeout=5)["ok"]  # it serves again
            assert second.snapshot()["counters"][2]["ticket"] is None
            assert second.snapshot()["services"]["HT"]["waiting"] == 1
        finally:
            second.stop()
    finally:
        service.stop()

