"""The QR code on a Vietnamese chip ID card (CCCD), read by the kiosk's scanner.

Its text is seven fields separated by `|`: ID number, old ID number, full
name, birth date (ddmmyyyy), sex, address, issue date (ddmmyyyy). Only two
things leave this module: a salted hash of the ID number (so the dispatcher
can hold one open ticket per person without ever seeing who it is) and the
age. The name, address and number itself are dropped here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

_ID_NUMBER = re.compile(r"^\d{12}$")
_OLD_ID = re.compile(r"^(\d{9}|\d{12})?$")
_DATE = re.compile(r"^\d{8}$")
MAX_CODE_LENGTH = 512


class CardError(Exception):
    """A code that is not a readable CCCD: the message is said to the citizen as it is."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en


NOT_A_CARD = CardError(
    "Mã này không phải mã QR trên thẻ căn cước / CCCD.",
    "This is not the QR code of an ID card (căn cước / CCCD).",
)


@dataclass(frozen=True)
class Citizen:
    """What the kiosk keeps of a scanned card: never the number, the name or the address."""

    id_hash: str
    age: int

    def is_elderly(self, elderly_age: int) -> bool:
        return self.age >= elderly_age


def citizen_hash(id_number: str, secret: str) -> str:
    """HMAC-SHA256 of the ID number with the site's secret: the same person gives the same
    hash at every kiosk of the site, and the hash cannot be reversed without the secret."""
    return hmac.new(secret.encode("utf-8"), id_number.encode("ascii"), hashlib.sha256).hexdigest()


def _date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def parse_card(code: str, secret: str, today: date) -> Citizen:
    """Read one scanned code; raise CardError with a plain message for anything else."""
    text = code.strip().lstrip("\ufeff")
    if not text or len(text) > MAX_CODE_LENGTH or "|" not in text:
        raise NOT_A_CARD
    fields = [f.strip() for f in text.split("|")]
    if len(fields) != 7 or not _ID_NUMBER.match(fields[0]) or not _OLD_ID.match(fields[1]):
        raise NOT_A_CARD
    if not fields[2]:
        raise NOT_A_CARD
    birth = _date(fields[3])
    if birth is None or birth > today or today.year - birth.year > 130:
        raise CardError(
            "Ngày sinh trên thẻ không đọc được. Vui lòng chọn lĩnh vực trên màn hình.",
            "The birth date on the card cannot be read. Please choose on the screen.",
        )
    return Citizen(citizen_hash(fields[0], secret), age_on(birth, today))
