"""The demo's centre: its processes, their files, and the steps a person or a script takes.

What runs, and why, is told in `tools/demo/__init__.py`.
"""

from __future__ import annotations

import random
import secrets
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

import luot
from luot import protocol as p
from luot.config import ConfigError, SiteConfig
from luot.mqtt import HubLink
from testbed.broker import free_port, mosquitto_binary
from testbed.centre import LocalCentre, wait_until
from testbed.supervisor import Supervisor
from testbed.web_service import web_table
from web.users import ADMIN, counter_user, set_password

EXAMPLE_SITE = luot.EXAMPLE_SITE
COUNTERS = (1, 2, 3)
KIOSK_SIZE = "800x480"  # the official Raspberry Pi touch display; fits any laptop screen
DISPLAY_SIZE = "1280x720"
START_S = 45.0
STEP_S = 15.0
MAX_RESTARTS = 3


class DemoError(Exception):
    """A step of the demo did not happen; the message says which and where to look."""


class StatusWatch:
    """Who is online: `device/+/status`, on the admin device's own link (made before it starts)."""

    def __init__(self, link: HubLink) -> None:
        self.online: dict[str, bool] = {}
        link.watch(f"{p.DEVICE}+/status", 1, self._on_status)

    def _on_status(self, topic: str, payload: bytes) -> None:
        self.online[topic.split("/")[-2]] = payload == b"online"


class Demo:
    """The centre's processes, their files, and the steps a person or a script takes."""

    def __init__(self, out: Path, site_file: Path, *, headless: bool, sound: bool) -> None:
        self.out = out.resolve()
        self.headless = headless
        centre_dir = self.out / "centre"
        if centre_dir.exists():
            shutil.rmtree(centre_dir)  # a fresh database and broker every time
        for folder in ("tickets", "screenshots", "report"):
            shutil.rmtree(self.out / folder, ignore_errors=True)
        self.centre = LocalCentre(centre_dir, site_file)
        self.site: SiteConfig = self.centre.site
        self.tickets = self.out / "tickets"
        self.screenshots = self.out / "screenshots"
        self.logs = self.out / "logs"
        shutil.rmtree(self.logs, ignore_errors=True)
        self.kiosk = self._first("kiosk")
        self.display = self._first("display")
        self.admin = self._first("admin")
        self.counters = {n: self.centre.counter_device(n) for n in COUNTERS}
        self.web = next(iter(self.centre.device_ids("web")), None)
        self.web_port = free_port()
        self.ticket_key = secrets.token_urlsafe(24)
        self.logins = {ADMIN: secrets.token_urlsafe(9)}
        self.logins |= {counter_user(n): secrets.token_urlsafe(9) for n in COUNTERS}
        self.files = self._device_files(sound)
        env = {"PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        if headless:
            env |= {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
        self.env = env
        self.supervisor = Supervisor(on_exit=self._on_exit)
        self.link: HubLink | None = None
        self.watch: StatusWatch | None = None

    def _first(self, role: str) -> str:
        ids = self.centre.device_ids(role)
        if not ids:
            raise ConfigError(self.centre.site_file, "devices", f"the inventory needs a {role} device")
        return ids[0]

    def _device_files(self, sound: bool) -> dict[str, Path]:
        voice = self.out / "voice"
        follow = "" if self.web is None else (
            f'follow_url = "{self.web_url}"\nticket_key = "{self.ticket_key}"\n')
        files = {
            self.kiosk: self.centre.device_file(
                self.kiosk, f'[kiosk]\nprinter = "png://{self.tickets}"\nreturn_after_s = 4\n' + follow),
            self.display: self.centre.device_file(
                self.display, f'[display]\nsound = {"true" if sound else "false"}\nvoice = "{voice}"\n'),
        }
        for number, device in self.counters.items():
            files[device] = self.centre.device_file(device, f"[counter]\nnumber = {number}\n")
        if self.web is not None:
            users = self.centre.workdir / "web-users"
            for user, password in self.logins.items():
                set_password(users, user, password)
            files[self.web] = self.centre.device_file(
                self.web, web_table(users, port=self.web_port, ticket_key=self.ticket_key))
        return files

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def pages(self) -> list[str]:
        """The four pages of the web service and their logins, as the demo prints them."""
        if self.web is None:
            return ["  (no web device in the site's inventory: no pages)"]
        counters = ", ".join(f"{counter_user(n)} / {self.logins[counter_user(n)]}" for n in COUNTERS)
        return [
            f"  board (a TV's browser):      {self.web_url}/board",
            f"  officers' consoles:          {self.web_url}/login   ({counters})",
            f"  the leader's dashboard:      {self.web_url}/login?user=admin   "
            f"(admin / {self.logins[ADMIN]})",
            f"  a ticket's page on a phone:  {self.web_url}/t/…   (the QR code printed on each ticket)",
        ]

    # ------------------------------------------------------------------ processes

    def _luot(self, command: str, device: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "luot", command, "--config", str(self.files[device]), *extra]

    def start(self) -> None:
        sup = self.supervisor
        log = self.logs
        broker = self.centre.broker
        sup.add("mosquitto", [mosquitto_binary(), "-c", str(broker.files.conf)],
                log_file=log / "mosquitto.log")
        sup.start()
        if not wait_until(self._broker_listening, 10):
            raise DemoError(f"Mosquitto did not start: see {broker.log_file}")
        sup.add("dispatcher", self.centre.dispatcher_argv(), env=self.env, log_file=log / "dispatcher.log")
        # Windowed even with no screen: SDL's dummy driver keeps a window's size, not a full screen's.
        window = ["--windowed"]
        sup.add("display", self._luot("display", self.display, *window, "--size", DISPLAY_SIZE,
                                      "--screenshots", str(self.screenshots)),
                env=self.env, log_file=log / "display.log")
        sup.add("kiosk", self._luot("kiosk", self.kiosk, *window, "--size", KIOSK_SIZE, "--keys"),
                env=self.env, stdin=True, log_file=log / "kiosk.log")
        for number, device in self.counters.items():
            sup.add(f"counter-{number}", self._luot("counter", device, "--keys"),
                    env=self.env, stdin=True, log_file=log / f"counter-{number}.log")
        if self.web is not None:
            sup.add("web", self._luot("web", self.web), env=self.env, log_file=log / "web.log")
        self.link = HubLink(broker.settings(self.admin), device_id=self.admin, site=self.site.id,
                            purpose="demo")
        self.watch = StatusWatch(self.link)
        self.link.start()
        everyone = [self.centre.hub_id, self.display, self.kiosk, *self.counters.values()]
        everyone += [self.web] if self.web is not None else []
        if not wait_until(lambda: self._all_online(everyone), START_S, step=0.1):
            late = [d for d in everyone if not self.watch.online.get(d)]  # type: ignore[union-attr]
            raise DemoError(f"not online after {START_S:.0f} s: {', '.join(late)}; logs in {log}")

    def _broker_listening(self) -> bool:
        try:
            with socket.create_connection((self.centre.broker.host, self.centre.broker.port), timeout=0.2):
                return True
        except OSError:
            return False

    def _all_online(self, devices: list[str]) -> bool:
        if self.watch is None:
            return False
        crashed = [c.name for c in self.supervisor.children.values() if c.restarts > MAX_RESTARTS]
        if crashed:
            raise DemoError(f"{', '.join(crashed)} keeps crashing: see {self.logs}")
        return all(self.watch.online.get(d) for d in devices)

    def _on_exit(self, child: Any, code: int) -> None:
        print(f"demo: {child.name} exited with {code}; "
              + ("it is started again" if code else "it finished"), flush=True)

    def stop(self) -> None:
        if self.link is not None:
            self.link.stop()
            self.link = None
        self.watch = None
        self.supervisor.stop()

    # ------------------------------------------------------------------ what people do

    def state(self, topic: str) -> dict[str, Any]:
        assert self.link is not None
        return self.link.state(topic) or {}

    def take(self, service: str) -> None:
        """A citizen touches `service` at the kiosk; returns once the number is issued."""
        before = self.state(p.SITE_STATE)

        def issued() -> bool:
            now = self.state(p.SITE_STATE)  # a new day (midnight) starts the numbers again
            return now.get("issued", 0) > before.get("issued", 0) or now.get("day") != before.get("day")

        self.supervisor.send("kiosk", service)
        if not wait_until(issued, STEP_S, 0.05):
            raise DemoError(f"the kiosk issued no number for {service}: see {self.logs / 'kiosk.log'}")

    def press(self, counter: int, line: str) -> None:
        """An officer presses a button at a counter; returns once the call is made."""
        topic = p.counter_state(counter)
        before = self.state(topic).get("call_seq", 0)
        site = self.state(p.SITE_STATE)
        self.supervisor.send(f"counter-{counter}", line)
        if not wait_until(lambda: self.state(topic).get("call_seq", 0) > before, STEP_S, 0.05):
            raise DemoError(f"counter {counter} did not call after {line!r}: "
                            f"see {self.logs / f'counter-{counter}.log'}")
        if line != "recall":
            # The site's state comes last in the dispatcher's batch: once it has changed,
            # the services' waiting counts are current too.
            wait_until(lambda: self.state(p.SITE_STATE) != site, STEP_S, 0.02)

    def waiting_for(self, counter: int) -> int:
        entry = self.site.counter(counter)
        assert entry is not None
        return sum(self.state(p.service_state(code)).get("waiting", 0) for code in entry.services)

    # ------------------------------------------------------------------ the scripted morning

    def scripted_morning(self, tickets: int, rng: random.Random) -> int:
        """Citizens take numbers; officers call, recall and mark a no-show; returns calls made."""
        served = self.served()
        weights = [3 if code == served[0] else 1 for code in served]
        calls = 0
        recalled = noshow = False
        for i in range(tickets):
            service = rng.choices(served, weights)[0]
            self.take(service)
            print(f"  kiosk: a number for {service} ({i + 1}/{tickets})", flush=True)
            if i % 2 == 1:
                calls += self._call_someone(rng)
        while any(self.waiting_for(n) for n in COUNTERS):
            calls += self._call_someone(rng)
            if calls >= 3 and not recalled and self.state("state/counter/1").get("ticket"):
                self.press(1, "recall")
                print("  counter 1: RECALL", flush=True)
                recalled = True
                calls += 1
            if calls >= 4 and not noshow and self.state("state/counter/2").get("ticket") \
                    and self.waiting_for(2):
                self.press(2, "noshow")
                print("  counter 2: no-show", flush=True)
                noshow = True
                calls += 1
        return calls

    def _call_someone(self, rng: random.Random) -> int:
        ready = [n for n in COUNTERS if self.waiting_for(n)]
        if not ready:
            return 0
        counter = rng.choice(ready)
        self.press(counter, "next")
        ticket = self.state(p.counter_state(counter)).get("ticket") or {}
        print(f"  counter {counter}: NEXT → {ticket.get('number')}", flush=True)
        return 1

    # ------------------------------------------------------------------ the keyboard

    def echo_calls(self) -> None:
        """Print each call and each number taken, as the hall would hear and see them."""
        assert self.link is not None

        def on_message(topic: str, payload: object, retained: bool) -> None:
            if topic == p.CALL_EVENT and isinstance(payload, dict) and not retained:
                ticket = payload.get("ticket") or {}
                again = " (gọi lại)" if payload.get("recall") else ""
                print(f"  → Mời công dân có số thứ tự {ticket.get('number')} đến "
                      f"{payload.get('counter_name')}{again}", flush=True)

        self.link.add_handler(on_message)

    def served(self) -> list[str]:
        """The services counters 1–3 serve, in the site's order: what the kiosk keys take."""
        codes = {code for n in COUNTERS for code in self.site.counter(n).services}  # type: ignore[union-attr]
        return [s.code for s in self.site.services if s.code in codes]
