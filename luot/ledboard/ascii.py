"""ASCII-framed boards: STX, two-digit address, the text, ETX.

`02 "05" "A023" 03` makes board 05 show A023. The text is right-aligned in
`width` characters (letters draw on most 7-segment boards as A b C d E F…),
dashes fill the width, blank is spaces. Many such boards answer nothing;
those that answer ACK (0x06) or NAK (0x15) are configured with `ack = true`,
and then a board that stays silent is reported.
"""

from __future__ import annotations

from luot.config import Section
from luot.ledboard import BAD_REPLY, BoardFault, Protocol, is_dashes

STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15


class AsciiBoard(Protocol):
    name = "ascii"
    addresses = range(0, 100)

    def __init__(self, width: int, ack: bool) -> None:
        self.width = width
        self.ack = ack

    @classmethod
    def from_section(cls, section: Section) -> AsciiBoard:
        return cls(width=section.int("width", 4, min=1, max=64), ack=section.bool("ack", False))

    def text(self, text: str) -> str:
        if is_dashes(text):
            return "-" * self.width
        return text[-self.width:].rjust(self.width)

    def frame(self, address: int, text: str) -> bytes:
        body = self.text(text).encode("ascii", "replace")
        return bytes([STX]) + f"{address:02d}".encode() + body + bytes([ETX])

    def reply_size(self, frame: bytes) -> int:
        return 1 if self.ack else 0

    def check_reply(self, frame: bytes, reply: bytes) -> None:
        if reply == bytes([ACK]):
            return
        if reply == bytes([NAK]):
            raise BoardFault(BAD_REPLY, "the board answered NAK")
        raise BoardFault(BAD_REPLY, f"expected ACK, got {reply.hex(' ')}")


PROTOCOL = AsciiBoard
