"""Logging to stderr in one line per record: journald adds the time and unit."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str = "info") -> None:
    under_journald = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = "%(levelname)s %(name)s: %(message)s" if under_journald else (
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format=fmt, force=True)
