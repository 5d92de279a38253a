"""Mosquitto 2.x configuration for a Lượt hub: conf, password file and ACL.

The same functions write the hub's files and the test fixtures' broker, so the
tests exercise the configuration that ships. One module a job: `passwords`,
`acl`, `options` (the `[broker]` table), `mosquitto_conf` (conf and bridge),
`files` (writing them).
"""

from broker_config.acl import COMMON_GRANTS, ROLE_GRANTS, grants, may, render_acl, site_roles, updater_users
from broker_config.files import BrokerFiles, write_broker_files, write_if_changed
from broker_config.mosquitto_conf import render_bridge, render_conf
from broker_config.options import (
    HUB_BROKER_DIR,
    HUB_BROKER_USER,
    HUB_PERSISTENCE_DIR,
    Bridge,
    BrokerOptions,
    Listener,
    TlsOptions,
    describe,
    load_broker_options,
)
from broker_config.passwords import (
    PBKDF2_ITERATIONS,
    SALT_BYTES,
    check_password_line,
    new_password,
    parse_password_file,
    password_file_text,
    password_line,
)

__all__ = [
    "COMMON_GRANTS", "HUB_BROKER_DIR", "HUB_BROKER_USER", "HUB_PERSISTENCE_DIR", "PBKDF2_ITERATIONS",
    "ROLE_GRANTS", "SALT_BYTES", "Bridge", "BrokerFiles", "BrokerOptions", "Listener", "TlsOptions",
    "check_password_line", "describe", "grants", "load_broker_options", "may", "new_password",
    "parse_password_file", "password_file_text", "password_line", "render_acl", "render_bridge",
    "render_conf", "site_roles", "updater_users", "write_broker_files", "write_if_changed",
]
