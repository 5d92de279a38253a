"""The label sheet stuck on the counter box: what each button does, pressed and held,
what the light and the board say. Vietnamese first, English beneath.
Rendered with Pillow so it prints on any printer at 300 dpi (A5 landscape)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from counter_button.settings import CounterSettings
from luot.config import SiteConfig
from luot.text import pil_font, wrap_words

SIZE = (2480, 1748)
MARGIN = 70
INK, GREY, RULE, HEAD = (0, 0, 0), (90, 90, 90), (150, 150, 150), (225, 232, 242)


def button_rows(settings: CounterSettings, site: SiteConfig | None) -> list[tuple[str, ...]]:
    """(button vi, button en, press vi, press en, hold vi, hold en) for each officer button."""
    hold = f"{settings.hold_s:g}".replace(".", ",")
    window = f"{settings.transfer_window_s:g}".replace(".", ",")
    if site is not None:
        choices = ", ".join(f"{i + 1}× {s.name}" for i, s in enumerate(site.services))
        choices_en = ", ".join(f"{i + 1}× {s.name_en}" for i, s in enumerate(site.services))
    else:
        choices = "1× lĩnh vực thứ nhất trong danh sách của trung tâm, 2× lĩnh vực thứ hai…"
        choices_en = "1× the centre's first field, 2× the second…"
    return [
        ("GỌI TIẾP", "NEXT", "Xong công dân này, gọi số tiếp theo",
         "Finish this citizen, call the next",
         f"Giữ {hold} giây: xong, không gọi tiếp (trước khi nghỉ)",
         f"Hold {settings.hold_s:g} s: finish, call no one (before a break)"),
        ("GỌI LẠI", "RECALL", "Gọi lại số đang phục vụ", "Call the current number again",
         f"Giữ {hold} giây: công dân đi bổ sung hồ sơ, trả số về gần đầu hàng",
         f"Hold {settings.hold_s:g} s: citizen completes a form, back near the front"),
        ("VẮNG MẶT", "NO-SHOW", "Công dân không đến: bỏ qua, gọi số tiếp",
         "Citizen absent: skip, call the next", "", ""),
        ("CHUYỂN", "TRANSFER",
         f"Nhấn N lần liền nhau, chờ {window} giây: chuyển sang lĩnh vực thứ N. {choices}",
         f"Press N times, wait {settings.transfer_window_s:g} s: move to field N. {choices_en}", "", ""),
        ("TẠM DỪNG", "PAUSE", "Tạm dừng quầy để nghỉ; nhấn lần nữa (hoặc GỌI TIẾP) để mở lại",
         "Close the counter for a break; press again (or NEXT) to reopen", "", ""),
    ]


LIGHT_ROWS = [
    ("Sáng liên tục: đang hoạt động", "Steady: online, serving"),
    ("Nháy chậm: quầy tạm dừng", "Slow blink: counter paused"),
    ("Nháy nhanh: mất kết nối hoặc lần bấm vừa rồi không được nhận, xem bảng số rồi bấm lại",
     "Fast blink: hub unreachable or the last press was refused; check the board, press again"),
    ("Chớp một lần: đã nhận lệnh", "One wink: press accepted"),
    ("Bảng số hiện ----: quầy tạm dừng hoặc mất kết nối; nhấp nháy: vừa gọi số",
     "Board shows ----: paused or offline; blinking: a number was just called"),
]


class _Pen:
    def __init__(self, image: Image.Image) -> None:
        self.draw = ImageDraw.Draw(image)

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return pil_font(size, bold)

    def wrap(self, text: str, size: int, width: int, bold: bool = False) -> list[str]:
        font = self.font(size, bold)
        return wrap_words(text, width, lambda t: self.draw.textlength(t, font=font))

    def block(self, x: int, y: int, width: int, text: str, size: int, *, bold: bool = False,
              color: tuple[int, int, int] = INK) -> int:
        """Draw wrapped text; return the y below it."""
        for line in self.wrap(text, size, width, bold):
            self.draw.text((x, y), line, font=self.font(size, bold), fill=color)
            y += int(size * 1.25)
        return y


def render_label(settings: CounterSettings, site: SiteConfig | None, path: Path) -> Path:
    image = Image.new("RGB", SIZE, "white")
    pen = _Pen(image)
    width = SIZE[0] - 2 * MARGIN
    y = pen.block(MARGIN, MARGIN, width, f"QUẦY SỐ {settings.number}: HƯỚNG DẪN NÚT BẤM", 64, bold=True)
    y = pen.block(MARGIN, y, width, f"Counter {settings.number}: button guide", 40, color=GREY) + 20
    columns = [MARGIN, MARGIN + 430, MARGIN + 1380, SIZE[0] - MARGIN]
    heads = [("Nút", "Button"), ("Nhấn", "Press"), ("Giữ", "Hold")]
    pen.draw.rectangle((MARGIN, y, SIZE[0] - MARGIN, y + 100), fill=HEAD)
    for (vi, en), x in zip(heads, columns, strict=False):
        pen.block(x + 15, y + 8, 400, vi, 40, bold=True)
        pen.block(x + 15, y + 56, 400, en, 30, color=GREY)
    y += 110
    pins = settings.pins
    for (name_vi, name_en, press_vi, press_en, hold_vi, hold_en), key in zip(
            button_rows(settings, site), pins, strict=True):
        top = y
        bottom = pen.block(columns[0] + 15, y + 10, 400, name_vi, 44, bold=True)
        bottom = pen.block(columns[0] + 15, bottom, 400, f"{name_en} · GPIO {pins[key]}", 30, color=GREY)
        cells = [(columns[1], press_vi, press_en), (columns[2], hold_vi, hold_en)]
        for x, vi, en in cells:
            vi = vi or "—"
            cell_width = columns[columns.index(x) + 1] - x - 30
            below = pen.block(x + 15, y + 10, cell_width, vi, 36)
            below = pen.block(x + 15, below, cell_width, en, 28, color=GREY)
            bottom = max(bottom, below)
        y = bottom + 12
        pen.draw.line((MARGIN, y, SIZE[0] - MARGIN, y), fill=RULE, width=3)
        for x in columns[1:-1]:
            pen.draw.line((x, top, x, y), fill=RULE, width=3)
    y += 30
    y = pen.block(MARGIN, y, width, "Đèn báo và bảng số · The light and the board", 44, bold=True) + 6
    half = width // 2
    for pair in range(0, len(LIGHT_ROWS), 2):
        bottom = y
        for i, (vi, en) in enumerate(LIGHT_ROWS[pair:pair + 2]):
            x = MARGIN + i * half
            below = pen.block(x, y, half - 40, f"• {vi}", 32)
            bottom = max(bottom, pen.block(x + 30, below, half - 70, en, 26, color=GREY))
        y = bottom + 10
    if settings.rating:
        names = " · ".join(settings.rating.label(i)[0] for i in range(len(settings.rating.pins)))
        y = pen.block(MARGIN, y + 10, width, f"Nút đánh giá của công dân (từ trái sang phải): {names}", 32)
        pen.block(MARGIN, y, width, "Citizen's rating buttons, left to right: one vote per citizen, "
                  f"within {settings.rating.window_s:g} s of being served", 26, color=GREY)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
