"""The windowed demo driven from this terminal: a key a press, no Enter needed."""

from __future__ import annotations

import os
import select
import signal
import sys
import termios
import threading
import tty
from collections.abc import Callable

from tools.demo.centre import COUNTERS, Demo

NEXT_KEYS = "123"
RECALL_KEYS = "qwe"
NOSHOW_KEYS = "asd"
TAKE_KEYS = "789"


def help_text(demo: Demo) -> str:
    """The keys of the windowed demo, as its terminal shows them."""
    services = demo.served()[: len(TAKE_KEYS)]
    takes = ", ".join(f"{k}={code}" for k, code in zip(TAKE_KEYS, services, strict=False))
    return "\n".join([
        "Keys (this terminal):",
        f"  {' '.join(NEXT_KEYS)}    NEXT at counter 1/2/3 (gọi số tiếp theo)",
        f"  {' '.join(RECALL_KEYS)}    RECALL at counter 1/2/3 (gọi lại)",
        f"  {' '.join(NOSHOW_KEYS)}    NO-SHOW at counter 1/2/3 (vắng mặt)",
        f"  {' '.join(TAKE_KEYS)}    take a number at the kiosk: {takes} (or touch the kiosk window)",
        "  h        this help;  x or Ctrl-C: stop everything",
    ])

def press_key(demo: Demo, char: str) -> bool:
    """Act on one key; False to stop."""
    services = demo.served()
    for keys, line in ((NEXT_KEYS, "next"), (RECALL_KEYS, "recall"), (NOSHOW_KEYS, "noshow")):
        if char in keys:
            number = COUNTERS[keys.index(char)]
            demo.supervisor.send(f"counter-{number}", line)
            print(f"counter {number}: {line.upper()}", flush=True)
            return True
    if char in TAKE_KEYS and TAKE_KEYS.index(char) < len(services):
        service = services[TAKE_KEYS.index(char)]
        demo.supervisor.send("kiosk", service)
        print(f"kiosk: a number for {service}", flush=True)
        return True
    if char == "h":
        print(help_text(demo), flush=True)
    return char not in ("x", "\x04")


def read_keys(on_key: Callable[[str], bool]) -> None:
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
            elif not on_key(key):
                break
    finally:
        if saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
