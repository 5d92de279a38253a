"""Drawing the hallway board: each part of the screen redrawn only when it changed.

`TvBoard.frame` paints the named regions a message touched and returns the
rectangles to flip; the only timed redraws are the clock (once a minute), the
flash of a new call (a few seconds) and the notice when it is too long to sit
still (a thin strip).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo

import pygame
from pygame import Rect

from display import layout as layout_mod
from display.painting import BACKGROUND, MUTED, TEXT, BoardPainter
from display.state import BoardState, CallView, CounterView, ServiceView, counter_region
from luot.mqtt import LINK_HUB_AWAY, LINK_OFFLINE
from luot.screen import Color, TextCache
from luot.text import WEEKDAYS
from luot.words import minutes_text

HEADER: Color = (6, 18, 38)
CARD: Color = (22, 52, 96)
CARD_IDLE: Color = (18, 38, 68)
NUMBER: Color = (255, 214, 77)
HIGHLIGHT: Color = (245, 166, 35)
HIGHLIGHT_TEXT: Color = (20, 20, 30)
OFFLINE: Color = (200, 30, 40)
# The header's badge when calls are not live: this screen's own link lost, or the dispatcher away.
LINK_BADGES = {LINK_OFFLINE: ("Mất kết nối", "offline"), LINK_HUB_AWAY: ("Tạm ngừng", "calls paused")}

FLASH_S = 6.0
FLASH_PERIOD_S = 0.5
TICKER_FPS = 20
TICKER_SPEED = 0.09  # of the screen's shorter side per second

# Enough for every text on a 30-counter board twice over (normal and flashing); a new number
# per call would otherwise fill the default 2,048 surfaces, some of them 1/4 MB (the big call).
TEXT_CACHE_ITEMS = 400
MIN_ROW_SHARE = 0.04  # of the shorter screen side: the smallest legible row of the waiting table
SERVICES_PAGE_S = 8.0  # a waiting table longer than its panel turns its pages this often



def vietnamese_date(day: datetime) -> str:
    """"Thứ Hai, ngày 23 tháng 11 năm 2026"."""
    return f"{WEEKDAYS[day.weekday()]}, ngày {day.day} tháng {day.month} năm {day.year}"


def minutes(value: object) -> str:
    return minutes_text(value if isinstance(value, int | float) else None)[0]


class TvBoard(BoardPainter):
    def __init__(self, screen: pygame.Surface, state: BoardState, timezone: tzinfo) -> None:
        self.screen = screen
        self.state = state
        self.timezone = timezone
        self.text = TextCache(max_items=TEXT_CACHE_ITEMS)
        self.layout = layout_mod.compute(screen.get_size(), len(state.counters))
        self.card_rects: dict[int, Rect] = {}
        self.recent_shown: list[CallView] = []  # the calls the recent-calls panel shows now
        self.services_shown: list[str] = []  # the fields the waiting table shows now
        self._service_pages = 1
        self._service_page = 0
        self.flash_started = 0.0
        self.flash_until = 0.0
        self._flash_on = False
        self._minute: tuple[date, int, int] | None = None
        self._ticker_surface: pygame.Surface | None = None
        self._ticker_x = 0.0
        self._ticker_last = 0.0

    # ------------------------------------------------------------------ timing

    def start_flash(self, now: float) -> None:
        self.flash_started = now
        self.flash_until = now + FLASH_S

    def flashing(self, now: float) -> bool:
        return now < self.flash_until

    def scrolling(self) -> bool:
        surface = self._ticker_surface
        return surface is not None and surface.get_width() > self.layout.ticker.width

    def due(self, now: float, wall: datetime) -> set[str]:
        """The regions whose timed redraw is due."""
        regions: set[str] = set()
        if (wall.date(), wall.hour, wall.minute) != self._minute:
            regions.add("clock")
        newest = self.state.newest
        if newest is not None and self._flash_phase(now) != self._flash_on:
            regions |= {"current", counter_region(newest.counter)}
        if self.scrolling() and now - self._ticker_last >= 1 / TICKER_FPS:
            regions.add("ticker")
        if self._service_pages > 1 and self._page_of(now, self._service_pages) != self._service_page:
            regions.add("services")
        return regions

    def next_timer_s(self, now: float, wall: datetime) -> float:
        """Seconds until the next timed redraw."""
        waits = [60.0 - wall.second - wall.microsecond / 1e6]
        if self.flashing(now) or self._flash_on:
            waits.append(FLASH_PERIOD_S - ((now - self.flash_started) % FLASH_PERIOD_S))
        if self.scrolling():
            waits.append(max(0.0, self._ticker_last + 1 / TICKER_FPS - now))
        if self._service_pages > 1:
            waits.append(SERVICES_PAGE_S - now % SERVICES_PAGE_S)
        return max(0.001, min(waits))

    def _flash_phase(self, now: float) -> bool:
        return self.flashing(now) and int((now - self.flash_started) / FLASH_PERIOD_S) % 2 == 0

    # ------------------------------------------------------------------ frames

    def relayout(self) -> None:
        self.layout = layout_mod.compute(self.screen.get_size(), len(self.state.counters))
        self.card_rects = dict(zip(self.state.counters, self.layout.cards, strict=True))
        self._ticker_surface = None

    def frame(self, regions: set[str], now: float, wall: datetime, *, full: bool = False) -> list[Rect]:
        """Paint `regions` (everything when `full`); the rectangles to flip."""
        lay = self.layout
        panels: dict[str, tuple[Rect, Callable[[Rect], None]]] = {
            "header": (lay.title, self._title),
            "status": (lay.status, self._status),
            "clock": (lay.clock, lambda rect: self._clock(rect, wall)),
            "current": (lay.current, self._current),
            "recent": (lay.recent, self._recent),
            "services": (lay.services, lambda rect: self._services(rect, now)),
            "figures": (lay.figures, self._figures),
            "ticker": (lay.ticker, lambda rect: self._ticker(rect, now)),
        }
        if full:
            self.screen.fill(BACKGROUND)
            self.screen.fill(HEADER, lay.header)
            regions = {*panels, *(counter_region(n) for n in self.card_rects)}
        self._flash_on = self._flash_phase(now)
        if "header" in regions:  # a new header repaints its status and clock too
            regions = regions | {"status", "clock"}
        painted: list[Rect] = []
        for region, (rect, paint) in panels.items():
            if region in regions:
                paint(rect)
                painted.append(rect)
        for number, rect in self.card_rects.items():
            if counter_region(number) in regions:
                self._card(rect, self.state.counters[number])
                painted.append(rect)
        return [Rect(0, 0, *lay.size)] if full else painted

    def _title(self, rect: Rect) -> None:
        self.screen.fill(HEADER, rect)
        name = self.state.name or "Lượt"
        size = round(rect.height * 0.3)
        while size > 12 and len(self.text.wrap(name, size, rect.width, bold=True)) > 2:
            size -= 2
        two_lines = len(self.text.wrap(name, size, rect.width, bold=True)) > 1
        lines = self._balanced(name, size) if two_lines else [name]
        line_h = rect.height / (len(lines) + 1)
        for i, line in enumerate(lines):
            self._put(line, size, TEXT, rect, bold=True, align="left", y=round(rect.y + line_h * (i + 1)))

    def _status(self, rect: Rect) -> None:
        self.screen.fill(HEADER, rect)
        if self.state.online:
            return
        vi, en = LINK_BADGES.get(self.state.link, LINK_BADGES[LINK_OFFLINE])
        badge = rect.inflate(-self.layout.gap * 2, -round(rect.height * 0.3))
        pygame.draw.rect(self.screen, OFFLINE, badge, border_radius=self.layout.gap * 2)
        inner = badge.inflate(-self.layout.gap * 3, 0)
        third = badge.height // 3
        self._put(vi, round(badge.height * 0.4), TEXT, inner, bold=True, y=badge.y + third)
        self._put(en, round(badge.height * 0.28), TEXT, inner, y=badge.y + 2 * third + 2)

    def _clock(self, rect: Rect, wall: datetime) -> None:
        self._minute = (wall.date(), wall.hour, wall.minute)
        self.screen.fill(HEADER, rect)
        self._put(wall.strftime("%H:%M"), round(rect.height * 0.42), NUMBER, rect, bold=True,
                  align="right", y=rect.y + round(rect.height * 0.36))
        self._put(vietnamese_date(wall), round(rect.height * 0.22), TEXT, rect, align="right",
                  y=rect.y + round(rect.height * 0.76))

    def _current(self, rect: Rect) -> None:
        call = self.state.current_call()
        flash = self._flash_on
        color = HIGHLIGHT if flash else CARD
        fg = HIGHLIGHT_TEXT if flash else TEXT
        area = self._panel(rect, color, "ĐANG GỌI · NOW CALLING", fg if flash else MUTED)
        if call is None:
            self._put("—", round(area.height * 0.4), MUTED, area)
            return
        number_h = round(area.height * 0.5)
        self._put(call.number, number_h, HIGHLIGHT_TEXT if flash else NUMBER, area, bold=True,
                  y=area.y + round(area.height * 0.32))
        where = f"mời đến {call.counter_name}"
        if call.recall:
            where = f"gọi lại · {where}"
        self._put(where, round(area.height * 0.17), fg, area, bold=True,
                  y=area.y + round(area.height * 0.72))
        self._put(self.state.service_name(call.service), round(area.height * 0.11), fg, area,
                  y=area.y + round(area.height * 0.91))

    def _recent(self, rect: Rect) -> None:
        """The calls before NOW CALLING's, the latest first, down one column then the next."""
        area = self._panel(rect, CARD_IDLE, "SỐ VỪA GỌI · RECENT CALLS")
        calls = self.state.earlier_calls()
        row_h = max(round(self.layout.unit * 0.042), area.height // 6)
        rows = max(1, area.height // row_h)
        cols = max(1, min(3, area.width // (row_h * 7)))
        self.recent_shown = calls[:rows * cols]
        gap = self.layout.gap * 2
        cell_w = (area.width - gap * (cols - 1)) // cols
        for i, call in enumerate(self.recent_shown):
            col, row = divmod(i, rows)
            x = area.x + col * (cell_w + gap)
            y = area.y + row * row_h + row_h // 2
            number_w = round(cell_w * 0.45)
            self._put(call.number, round(row_h * 0.62), TEXT, Rect(x, area.y, number_w, 1), bold=True,
                      align="left", y=y)
            self._put(f"→ {call.counter_name}", round(row_h * 0.5), MUTED,
                      Rect(x + number_w, area.y, cell_w - number_w, 1), align="right", y=y)

    def service_pages(self, area: Rect) -> tuple[list[list[ServiceView]], int]:
        """The fields in pages of as many rows as stay legible from the back of the hall; the row height."""
        services = list(self.state.services.values())
        row_h = max(round(self.layout.unit * MIN_ROW_SHARE),
                    min(area.height // (len(services) + 1), round(self.layout.unit * 0.06)))
        fit = max(1, area.height // row_h - 1)
        return [services[i:i + fit] for i in range(0, len(services), fit)] or [[]], row_h

    def _page_of(self, now: float, pages: int) -> int:
        return int(now // SERVICES_PAGE_S) % pages

    def _services(self, rect: Rect, now: float) -> None:
        title = "ĐANG CHỜ THEO LĨNH VỰC · WAITING"
        pages, row_h = self.service_pages(self._panel_area(rect))
        self._service_pages = len(pages)
        self._service_page = self._page_of(now, len(pages))
        if len(pages) > 1:
            title = f"{title}   {self._service_page + 1}/{len(pages)}"
        area = self._panel(rect, CARD_IDLE, title)
        services = pages[self._service_page]
        self.services_shown = [s.code for s in services]
        pad = self.layout.gap * 2
        name_w = round(area.width * 0.46)
        columns: list[Rect] = []
        x = area.x + name_w
        for share in (0.16, 0.16, 0.22):
            width = round(area.width * share)
            columns.append(Rect(x + pad, area.y, width - pad, 1))
            x += width
        heads = ("Đang chờ", "Đã xong", "Chờ TB")
        y = area.y + row_h // 2
        head_size = self._common_size([(h, c.width) for h, c in zip(heads, columns, strict=True)],
                                      round(row_h * 0.42))
        self._put("Lĩnh vực", head_size, MUTED, Rect(area.x, area.y, name_w, 1), align="left", y=y)
        for column, head in zip(columns, heads, strict=True):
            self._put(head, head_size, MUTED, column, align="right", y=y)
        size = self._common_size([(minutes(s.avg_wait_min), columns[2].width) for s in services],
                                 round(row_h * 0.55), bold=True)
        for i, s in enumerate(services, start=1):
            y = area.y + i * row_h + row_h // 2
            self._put_lines(s.name, size, TEXT, Rect(area.x, y - row_h // 2, name_w - pad, row_h),
                            align="left", y=y)
            values = (str(s.waiting), str(s.served), minutes(s.avg_wait_min))
            for column, value in zip(columns, values, strict=True):
                self._put(value, size, NUMBER if column is columns[0] else TEXT, column, bold=True,
                          align="right", y=y)

    def _figures(self, rect: Rect) -> None:
        self.screen.fill(BACKGROUND, rect)
        site = self.state.site
        cells = (
            ("Đã phục vụ hôm nay", "Served today", str(site.get("served", "—"))),
            ("Đang chờ", "Waiting now", str(site.get("waiting", "—"))),
            ("Thời gian chờ trung bình", "Average wait", minutes(site.get("avg_wait_min"))),
        )
        width = rect.width // len(cells)
        gap = self.layout.gap
        for i, (label, label_en, value) in enumerate(cells):
            cell = Rect(rect.x + i * width, rect.y, width - gap, rect.height)
            pygame.draw.rect(self.screen, CARD_IDLE, cell, border_radius=gap * 2)
            inner = cell.inflate(-gap * 4, 0)
            value_w = round(inner.width * 0.32)
            label_rect = Rect(inner.x, inner.y, inner.width - value_w, inner.height)
            self._put(label, round(cell.height * 0.32), TEXT, label_rect, align="left",
                      y=cell.y + round(cell.height * 0.36))
            self._put(label_en, round(cell.height * 0.22), MUTED, label_rect, align="left",
                      y=cell.y + round(cell.height * 0.72))
            self._put(value, round(cell.height * 0.55), NUMBER, Rect(inner.right - value_w, inner.y, value_w,
                      inner.height), bold=True, align="right")

    def _ticker(self, rect: Rect, now: float) -> None:
        self.screen.fill(HEADER, rect)
        if self._ticker_surface is None:
            self._ticker_surface = self._opaque(self.state.notice, round(rect.height * 0.55), HEADER)
            self._ticker_x = float(self.layout.gap * 2)
            self._ticker_last = now
        surface = self._ticker_surface
        y = rect.centery - surface.get_height() // 2
        if surface.get_width() <= rect.width:
            self.screen.blit(surface, (rect.centerx - surface.get_width() // 2, y))
            return
        self._ticker_x -= (now - self._ticker_last) * TICKER_SPEED * self.layout.unit
        self._ticker_last = now
        if self._ticker_x < -surface.get_width():
            self._ticker_x = float(rect.width)
        self.screen.set_clip(rect)
        self.screen.blit(surface, (rect.x + round(self._ticker_x), y))
        self.screen.set_clip(None)

    def _card(self, rect: Rect, counter: CounterView) -> None:
        newest: CallView | None = self.state.newest
        is_newest = newest is not None and newest.counter == counter.number
        flash = is_newest and self._flash_on
        color = HIGHLIGHT if flash else (CARD if counter.ticket else CARD_IDLE)
        radius = self.layout.gap * 2
        self.screen.fill(BACKGROUND, rect)
        pygame.draw.rect(self.screen, color, rect, border_radius=radius)
        if is_newest and not flash:
            pygame.draw.rect(self.screen, HIGHLIGHT, rect, width=max(3, self.layout.gap // 2),
                             border_radius=radius)
        fg = HIGHLIGHT_TEXT if flash else TEXT
        inner = rect.inflate(-self.layout.gap * 3, 0)
        h = rect.height
        self._put(counter.name, round(h * 0.17), HIGHLIGHT_TEXT if flash else MUTED, inner, bold=True,
                  y=rect.y + round(h * 0.15))
        if counter.status == "paused" and not counter.ticket:
            self._put("Tạm nghỉ · Paused", round(h * 0.16), MUTED, inner, y=rect.y + round(h * 0.52))
            return
        if counter.ticket is None:
            self._put("—", round(h * 0.4), MUTED, inner, y=rect.y + round(h * 0.52))
            return
        self._put(counter.ticket, round(h * 0.44), HIGHLIGHT_TEXT if flash else NUMBER, inner, bold=True,
                  y=rect.y + round(h * 0.52))
        self._put_lines(self.state.service_name(counter.service), round(h * 0.14), fg, inner,
                        y=rect.y + round(h * 0.85))
