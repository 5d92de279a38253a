"""The `[kiosk]` table of the kiosk's device.toml, validated key by key.

```toml
[kiosk]
printer = "usb://04b8:0e15"       # or serial:///dev/ttyUSB0?baudrate=19200, tcp://10.0.0.9:9100,
                                  # file:///dev/usb/lp0, cups://queue, png:///var/lib/luot/tickets
profile = "TM-T20II"              # python-escpos profile: its pixel width sizes the ticket
citizen_secret = "…"              # the same on every kiosk of the site (CCCD hashing)
scanner = "/dev/ttyACM0"          # optional CCCD QR scanner in serial mode
scanner_baudrate = 9600
return_after_s = 8                # back to the start screen after showing a number
follow_url = "http://luot-hub.local:8080"   # the hub's web service: the ticket's QR opens its live page
ticket_key = "…"                  # the web service's ticket_key (both or neither)
```
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from escpos.capabilities import get_profile

from luot.config import DeviceConfig, Section

PRINTER_SCHEMES = ("usb", "serial", "tcp", "file", "cups", "png")
_USB_IDS = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")
DEFAULT_PROFILE = "TM-T88V"


@dataclass(frozen=True)
class PrinterTarget:
    """Where tickets go, parsed from the printer URL."""

    scheme: str
    path: str = ""
    host: str = ""
    port: int = 0
    vendor: int = 0
    product: int = 0
    baudrate: int = 9600
    url: str = ""


@dataclass(frozen=True)
class KioskSettings:
    printer: PrinterTarget
    profile: str
    paper_px: int
    citizen_secret: str | None
    scanner: str | None
    scanner_baudrate: int
    return_after_s: float
    follow_url: str | None = None
    ticket_key: str | None = None


def profile_width(name: str) -> int | None:
    """The printable width in dots of a python-escpos printer profile, or None if unknown."""
    try:
        pixels = get_profile(name).profile_data["media"]["width"]["pixels"]
    except Exception:
        return None
    return pixels if isinstance(pixels, int) else None


def parse_printer_url(url: str) -> PrinterTarget:
    """`usb://VID:PID`, `serial:///dev/ttyUSB0?baudrate=N`, `tcp://host[:port]`,
    `file:///dev/usb/lp0`, `cups://queue`, `png:///folder`; ValueError says what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme not in PRINTER_SCHEMES:
        raise ValueError(f"expected a URL starting with {', '.join(s + '://' for s in PRINTER_SCHEMES)}")
    query = parse_qs(parts.query)
    if scheme != "serial" and query:
        raise ValueError(f"a {scheme}:// printer takes no ?options")
    if scheme == "usb":
        ids = _USB_IDS.match(parts.netloc)
        if not ids:
            raise ValueError("expected usb://VID:PID in hex, such as usb://04b8:0e15")
        return PrinterTarget("usb", vendor=int(ids[1], 16), product=int(ids[2], 16), url=url)
    if scheme == "serial":
        unknown = sorted(set(query) - {"baudrate"})
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r}; a serial printer takes ?baudrate=N")
        baud = query.get("baudrate", ["9600"])[-1]
        if not baud.isdigit() or int(baud) not in (2400, 4800, 9600, 19200, 38400, 57600, 115200):
            raise ValueError(f"baudrate {baud!r} is not one of 2400 … 115200")
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError("expected serial:///dev/ttyUSB0 (three slashes, then the port)")
        return PrinterTarget("serial", path=parts.path, baudrate=int(baud), url=url)
    if scheme == "tcp":
        try:
            port = parts.port or 9100
        except ValueError:
            raise ValueError("expected tcp://host:port with a numeric port") from None
        if not parts.hostname:
            raise ValueError("expected tcp://host:9100")
        return PrinterTarget("tcp", host=parts.hostname, port=port, url=url)
    if scheme == "cups":
        if not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("expected cups://queue-name")
        return PrinterTarget("cups", path=parts.netloc, url=url)
    path = parts.netloc + parts.path
    if not path:
        raise ValueError(f"expected {scheme}:///path")
    return PrinterTarget(scheme, path=path, url=url)


def load_kiosk_settings(device: DeviceConfig) -> KioskSettings:
    with device.role_section() as section:
        settings = _read_kiosk(section)
    target = settings.printer
    library = {"usb": "usb", "cups": "cups"}.get(target.scheme)
    if library is not None and importlib.util.find_spec(library) is None:
        package = {"usb": "pyusb", "cups": "pycups"}[target.scheme]
        raise device.error("kiosk.printer", f"{target.scheme}:// printers need {package} "
                           f"(pip install {package})")
    if target.scheme == "png" and not Path(target.path).parent.exists():
        raise device.error("kiosk.printer", f"folder {Path(target.path).parent} does not exist")
    return settings


def _read_kiosk(section: Section) -> KioskSettings:
    url = section.str("printer")
    try:
        target = parse_printer_url(url)
    except ValueError as e:
        section.problem("printer", f"{e}; got {url!r}")
        target = PrinterTarget("png", path="/dev/null", url=url)
    profile = section.str("profile", DEFAULT_PROFILE)
    width = profile_width(profile)
    if width is None:
        section.problem(
            "profile", f"{profile!r} is not a python-escpos profile with a known paper width "
            "(such as TM-T88V, TM-T20II, POS-5890)"
        )
        width = 0
    secret = section.str("citizen_secret", None)
    if secret is not None and len(secret) < 16:
        section.problem("citizen_secret", "expected at least 16 characters (the same on every kiosk)")
    scanner = section.str("scanner", None)
    if scanner is not None and secret is None:
        section.problem("scanner", "a CCCD scanner needs citizen_secret to hash ID numbers")
    follow_url, ticket_key = section.str("follow_url", None), section.str("ticket_key", None)
    if (follow_url is None) != (ticket_key is None):
        section.problem("follow_url" if follow_url is None else "ticket_key",
                        "follow_url and ticket_key go together (the web service's public_url and key)")
    return KioskSettings(
        follow_url=follow_url,
        ticket_key=ticket_key,
        printer=target,
        profile=profile,
        paper_px=width,
        citizen_secret=secret,
        scanner=scanner,
        scanner_baudrate=section.int("scanner_baudrate", 9600, min=1200, max=921600),
        return_after_s=section.float("return_after_s", 8.0, min=2.0),
    )
