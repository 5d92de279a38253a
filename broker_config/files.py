"""Writing the hub's broker files: only what changed, with the right modes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker_config.acl import render_acl
from broker_config.mosquitto_conf import render_bridge, render_conf
from broker_config.options import Bridge, Listener
from broker_config.passwords import password_file_text


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write `text` unless the file already holds it; True when it changed."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        path.chmod(mode)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(mode)
    tmp.replace(path)
    return True

@dataclass(frozen=True)
class BrokerFiles:
    conf: Path
    password_file: Path
    acl_file: Path
    changed: tuple[Path, ...] = ()

def write_broker_files(
    directory: Path,
    *,
    site: str,
    passwords: dict[str, str],
    roles: dict[str, str],
    updaters: dict[str, tuple[str, ...]] | None = None,
    listeners: list[Listener],
    persistence_dir: Path | str | None,
    run_as_user: str | None = None,
    log_dest: str = "syslog",
    extra: str = "",
    installed_at: Path | None = None,
    bridge: Bridge | None = None,
    max_packet_size: int = 262144,
    max_queued_messages: int = 5000,
) -> BrokerFiles:
    """Write mosquitto.conf, passwd and acl into `directory` (passwords in clear → hashed).

    `installed_at` is where the files will live on the hub, if not here: the conf names
    the password and ACL files by that path.
    """
    directory.mkdir(parents=True, exist_ok=True)
    conf, passwd, acl = directory / "mosquitto.conf", directory / "passwd", directory / "acl"
    at = installed_at or directory
    previous = passwd.read_text(encoding="utf-8") if passwd.exists() else ""
    hub = next((u for u, r in sorted(roles.items()) if r == "hub"), "hub")
    texts: list[tuple[Path, str, int]] = [
        (passwd, password_file_text(passwords, previous), 0o640),
        (acl, render_acl(site, roles, updaters), 0o644),
        (
            conf,
            render_conf(
                listeners=listeners,
                password_file=at / "passwd",
                acl_file=at / "acl",
                persistence_dir=persistence_dir,
                run_as_user=run_as_user,
                log_dest=log_dest,
                extra="\n".join(x for x in (render_bridge(site, bridge, hub) if bridge else "", extra) if x),
                max_packet_size=max_packet_size,
                max_queued_messages=max_queued_messages,
            ),
            0o644,
        ),
    ]
    changed = tuple(path for path, text, mode in texts if write_if_changed(path, text, mode))
    return BrokerFiles(conf, passwd, acl, changed)
