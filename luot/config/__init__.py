"""Configuration: a device's own `device.toml` and the hub's `site.toml`.

Every mistake in a file is reported before anything starts, all at once, each
naming the file, the line, the key and what was expected.
"""

from luot.config.device import ID_PATTERN, ROLES, BrokerSettings, DeviceConfig, load_device, read_password
from luot.config.items import counter_number, service_code
from luot.config.lines import KeyLines
from luot.config.section import ConfigError, Section, open_toml, read_toml
from luot.config.site import load_site
from luot.config.site_model import (
    CitizenLimits,
    Counter,
    DeviceEntry,
    PriorityCategory,
    PriorityPolicy,
    Service,
    SiteConfig,
    TakingHours,
)
from luot.config.write import device_file, dump_toml

__all__ = [
    "ID_PATTERN",
    "ROLES",
    "BrokerSettings",
    "CitizenLimits",
    "ConfigError",
    "Counter",
    "DeviceConfig",
    "DeviceEntry",
    "KeyLines",
    "PriorityCategory",
    "PriorityPolicy",
    "Section",
    "Service",
    "SiteConfig",
    "TakingHours",
    "counter_number",
    "device_file",
    "dump_toml",
    "load_device",
    "load_site",
    "open_toml",
    "read_password",
    "read_toml",
    "service_code",
]
