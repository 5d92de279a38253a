"""Modbus RTU 7-segment boards: function 06 (write single register), 9600 8N1.

Frame: unit id, 0x06, register (big-endian), value (big-endian), CRC16
(polynomial 0xA001, initial 0xFFFF, low byte first). The board answers with
an echo of the frame, or with an exception `unit, 0x86, code, CRC`.

A numeric board cannot draw letters: it shows the digits of the number, so
"A023" is the value 23 (the board pads it to "0023" or " 23" by its own
setting). The prefix is on the ticket, on the hallway TV and in the spoken
call; services that must be told apart on numeric boards use number blocks
(`block_start`) instead of prefixes. Blank and dashes have no standard value:
`blank_value` and `dash_value` are whatever the model shows as dark and as
"----" (its manual says). A value the board would show as digits cannot be
either, so the defaults sit just past the largest number (10000 and 10001 on
four digits), where most models show dark and dashes.
"""

from __future__ import annotations

import struct

from luot.config import Section
from luot.ledboard import BAD_REPLY, BoardFault, Protocol, digits_of, is_dashes

WRITE_REGISTER = 0x06


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<H", crc16(body))


class ModbusBoard(Protocol):
    name = "modbus"
    addresses = range(1, 248)

    def __init__(self, register: int, digits: int, blank_value: int, dash_value: int) -> None:
        self.register = register
        self.digits = digits
        self.blank_value = blank_value
        self.dash_value = dash_value

    @classmethod
    def from_section(cls, section: Section) -> ModbusBoard:
        digits = section.int("digits", 4, min=1, max=4)
        past_numbers = 10**digits
        blank_value = section.int("blank_value", past_numbers, min=past_numbers, max=0xFFFF)
        dash_value = section.int("dash_value", past_numbers + 1, min=past_numbers, max=0xFFFF)
        if dash_value == blank_value:
            section.problem("dash_value", f"is the same as blank_value ({blank_value}): "
                                          "dashes would look like a dark board")
        return cls(register=section.int("register", 0, min=0, max=0xFFFF), digits=digits,
                   blank_value=blank_value, dash_value=dash_value)

    def value(self, text: str) -> int:
        if is_dashes(text):
            return self.dash_value
        digits = digits_of(text)
        if not digits:
            return self.blank_value
        return int(digits) % 10**self.digits

    def frame(self, address: int, text: str) -> bytes:
        return with_crc(struct.pack(">BBHH", address, WRITE_REGISTER, self.register, self.value(text)))

    def reply_size(self, frame: bytes) -> int:
        return len(frame)

    def check_reply(self, frame: bytes, reply: bytes) -> None:
        if reply == frame:
            return
        if len(reply) >= 5 and reply[1] == WRITE_REGISTER | 0x80 and with_crc(reply[:3]) == reply[:5]:
            raise BoardFault(BAD_REPLY, f"the board refused the write with exception code {reply[2]}")
        raise BoardFault(BAD_REPLY, f"expected the echo {frame.hex(' ')}, got {reply.hex(' ')}")


PROTOCOL = ModbusBoard
