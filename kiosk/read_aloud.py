"""What the kiosk says in its read-aloud mode, sentence by sentence, from what is on the glass.

A citizen touches a button once to hear it and again to use it; the fields of a page are
read when the page comes; the number is read when it is given, then whether the ticket
came out. The words are those of the screen, Vietnamese only (the voice is Vietnamese).
"""

from __future__ import annotations

from kiosk import texts
from kiosk.reader import number_words
from kiosk.screens import Button, Frame
from kiosk.ticket import TicketInfo, wait_text

INTRO = ("Đã bật chế độ đọc to. Chạm một lần vào một ô để nghe, chạm lần nữa vào ô đó để chọn. "
         "Các nút chuyển trang ở dưới cùng, bên trái và bên phải.")


def choices(frame: Frame) -> list[Button]:
    return [b for b in frame.buttons if b.id.startswith(("service:", "category:"))]


def page(frame: Frame) -> str:
    """The prompt of the screen (with its page), then every choice on it."""
    names = "; ".join(b.vi for b in choices(frame))
    prompt = frame.prompt[0] if frame.prompt else ""
    return f"{prompt}. {names}." if names else f"{prompt}."


def button(touched: Button) -> str:
    if touched.style == "disabled":
        return f"{touched.vi}. {touched.en}. Ô này hiện không chọn được."
    then = "lấy số" if touched.id.startswith("service:") else "chọn"
    return f"{touched.vi}. Chạm lần nữa để {then}."


def ticket(info: TicketInfo) -> str:
    wait_vi, _ = wait_text(info.est_wait_min)
    return (f"{texts.YOUR_NUMBER[0]} là {number_words(info.number)}, lĩnh vực {info.service}. "
            f"{texts.AHEAD[0].format(n=info.ahead)}. {wait_vi}.")


def printed() -> str:
    return texts.PRINTED[0] + "."


def not_printed(fault: str, info: TicketInfo | None) -> str:
    vi, _ = texts.PRINTER_FAULTS.get(fault, texts.PRINTER_FAULT)
    number = f" Số của quý vị là {number_words(info.number)}." if info else ""
    return f"{vi}.{number} {texts.NOT_PRINTED[0]}"
