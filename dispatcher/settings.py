"""The `[hub]` table of the hub's device.toml: the site file, the database, and how the
nightly backup and the retention rules treat it (`[hub.backup]`, `[hub.retention]`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dispatcher.retention import Retention, load_retention
from luot.config import DeviceConfig


@dataclass(frozen=True)
class BackupOptions:
    folder: Path = Path("/var/lib/luot/backups")
    keep_days: int = 14
    retention: Retention = field(default_factory=Retention)


@dataclass(frozen=True)
class HubSettings:
    site_file: Path
    database: Path
    backup: BackupOptions
    # False (the default): numbers only on a clock the kernel says is synchronised, or a
    # technician confirmed (dispatcher.clock). True only where nothing serves the time,
    # as on a laptop running the demo or the drills.
    trust_clock: bool = False


def load_hub_settings(device: DeviceConfig) -> HubSettings:
    default = BackupOptions()
    with device.role_section() as hub:
        site_file = Path(hub.str("site_file", "/etc/luot/site.toml"))
        database = Path(hub.str("database", "/var/lib/luot/luot.db"))
        trust_clock = hub.bool("trust_clock", False)
        b = hub.section("backup")
        backup = BackupOptions(
            folder=Path(b.str("folder", str(default.folder))),
            keep_days=b.int("keep_days", default.keep_days, min=1, max=3650),
            retention=load_retention(hub),
        )
        return HubSettings(site_file, database, backup, trust_clock)
