"""Giving freed heap back to the system after a number screen and a ticket."""

from __future__ import annotations

import ctypes
import ctypes.util


def give_back_memory() -> None:
    """Return freed heap to the system (glibc's malloc_trim), a no-op elsewhere.

    Drawing a number screen and a ticket allocates and frees a few MB of large
    surfaces and images; glibc keeps the freed pages, so over a day the resident
    size would creep up by tens of MB on a Pi Zero's 512 MB."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()
