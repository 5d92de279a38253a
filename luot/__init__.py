"""Lượt: the shared package — wire protocol, configuration, MQTT link, the `luot` command."""

__version__ = "0.1.0"
