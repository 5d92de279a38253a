"""The counter's pure parts on a fake clock: the light's patterns and the debounce."""

from __future__ import annotations

import pytest

from counter_button.buttons import Debouncer
from counter_button.light import FLASH_S, Light


def levels(light: Light, start: float, end: float, step: float = 0.01) -> list[tuple[float, bool]]:
    """(time, level) at each change between start and end, sampled every `step`."""
    changes: list[tuple[float, bool]] = []
    for i in range(round((end - start) / step)):
        now = start + i * step
        level = light.level(now)
        if not changes or changes[-1][1] != level:
            changes.append((now, level))
    return changes


def test_steady_has_no_deadline_and_stays_on():
    written: list[bool] = []
    light = Light(written.append)
    light.set("steady", 0.0)
    assert light.update(0.0) is None
    assert light.update(100.0) is None
    assert written == [True]


def test_slow_blink_is_one_second_per_level():
    light = Light(lambda _: None)
    light.set("slow", 10.0)
    changes = levels(light, 10.0, 14.0)
    assert [t for t, _ in changes] == pytest.approx([10.0, 11.0, 12.0, 13.0], abs=0.011)
    assert [lvl for _, lvl in changes] == [True, False, True, False]
    assert light.update(10.5) == pytest.approx(11.0)


def test_fast_blink_is_a_tenth_of_a_second_per_level():
    light = Light(lambda _: None)
    light.set("fast", 0.0)
    changes = levels(light, 0.0, 0.55)
    assert [t for t, _ in changes] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], abs=0.011)
    assert [lvl for _, lvl in changes] == [True, False, True, False, True, False]


def test_a_flash_winks_the_steady_light_off_once():
    written: list[bool] = []
    light = Light(written.append)
    light.set("steady", 0.0)
    light.update(0.0)
    light.flash(5.0)
    assert light.update(5.0) == pytest.approx(5.0 + FLASH_S)
    assert light.update(5.0 + FLASH_S) is None
    assert written == [True, False, True]


def test_setting_the_same_pattern_keeps_its_phase():
    light = Light(lambda _: None)
    light.set("slow", 0.0)
    light.set("slow", 0.5)
    assert light.level(1.2) is False


def test_an_unknown_pattern_is_refused():
    with pytest.raises(ValueError, match="no light pattern"):
        Light(lambda _: None).set("disco", 0.0)


class Pin:
    def __init__(self) -> None:
        self.pressed = False


def test_bounce_on_press_and_release_makes_one_press_and_one_release():
    pin = Pin()
    d = Debouncer(0.03, lambda: pin.pressed)
    seen = []
    # Press: the first edge counts at once, the bounce after it does not.
    for t, level in [(1.000, True), (1.002, False), (1.004, True), (1.007, False), (1.009, True)]:
        pin.pressed = level
        seen.append(d.edge(level, t))
    assert seen == [True, None, None, None, None]
    assert d.settle(1.030) is None and d.settle(1.040) is None  # still pressed: nothing new
    # Release with bounce.
    seen = []
    for t, level in [(1.500, False), (1.501, True), (1.503, False)]:
        pin.pressed = level
        seen.append(d.edge(level, t))
    assert seen == [False, None, None]
    assert d.settle(1.540) is None


def tapped(down: float, up: float) -> Debouncer:
    """A press read at once, and its release at `up`, too soon after it to be read yet."""
    pin = Pin()
    d = Debouncer(0.03, lambda: pin.pressed)
    pin.pressed = True
    assert d.edge(True, down) is True
    pin.pressed = False
    assert d.edge(False, up) is None
    return d


def test_a_release_hidden_in_the_bounce_is_read_when_the_quiet_time_ends():
    d = tapped(2.0, 2.01)  # a quick tap: the release falls inside the debounce time
    assert d.settle(2.02) is None  # not yet
    assert d.settle(2.03) is False  # the pin is read again: released
    assert d.settle_at == pytest.approx(2.06)


def test_a_glitch_shorter_than_the_debounce_time_still_counts_once():
    d = tapped(3.0, 3.001)
    assert d.settle(3.03) is False
    assert d.settle(3.06) is None
