"""The printed ticket, drawn as a 1-bit image at the printer's width.

Printing an image rather than text means Vietnamese prints the same on any
ESC/POS printer, whatever code pages it has. Everything is laid out from the
paper width (384 dots on 58 mm paper, 512–576 on 80 mm); long names wrap and
the image grows as tall as it needs, so nothing is ever cut off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import qrcode
from PIL import Image, ImageDraw, ImageFont

from luot.text import nfc, pil_font, wrap_words
from luot.words import minutes_text

FOOTER = "Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!"
FOOTER_EN = "Please keep this ticket and wait for your number. Thank you!"


@dataclass(frozen=True)
class TicketInfo:
    centre: str
    centre_en: str
    number: str
    service: str
    service_en: str
    priority: str | None
    priority_en: str | None
    issued_at: datetime
    ahead: int
    est_wait_min: int | None
    checklist_url: str | None
    follow_url: str | None = None  # the ticket's live page, which also links the checklist


def ticket_info(catalogue: dict[str, Any], reply: dict[str, Any]) -> TicketInfo:
    """The ticket's text from the `take` reply and the retained catalogue."""
    ticket = reply["ticket"]
    service = next((s for s in catalogue.get("services", []) if s["code"] == ticket["service"]), {})
    category = next(
        (c for c in catalogue.get("priority", {}).get("categories", []) if c["code"] == ticket["priority"]),
        None,
    )
    return TicketInfo(
        centre=catalogue.get("name", ""),
        centre_en=catalogue.get("name_en", ""),
        number=ticket["number"],
        service=service.get("name", ticket["service"]),
        service_en=service.get("name_en", ""),
        priority=category["name"] if category else ticket["priority"],
        priority_en=category["name_en"] if category else None,
        issued_at=datetime.fromisoformat(ticket["issued_at"]),
        ahead=int(reply.get("ahead", 0)),
        est_wait_min=reply.get("est_wait_min"),
        checklist_url=service.get("checklist_url"),
    )


def wait_text(minutes: int | None) -> tuple[str, str]:
    """The estimated wait on the number screen and the ticket, in the board's words."""
    if minutes is None:
        return ("Thời gian chờ dự kiến: chưa xác định, chưa có quầy đang phục vụ",
                "Estimated wait: not known, no counter serving yet")
    vi, en = minutes_text(minutes)
    about = ("", "") if minutes < 1 else ("khoảng ", "about ")
    return f"Thời gian chờ dự kiến: {about[0]}{vi}", f"Estimated wait: {about[1]}{en}"


def _line_box(font: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """Top and bottom of the tallest Vietnamese line (stacked marks above, descenders below)."""
    _, top, _, bottom = font.getbbox("ẤỸỄpgý")
    return top, bottom


def _fit(text: str, size: int, width: int, bold: bool) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` in which `text` fits on one line."""
    while size > 12 and pil_font(size, bold).getlength(nfc(text)) > width:
        size -= max(1, size // 12)
    return pil_font(size, bold)


class _Sheet:
    """Blocks stacked top to bottom, measured first so the image is exactly as tall as needed."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.margin = max(8, width // 40)
        self.inner = width - 2 * self.margin
        self.blocks: list[tuple[str, Any, int]] = []

    def text(self, text: str, size: int, bold: bool = False, gap: int = 0) -> None:
        font = pil_font(size, bold)
        top, bottom = _line_box(font)
        for line in wrap_words(text, self.inner, font.getlength):
            self.blocks.append(("text", (line, font, gap - top), bottom - top + size // 8 + gap))
            gap = 0

    def fitted(self, text: str, size: int, bold: bool = True) -> None:
        font = _fit(text, size, self.inner, bold)
        top, bottom = font.getbbox(nfc(text))[1], font.getbbox(nfc(text))[3]
        self.blocks.append(("fitted", (nfc(text), font, top), bottom - top + size // 6))

    def space(self, px: int) -> None:
        self.blocks.append(("space", None, px))

    def rule(self) -> None:
        self.blocks.append(("rule", None, max(6, self.width // 48)))

    def image(self, image: Image.Image) -> None:
        self.blocks.append(("image", image, image.height))

    def render(self) -> Image.Image:
        height = sum(h for _, _, h in self.blocks) + 2 * self.margin
        sheet = Image.new("L", (self.width, height), 255)
        draw = ImageDraw.Draw(sheet)
        y = self.margin
        for kind, content, h in self.blocks:
            if kind == "text":
                line, font, offset = content
                x = (self.width - font.getlength(line)) / 2
                draw.text((x, y + offset), line, font=font, fill=0)
            elif kind == "fitted":
                line, font, top = content
                x = (self.width - font.getlength(line)) / 2
                draw.text((x, y - top), line, font=font, fill=0)
            elif kind == "rule":
                draw.line((self.margin, y + h // 2, self.width - self.margin, y + h // 2), fill=0, width=2)
            elif kind == "image":
                sheet.paste(content, ((self.width - content.width) // 2, y))
            y += h
        return sheet.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)


def _sentences(text: str) -> list[str]:
    parts = text.split(". ")
    return [f"{p}." for p in parts[:-1]] + parts[-1:]


def qr_image(url: str, side: int) -> Image.Image:
    """A QR code about `side` dots wide, whole modules only so every scanner reads it."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=1)
    code.add_data(url)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    box = max(2, side // modules)
    code.box_size = box
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def render_ticket(info: TicketInfo, width: int) -> Image.Image:
    """The whole ticket: centre, title, number, field, time, people ahead, wait, QR, footer."""
    s = _Sheet(width)
    body = max(16, width // 22)
    small = max(13, width // 30)
    s.text(info.centre, body, bold=True)
    if info.centre_en:
        s.text(info.centre_en, small)
    s.rule()
    s.fitted("PHIẾU SỐ THỨ TỰ", max(24, width // 12))
    s.text("QUEUE TICKET", small)
    s.space(width // 40)
    s.fitted(info.number, width // 3)
    s.text(info.service, max(20, width // 15), bold=True)
    if info.service_en:
        s.text(info.service_en, small)
    if info.priority:
        s.text(f"Ưu tiên: {info.priority}", body, bold=True, gap=width // 60)
        if info.priority_en:
            s.text(f"Priority: {info.priority_en}", small)
    s.rule()
    when = info.issued_at
    s.text(f"Ngày {when:%d/%m/%Y} lúc {when:%H:%M}", body)
    s.text(f"Date {when:%Y-%m-%d}, time {when:%H:%M}", small)
    s.text(f"Số người chờ trước: {info.ahead}", body, bold=True, gap=width // 60)
    s.text(f"People ahead of you: {info.ahead}", small)
    wait_vi, wait_en = wait_text(info.est_wait_min)
    s.text(wait_vi, body, gap=width // 60)
    s.text(wait_en, small)
    if info.follow_url:
        s.rule()
        s.image(qr_image(info.follow_url, width // 2))
        s.text("Quét mã để theo dõi số và xem hồ sơ cần chuẩn bị", small)
        s.text("Scan to follow your number and see the documents to bring", small)
    elif info.checklist_url:
        s.rule()
        s.image(qr_image(info.checklist_url, width // 2))
        s.text("Quét mã để xem hồ sơ cần chuẩn bị", small)
        s.text("Scan for the documents to bring", small)
    s.rule()
    for text, size, bold in ((FOOTER, body, True), (FOOTER_EN, small, False)):
        for sentence in _sentences(text):  # a sentence a line: "Xin cảm ơn!" never breaks in two
            s.text(sentence, size, bold=bold)
    return s.render()
