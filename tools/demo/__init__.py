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
import sqlite3
from pathlib import Path

from luot.config import ConfigError
from testbed.centre import wait_until
from tools import report
from tools.demo.centre import EXAMPLE_SITE, STEP_S, Demo, DemoError
from tools.demo.keyboard import help_text, press_key, read_keys

__all__ = ["EXAMPLE_SITE", "Demo", "main", "read_keys"]


def _has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


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
    except ConfigError as e:
        print(e.explain("luot demo: configuration error: "))
        return 2
    except ValueError as e:
        print(f"luot demo: configuration error: {e}")
        return 2
    print(f"Lượt demo: {demo.site.name}")
    print(f"  broker 127.0.0.1:{demo.centre.broker.port}, database {demo.centre.database}")
    try:
        demo.start()
        web = " and the web service" if demo.web is not None else ""
        print(f"  hub, display, kiosk, counters 1–3{web} are online", flush=True)
        print("\n".join(demo.pages()), flush=True)
        if headless:
            return _headless(demo, args.tickets)
        print(f"  tickets are printed as PNG into {demo.tickets}/; logs in {demo.logs}/")
        print(help_text(demo), flush=True)
        demo.echo_calls()
        read_keys(lambda key: press_key(demo, key))
        return 0
    except DemoError as e:
        print(f"luot demo: {e}", flush=True)
        return 1
    finally:
        demo.stop()

