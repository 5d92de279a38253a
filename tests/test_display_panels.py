"""The board's recent-calls panel and waiting table with a whole day of calls and every field,
drawn on the real pygame dummy screen; the call de-duplication across a replaced database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame
import pytest

from dispatcher.queue import QueueBook
from dispatcher.storage import open_database
from display.board import HIGHLIGHT, SERVICES_PAGE_S, TvBoard
from display.state import BoardState
from luot import EXAMPLE_SITE
from luot.config import load_site

SITE = load_site(EXAMPLE_SITE)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WALL = datetime(2026, 11, 23, 9, 30, tzinfo=TZ)


def call(seq: int, counter: int, number: str, epoch: str | None = "e1") -> dict[str, object]:
    payload: dict[str, object] = {
        "seq": seq, "counter": counter, "counter_name": f"Quầy {counter}", "recall": False,
        "ticket": {"number": number, "service": "CT"}, "at": "2026-11-23T09:30:00+07:00"}
    if epoch is not None:
        payload["epoch"] = epoch
    return payload


def board(size: tuple[int, int]) -> TvBoard:
    state = BoardState()
    state.apply("config", SITE.catalogue(), True)
    screen = pygame.display.set_mode(size)
    made = TvBoard(screen, state, TZ)
    made.relayout()
    made.frame(set(), 0.0, WALL, full=True)
    return made


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (1080, 1920)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_recent_calls_move_on_with_every_call_and_never_repeat_now_calling(size, artifacts: Path) -> None:
    b = board(size)
    numbers = [f"A{n:03d}" for n in range(1, 16)]
    for seq, number in enumerate(numbers, start=1):
        change = b.state.apply("event/call", call(seq, seq % 12 + 1, number), False)
        b.frame(change.regions, 0.0, WALL)
        shown = [c.number for c in b.recent_shown]
        assert b.state.current_call().number == number  # type: ignore[union-attr]
        assert number not in shown, "the first row repeats NOW CALLING"
        assert shown == numbers[:seq - 1][::-1][:len(shown)], f"after call {seq} the panel shows {shown}"
    assert len(b.recent_shown) >= 5, f"only {len(b.recent_shown)} earlier calls fit at {size}"
    framed = [n for n, rect in b.card_rects.items()
              if b.screen.get_at((rect.x + 1, rect.centery))[:3] == HIGHLIGHT]
    assert framed == [15 % 12 + 1], f"the newest call's frame is left on cards {framed}"
    pygame.image.save(b.screen, str(artifacts / f"display-recent-after-15-calls-{size[0]}x{size[1]}.png"))


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (1080, 1920)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_field_of_the_waiting_table_is_shown_in_turn(size, artifacts: Path) -> None:
    b = board(size)
    seen: list[str] = []
    for page in range(6):
        now = page * SERVICES_PAGE_S + 0.5
        regions = b.due(now, WALL) if page else {"services"}
        assert "services" in regions, "the waiting table did not turn its page"
        b.frame(regions, now, WALL)
        assert b.next_timer_s(now, WALL) <= SERVICES_PAGE_S
        seen += [c for c in b.services_shown if c not in seen]
        if page == 0:
            pygame.image.save(b.screen, str(artifacts / f"display-waiting-table-{size[0]}x{size[1]}.png"))
        if len(seen) == len(SITE.services):
            break
    assert seen == [s.code for s in SITE.services], f"fields never shown at {size}: {seen}"


def test_a_call_of_a_new_database_is_heard_though_its_number_was_heard_before() -> None:
    state = BoardState()
    state.apply("config", SITE.catalogue(), True)
    state.apply("state/site", {"day": "2026-11-23", "epoch": "old"}, True)
    assert state.apply("event/call", call(7, 1, "A007", epoch="old"), False).calls
    assert not state.apply("event/call", call(7, 1, "A007", epoch="old"), False).calls, "a duplicate"
    change = state.apply("state/site", {"day": "2026-11-23", "epoch": "new"}, True)
    assert {"current", "recent"} <= change.regions and not state.recent
    assert state.apply("event/call", call(7, 2, "B001", epoch="new"), False).calls
    assert state.current_call().number == "B001"  # type: ignore[union-attr]


def test_each_database_has_its_own_epoch_in_calls_and_the_site_state(tmp_path: Path) -> None:
    now = datetime.now(TZ)
    first = QueueBook(open_database(tmp_path / "a.db"), SITE)
    again = QueueBook(open_database(tmp_path / "a.db"), SITE)
    other = QueueBook(open_database(tmp_path / "b.db"), SITE)
    assert first.epoch == again.epoch != other.epoch
    assert first.site_state(now)["epoch"] == first.epoch
    assert other.site_state(now)["epoch"] == other.epoch
