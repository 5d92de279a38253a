"""`/etc/luot/city.toml`: where the city's servers find the broker cluster and PostgreSQL.

    [cluster]
    nodes = ["10.1.0.11:8883", "10.1.0.12:8883", "10.1.0.13:8883"]
    username = "luot-city"
    password = "…"
    ca_file = "/etc/luot/city-ca.pem"   # TLS to the cluster; leave out for plain MQTT

    [database]
    dsn = "host=/var/run/postgresql dbname=luot_city"

    [collector]
    name = "collector-1"                # each collector its own: its session in the cluster

    [web]
    bind = "127.0.0.1"
    port = 8090
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from city.collector import ClusterSettings, Endpoint
from luot.config import ConfigError, open_toml

DEFAULT_FILE = Path("/etc/luot/city.toml")
_NODE = re.compile(r"([A-Za-z0-9.-]+):(\d{1,5})")


@dataclass(frozen=True)
class CitySettings:
    cluster: ClusterSettings
    dsn: str
    collector_name: str
    bind: str
    port: int


def _endpoint(value: Any, key: str) -> Endpoint:
    found = _NODE.fullmatch(value) if isinstance(value, str) else None
    if not found or not 1 <= int(found[2]) <= 65535:
        raise ConfigError(DEFAULT_FILE, key, f"expected \"host:port\", got {value!r}")
    return Endpoint(found[1], int(found[2]))


def load_city(path: Path = DEFAULT_FILE) -> CitySettings:
    """Read and check city.toml; every mistake reported at once with its line."""
    with open_toml(path) as top:
        c = top.section("cluster", required=True)
        nodes = c.list("nodes", _endpoint)
        if not nodes:
            c.problem("nodes", "expected at least one \"host:port\"")
        cluster = ClusterSettings(tuple(nodes), c.str("username"), c.str("password"),
                                  c.str("ca_file", None))
        dsn = top.section("database", required=True).str("dsn")
        name = top.section("collector").str("name", "collector-1")
        w = top.section("web")
        bind, port = w.str("bind", "127.0.0.1"), w.int("port", 8090, min=1, max=65535)
    return CitySettings(cluster, dsn, name, bind, port)
