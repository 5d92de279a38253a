"""The centre's time: chrony on every Pi, the hub serving the LAN, nothing outside it.

A Pi has no battery clock (a Pi 5 may have one) and the centre's LAN has no internet, so
Debian's default chrony.conf, which names a public pool, is replaced whole. The hub
follows the LAN's own time servers when the site names some (`[network] time_servers`,
the ward's router say) and serves its clock to the devices in any case (`local stratum
10`), so every screen, ticket and log of the centre agrees with the hub's. Every other Pi
takes the hub's time and steps to it at once whatever the gap: a Pi boots at the time it
last saved. Whether the hub's own clock may give numbers is the dispatcher's clock guard's
question (a technician's or the leader's confirmation when no server vouches for it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

from luot.config.section import ConfigError

NTP_PORT = 123
CHRONY_CONF = "/etc/chrony/chrony.conf"
# Who may ask the hub the time: the private address ranges a centre's LAN uses.
LAN_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")


def lan_time_server(file: str | Path) -> Callable[[Any, str], str]:
    """An item reader for `time_servers`: a private IP address, never a name that could
    resolve to a server outside the centre."""

    def read(value: Any, key: str) -> str:
        try:
            address = ipaddress.ip_address(value) if isinstance(value, str) else None
        except ValueError:
            address = None
        if address is None or not address.is_private or address.is_loopback:
            raise ConfigError(file, key, f"expected the address of a time server on the centre's LAN "
                                         f"(a private IP address such as \"192.168.1.1\"); got {value!r}")
        return str(address)

    return read


COMMON = (
    "# Step the clock at once whenever it is more than a second off: a Pi boots at the",
    "# time it last saved, and a business day follows the date.",
    "makestep 1 -1",
    "driftfile /var/lib/chrony/chrony.drift",
    "rtcsync",
)


def hub_chrony_conf(upstream: tuple[str, ...] = (), *, port: int = NTP_PORT) -> str:
    """The hub: the LAN's servers if any, then its own clock, served to the centre's devices."""
    lines = ["# Lượt hub (written by luot provision): the centre's clock. No internet source."]
    lines += [f"server {address} iburst" for address in upstream]
    lines += [
        "# With no server answering, the hub's own clock is the centre's time.",
        "local stratum 10",
        *(f"allow {network}" for network in LAN_NETWORKS),
        *([f"port {port}"] if port != NTP_PORT else []),
        *COMMON,
    ]
    return "\n".join(lines) + "\n"


def device_chrony_conf(hub_host: str, *, hub_port: int = NTP_PORT) -> str:
    """Every other Pi: the hub's time and nothing else."""
    option = f" port {hub_port}" if hub_port != NTP_PORT else ""
    return "\n".join([
        "# Lượt device (written by luot provision): the time comes from the hub alone.",
        f"server {hub_host}{option} iburst minpoll 4 maxpoll 8",
        *COMMON,
    ]) + "\n"


def chrony_conf(roles: tuple[str, ...], hub_host: str, upstream: tuple[str, ...] = ()) -> str:
    """The chrony.conf of a Pi with these roles."""
    return hub_chrony_conf(upstream) if "hub" in roles else device_chrony_conf(hub_host)
