"""Lượt: the core every device imports — protocol, configuration, MQTT link, screens, the `luot` command."""

from pathlib import Path

__version__ = "0.1.0"

EXAMPLES = Path(__file__).resolve().parent / "examples"
EXAMPLE_SITE = EXAMPLES / "site.toml"  # a ward centre with 8 fields and 12 counters
