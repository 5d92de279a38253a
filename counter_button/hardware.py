"""gpiozero devices for the pins of `[counter]`: buttons, status LED, optional buzzer.

gpiozero's `bounce_time` is ignored by its mock pins and varies between pin
libraries, so buttons are created without it and the node debounces itself.
Each device gets the pin factory it is given (gpiozero's own default when None),
so tests and the keyboard demo hand in a MockFactory instead of setting a global.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpiozero import LED, Button, Buzzer, Factory

from counter_button.settings import CounterSettings


class Hardware:
    def __init__(self, settings: CounterSettings, pin_factory: Factory | None = None) -> None:
        self.pull_up = settings.pull_up
        self.buttons: dict[str, Button] = {}
        self.led: LED | None = None
        self.buzzer: Buzzer | None = None
        try:
            for name, pin in settings.pins.items():
                self.buttons[name] = Button(pin, pull_up=settings.pull_up, bounce_time=None,
                                            pin_factory=pin_factory)
            if settings.rating:
                for i, pin in enumerate(settings.rating.pins):
                    self.buttons[f"rate{i + 1}"] = Button(pin, pull_up=settings.pull_up, bounce_time=None,
                                                          pin_factory=pin_factory)
            if settings.led_pin is not None:
                self.led = LED(settings.led_pin, pin_factory=pin_factory)
            if settings.buzzer_pin is not None:
                self.buzzer = Buzzer(settings.buzzer_pin, pin_factory=pin_factory)
        except Exception:
            self.close()
            raise

    def attach(self, edge: Callable[[str, bool], None]) -> None:
        """Send every pin change to `edge(button, pressed)`."""
        for name, button in self.buttons.items():
            button.when_pressed = _edge(edge, name, True)
            button.when_released = _edge(edge, name, False)

    def is_pressed(self, name: str) -> bool:
        return bool(self.buttons[name].is_pressed)

    def light(self, on: bool) -> None:
        if self.led is not None:
            self.led.value = on

    def beep(self, times: int, seconds: float) -> None:
        if self.buzzer is not None:
            self.buzzer.blink(on_time=seconds, off_time=seconds, n=times, background=True)

    def pin(self, name: str) -> Any:
        """The pin object behind a button (a MockPin in tests and in the keyboard demo)."""
        return self.buttons[name].pin

    def close(self) -> None:
        for device in [*self.buttons.values(), self.led, self.buzzer]:
            if device is not None:
                device.close()


def _edge(edge: Callable[[str, bool], None], name: str, pressed: bool) -> Callable[[], None]:
    def changed() -> None:
        edge(name, pressed)

    return changed
