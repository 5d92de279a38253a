"""Everything the kiosk says to a citizen: Vietnamese first, English second."""

from __future__ import annotations

import re
from typing import Any

Bilingual = tuple[str, str]

TOUCH_A_SERVICE: Bilingual = ("Chạm vào lĩnh vực để lấy số", "Touch a service to take a number")
PRIORITY_BUTTON: Bilingual = ("Đối tượng ưu tiên", "Priority: elderly, disabled, pregnant, small children")
CHOOSE_PRIORITY: Bilingual = ("Quý vị thuộc đối tượng ưu tiên nào?", "Which priority group are you in?")
PRIORITY_FOR: Bilingual = ("Ưu tiên: {vi}", "Priority: {en}")
BACK: Bilingual = ("Quay lại", "Back")
DONE: Bilingual = ("Xong", "Done")
PREVIOUS_PAGE: Bilingual = ("‹ Trang trước", "Previous")
NEXT_PAGE: Bilingual = ("Trang sau ›", "More services")
PAGE: Bilingual = ("trang {n}/{of}", "page {n} of {of}")
READ_ALOUD: Bilingual = ("Đọc to, chữ lớn", "Read aloud, large text")
READ_ALOUD_OFF: Bilingual = ("Tắt đọc to", "Stop reading aloud")
PRINT_AGAIN: Bilingual = ("In lại phiếu", "Print again")
TAKING: Bilingual = ("Đang lấy số…", "Taking your number…")
YOUR_NUMBER: Bilingual = ("Số thứ tự của quý vị", "Your number")
PRINTING: Bilingual = ("Đang in phiếu…", "Printing your ticket…")
PRINTED: Bilingual = ("Vui lòng nhận phiếu bên dưới", "Please take your ticket below")
NOT_PRINTED: Bilingual = (
    "Vui lòng ghi nhớ số này và chờ gọi số.",
    "Please remember this number and wait to be called.",
)
PRINTER_FAULT: Bilingual = ("Máy in gặp sự cố", "The printer has a problem")
# What the printer says of itself (`PrintFault.code`); any other fault is PRINTER_FAULT.
PRINTER_FAULTS: dict[str, Bilingual] = {
    "out_of_paper": ("Máy in hết giấy", "The printer is out of paper"),
    "cover_open": ("Nắp máy in đang mở", "The printer cover is open"),
    "offline": ("Máy in không sẵn sàng", "The printer is not ready"),
    "unplugged": ("Không tìm thấy máy in", "The printer is not connected"),
    "not_answering": ("Máy in không phản hồi", "The printer does not answer"),
}
PRINTER_WARNING: Bilingual = (
    "Máy in đang gặp sự cố: số sẽ hiện trên màn hình, vui lòng ghi nhớ.",
    "Printer problem: your number will be shown on the screen; please note it.",
)
AHEAD: Bilingual = ("Số người chờ trước: {n}", "People ahead of you: {n}")
UNREACHABLE: Bilingual = ("Không kết nối được hệ thống xếp hàng", "Cannot reach the queue system")
UNREACHABLE_HELP: Bilingual = (
    "Vui lòng chờ trong giây lát hoặc liên hệ cán bộ tại quầy.",
    "Please wait a moment or ask the staff at a counter.",
)
HUB_PAUSED: Bilingual = (
    "Tạm ngừng cấp số. Vui lòng chờ trong giây lát hoặc liên hệ cán bộ tại quầy.",
    "Number taking is paused. Please wait a moment or ask the staff at a counter.",
)
UPDATING: Bilingual = (
    "Ki-ốt đang cập nhật phần mềm, xin chờ trong giây lát.",
    "The kiosk is updating its software. One moment, please.",
)
CLOCK_HELD: Bilingual = (
    "Tạm ngừng cấp số: đang chờ xác nhận giờ của hệ thống. Vui lòng liên hệ cán bộ.",
    "Number taking is paused until the hub's clock is confirmed. Please ask the staff.",
)
CONNECTING: Bilingual = ("Đang kết nối hệ thống xếp hàng…", "Connecting to the queue system…")
DAY_CLOSED: Bilingual = ("Hôm nay không tiếp nhận hồ sơ.", "The centre is not taking numbers today.")
OUTSIDE_HOURS: Bilingual = (
    "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ!",
    "Numbers are given only during the taking hours.",
)
HOURS: Bilingual = ("Giờ lấy số: {periods}", "Taking hours: {periods}")
CAP_REACHED_BUTTON: Bilingual = ("Đã hết số hôm nay", "No more numbers today")
CARD_OK: Bilingual = ("Đã đọc thẻ căn cước / CCCD", "ID card read")
CARD_ELDERLY: Bilingual = (
    "Quý vị từ {age} tuổi trở lên được ưu tiên. Vui lòng chọn đối tượng ưu tiên.",
    "At {age} or over you may take a priority number. Please choose your group.",
)

ERRORS: dict[str, Bilingual] = {
    "day_closed": DAY_CLOSED,
    "outside_hours": OUTSIDE_HOURS,
    "cap_reached": (
        "Lĩnh vực này đã hết số trong ngày hôm nay.",
        "This service has given all of today's numbers.",
    ),
    "duplicate_citizen": (
        "Quý vị đã có số {number} đang chờ cho lĩnh vực này. Vui lòng chờ gọi số.",
        "You already hold number {number} for this service. Please wait to be called.",
    ),
    "unreachable": (
        "Không kết nối được hệ thống xếp hàng. Vui lòng thử lại.",
        "Cannot reach the queue system. Please try again.",
    ),
}
OTHER_ERROR: Bilingual = (
    "Không lấy được số. Vui lòng thử lại hoặc hỏi cán bộ.",
    "Could not take a number. Please try again or ask the staff.",
)


CITIZEN_LIMITS: dict[str, Bilingual] = {
    "field": (
        "Mỗi người chỉ được lấy {n} số một ngày cho mỗi lĩnh vực. Hôm nay quý vị đã lấy số {numbers}.",
        "One person may take {n} number(s) a day for each service. You took number {numbers} today.",
    ),
    "day": (
        "Mỗi người chỉ được lấy tối đa {n} số một ngày. Hôm nay quý vị đã lấy số {numbers}.",
        "One person may take at most {n} numbers a day. You took number {numbers} today.",
    ),
}


def refusal(code: str, detail: str) -> Bilingual:
    """The plain words for a refused `take` (the detail is the dispatcher's, in English)."""
    if code == "citizen_limit":
        found = re.match(r"(field|day): (\d+) .*took number (.+) today", detail)
        if found:
            vi, en = CITIZEN_LIMITS[found[1]]
            return (vi.format(n=found[2], numbers=found[3]), en.format(n=found[2], numbers=found[3]))
    vi, en = ERRORS.get(code, OTHER_ERROR)
    held = re.search(r"number (\S+)", detail)
    number = held[1] if held else "?"
    return vi.format(number=number), en.format(number=number)


def hours_text(catalogue: dict[str, Any], iso_weekday: int) -> Bilingual:
    """The taking hours of this weekday (a Saturday duty has its own)."""
    hours = catalogue.get("hours", {})
    today = hours.get("days", {}).get(str(iso_weekday), hours.get("periods", []))
    periods = ", ".join(f"{a}–{b}" for a, b in today)
    return HOURS[0].format(periods=periods), HOURS[1].format(periods=periods)
