"""`luot demo`: a whole centre on this machine.

Mosquitto with the generated configuration on a free loopback port, the
dispatcher on a fresh database, one kiosk, one hallway display and three
counters, each its own process under a small supervisor (a crashed one is
started again; Ctrl-C stops them all). Numbers may be taken at any hour: the
demo runs on a copy of the site file whose taking hours are all day.

With a screen, the kiosk and the display open windows and the counters are
driven from this terminal's keyboard. With no screen (`--headless`, or no
DISPLAY/WAYLAND_DISPLAY) it plays a scripted morning through the same
processes, then writes the tickets, the display's screenshots and the day's
report into the output folder and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import sys
import termios
import threading
import tty
from pathlib import Path
from typing import Any

import luot
from luot import protocol as p
from luot.config import ConfigError, SiteConfig
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from luot.protocol import Topics
from testbed.broker import mosquitto_binary
from testbed.centre import LocalCentre, wait_until
from testbed.supervisor import Supervisor
from tools import report

EXAMPLE_SITE = luot.EXAMPLE_SITE
COUNTERS = (1, 2, 3)
KIOSK_SIZE = "800x480"  # the official Raspberry Pi touch display; fits any laptop screen
DISPLAY_SIZE = "1280x720"
START_S = 45.0
STEP_S = 15.0
MAX_RESTARTS = 3

NEXT_KEYS = "123"
RECALL_KEYS = "qwe"
NOSHOW_KEYS = "asd"
TAKE_KEYS = "789"


class DemoError(Exception):
    """A step of the demo did not happen; the message says which and where to look."""


class StatusWatch:
    """Who is online: `device/+/status`, read as the site's admin device."""

    def __init__(self, centre: LocalCentre, admin: str) -> None:
        self.online: dict[str, bool] = {}
        topics = Topics(centre.site.id)
        pattern = topics.device_status("+")
        self._client = make_paho_client(centre.broker.settings(admin), unique_client_id(admin, "demo-watch"))
        self._client.on_connect = lambda c, *_: c.subscribe(pattern, qos=1)
        self._client.on_message = lambda _c, _u, msg: self.online.__setitem__(
            msg.topic.split("/")[-2], msg.payload == b"online"
        )
        self._client.connect_async(centre.broker.host, centre.broker.port)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


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
        files = {
            self.kiosk: self.centre.device_file(
                self.kiosk, f'[kiosk]\nprinter = "png://{self.tickets}"\nreturn_after_s = 4\n'),
            self.display: self.centre.device_file(
                self.display, f'[display]\nsound = {"true" if sound else "false"}\nvoice = "{voice}"\n'),
        }
        for number, device in self.counters.items():
            files[device] = self.centre.device_file(device, f"[counter]\nnumber = {number}\n")
        return files

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
        self.watch = StatusWatch(self.centre, self.admin)
        self.link = HubLink(broker.settings(self.admin), device_id=self.admin, site=self.site.id,
                            purpose="demo")
        self.link.start()
        everyone = [self.centre.hub_id, self.display, self.kiosk, *self.counters.values()]
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
        if self.watch is not None:
            self.watch.stop()
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

    def help(self) -> str:
        services = self.served()[: len(TAKE_KEYS)]
        takes = ", ".join(f"{k}={code}" for k, code in zip(TAKE_KEYS, services, strict=False))
        return "\n".join([
            "Keys (this terminal):",
            f"  {' '.join(NEXT_KEYS)}    NEXT at counter 1/2/3 (gọi số tiếp theo)",
            f"  {' '.join(RECALL_KEYS)}    RECALL at counter 1/2/3 (gọi lại)",
            f"  {' '.join(NOSHOW_KEYS)}    NO-SHOW at counter 1/2/3 (vắng mặt)",
            f"  {' '.join(TAKE_KEYS)}    take a number at the kiosk: {takes} (or touch the kiosk window)",
            "  h        this help;  x or Ctrl-C: stop everything",
        ])

    def key(self, char: str) -> bool:
        """Act on one key; False to stop."""
        services = self.served()
        for keys, line in ((NEXT_KEYS, "next"), (RECALL_KEYS, "recall"), (NOSHOW_KEYS, "noshow")):
            if char in keys:
                number = COUNTERS[keys.index(char)]
                self.supervisor.send(f"counter-{number}", line)
                print(f"counter {number}: {line.upper()}", flush=True)
                return True
        if char in TAKE_KEYS and TAKE_KEYS.index(char) < len(services):
            service = services[TAKE_KEYS.index(char)]
            self.supervisor.send("kiosk", service)
            print(f"kiosk: a number for {service}", flush=True)
            return True
        if char == "h":
            print(self.help(), flush=True)
        return char not in ("x", "\x04")


def _has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _read_keys(demo: Demo) -> None:
    """Until x or Ctrl-C: one key at a time from the terminal (no Enter needed) or a pipe."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd) if sys.stdin.isatty() else None
    keys_open = True
    try:
        if saved is not None:
            tty.setcbreak(fd)
        while not stop.is_set():
            if not keys_open:
                stop.wait(0.5)
                continue
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            key = os.read(fd, 1).decode("utf-8", "replace").lower()
            if not key:
                keys_open = False  # a pipe that ended: run on until Ctrl-C or SIGTERM
            elif not demo.key(key):
                break
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _build_voice(out: Path) -> bool:
    """The default voice pack (espeak-ng), once; False when it cannot be made here."""
    from display.voice import VoiceError, build_voice_pack

    try:
        build_voice_pack(out / "voice", keep_existing=True)
    except (VoiceError, OSError) as e:
        print(f"demo: calls will be shown but not spoken ({e})", flush=True)
        return False
    return True


def _headless(demo: Demo, tickets: int) -> int:
    print("No screen: playing a scripted morning through the same processes…", flush=True)
    calls = demo.scripted_morning(tickets, random.Random(2026))
    wait_until(lambda: len(list(demo.tickets.glob("*.png"))) >= tickets, STEP_S, 0.1)
    wait_until(lambda: len(list(demo.screenshots.glob("*.png"))) >= calls, STEP_S, 0.1)
    printed = sorted(demo.tickets.glob("*.png"))
    shots = sorted(demo.screenshots.glob("*.png"))
    demo.stop()
    if len(printed) < tickets or not shots:
        raise DemoError(f"{len(printed)} of {tickets} tickets printed and {len(shots)} screenshots; "
                        f"see {demo.logs}")
    db = sqlite3.connect(f"file:{demo.centre.database}?mode=ro", uri=True)
    try:
        first, last = db.execute("SELECT MIN(day), MAX(day) FROM tickets").fetchone()
    finally:
        db.close()
    code = report.main(["--db", str(demo.centre.database), "--site", str(demo.centre.site_file),
                        "--from", first, "--to", last, "--out", str(demo.out / "report")])
    if code != 0:
        raise DemoError("the day's report could not be written")
    summary = {"tickets": len(printed), "calls": calls, "screenshots": len(shots)}
    (demo.out / "demo.json").write_text(json.dumps(summary) + "\n")
    print()
    print(f"Done: {len(printed)} tickets, {calls} calls.")
    print(f"  tickets (as printed):  {demo.tickets}/")
    print(f"  display screenshots:   {demo.screenshots}/")
    print(f"  the day's report:      {demo.out / 'report' / 'summary.png'} (and CSV)")
    print(f"  logs of each process:  {demo.logs}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--headless", action="store_true",
                        help="no windows: play a scripted morning and write what it produced")
    parser.add_argument("--tickets", type=int, default=12,
                        help="numbers taken in the scripted morning (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"),
                        help="folder for tickets, screenshots, report and logs (default: %(default)s)")
    parser.add_argument("--site", type=Path, default=EXAMPLE_SITE,
                        help="the site file to copy (default: the example ward)")
    args = parser.parse_args(argv)
    if not 1 <= args.tickets <= 500:
        print("luot demo: --tickets must be 1 to 500")
        return 2
    headless = args.headless or not _has_screen()
    try:
        sound = not headless and _build_voice(args.out.resolve())
        demo = Demo(args.out, args.site, headless=headless, sound=sound)
    except (ConfigError, ValueError) as e:
        print(f"luot demo: configuration error: {e}")
        return 2
    print(f"Lượt demo: {demo.site.name}")
    print(f"  broker 127.0.0.1:{demo.centre.broker.port}, database {demo.centre.database}")
    try:
        demo.start()
        print("  hub, display, kiosk and counters 1–3 are online", flush=True)
        if headless:
            return _headless(demo, args.tickets)
        print(f"  tickets are printed as PNG into {demo.tickets}/; logs in {demo.logs}/")
        print(demo.help(), flush=True)
        demo.echo_calls()
        _read_keys(demo)
        return 0
    except DemoError as e:
        print(f"luot demo: {e}", flush=True)
        return 1
    finally:
        demo.stop()

