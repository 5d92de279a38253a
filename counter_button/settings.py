"""The `[counter]` table of device.toml, validated before anything starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luot.config import ConfigError, DeviceConfig, Section
from luot.ledboard import BusConfig
from luot.protocol import RATINGS

# The officer's buttons, in the order of the label sheet.
BUTTONS = ("next", "recall", "noshow", "transfer", "pause")
# BCM numbers that are free on a Pi with nothing else attached (no I2C, SPI or UART pins).
DEFAULT_PINS = {"next": 17, "recall": 27, "noshow": 22, "transfer": 23, "pause": 24}
DEFAULT_LED_PIN = 25
DEFAULT_RATING_PINS = (5, 6, 13, 19, 26)
# Three buttons are the top, middle and bottom of the ministry's five levels.
SCORES = {5: (5, 4, 3, 2, 1), 3: (5, 3, 1)}

Pin = int | str


def pin_reader(file: str) -> Callable[[Any, str], Pin]:
    """Reads a BCM number (17) or a gpiozero pin name ("GPIO17", "BOARD11")."""

    def read(value: Any, key: str) -> Pin:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConfigError(file, key, f"expected a GPIO number such as 17 or a name such as \"GPIO17\"; "
                                         f"got {value!r}")
        if isinstance(value, int) and not 0 <= value <= 53:
            raise ConfigError(file, key, f"expected a GPIO number 0 to 53; got {value}")
        if isinstance(value, str) and not value.strip():
            raise ConfigError(file, key, "expected a pin name such as \"GPIO17\"; got an empty string")
        return value

    return read


@dataclass(frozen=True)
class RatingSettings:
    pins: tuple[Pin, ...]
    scores: tuple[int, ...]
    window_s: float

    def label(self, index: int) -> tuple[str, str]:
        return RATINGS[self.scores[index]]


@dataclass(frozen=True)
class CounterSettings:
    number: int
    pins: dict[str, Pin]
    pull_up: bool
    debounce_s: float
    hold_s: float
    transfer_window_s: float
    error_s: float
    led_pin: Pin | None
    buzzer_pin: Pin | None
    rating: RatingSettings | None
    board: BusConfig | None
    board_address: int


def read_settings(device: DeviceConfig, *, default_rating: bool = False) -> CounterSettings:
    """Validate `[counter]`; `default_rating` adds five rating pins when none are configured
    (the keyboard demo, where every button exists)."""
    device.require_role("counter", "counter")
    with device.role_section() as s:
        return _read_counter(s, device.file, default_rating)


def _read_counter(s: Section, file: str, default_rating: bool) -> CounterSettings:
    number = s.int("number", min=1, max=999)
    p = s.section("pins")
    pin = pin_reader(file)
    pins = {name: p.value(name, pin, DEFAULT_PINS[name]) for name in BUTTONS}
    led_pin = p.value("led", pin, DEFAULT_LED_PIN)
    buzzer_pin = p.value("buzzer", pin, None)
    rating = _read_rating(s.section("rating"), file, default_rating)
    used: dict[str, str] = {}
    named = [(pins[n], f"pins.{n}") for n in BUTTONS] + [(led_pin, "pins.led")]
    named += [(buzzer_pin, "pins.buzzer")] if buzzer_pin is not None else []
    named += [(pin, f"rating.pins[{i}]") for i, pin in enumerate(rating.pins if rating else ())]
    for pin, key in named:
        if str(pin) in used:
            s.problem(key, f"pin {pin} is already used by {used[str(pin)]}")
        used[str(pin)] = f"counter.{key}"
    board, address = None, 1
    if s.has("board"):
        b = s.section("board")
        board = BusConfig.from_section(b)
        address = board.address(b, default=1)
    return CounterSettings(
        number=number,
        pins=pins,
        pull_up=s.bool("pull_up", True),
        debounce_s=s.int("debounce_ms", 40, min=1, max=500) / 1000,
        hold_s=s.float("hold_s", 1.5, min=0.5),
        transfer_window_s=s.float("transfer_window_s", 2.0, min=0.5),
        error_s=s.float("error_s", 3.0, min=0.5),
        led_pin=led_pin,
        buzzer_pin=buzzer_pin,
        rating=rating,
        board=board,
        board_address=address,
    )


def _read_rating(r: Section, file: str, default_rating: bool) -> RatingSettings | None:
    window_s = r.float("window_s", 60.0, min=5.0)
    if not r.has("pins"):
        return RatingSettings(DEFAULT_RATING_PINS, SCORES[5], window_s) if default_rating else None
    pins = tuple(r.list("pins", pin_reader(file)))
    if len(pins) not in SCORES:
        raise r.error("pins", f"expected 5 or 3 rating buttons, best first; got {len(pins)}")
    return RatingSettings(pins, SCORES[len(pins)], window_s)
