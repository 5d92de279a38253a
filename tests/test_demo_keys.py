"""The windowed demo takes its keys from a terminal or, for scripts, from a pipe."""

import os
import sys

from tools.demo import read_keys


class Keys:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def key(self, char: str) -> bool:
        self.seen.append(char)
        return char != "x"


def test_keys_from_a_pipe_until_x(monkeypatch):
    read_end, write_end = os.pipe()
    os.write(write_end, b"71Qx9")
    with os.fdopen(read_end) as pipe:
        monkeypatch.setattr(sys, "stdin", pipe)
        demo = Keys()
        read_keys(demo.key)
    os.close(write_end)
    assert demo.seen == ["7", "1", "q", "x"], "lower-cased, one at a time, nothing after x"
