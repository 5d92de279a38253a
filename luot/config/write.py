"""The one TOML writer (tomli-w), for every file Lượt writes: bundles, test and demo centres."""

from __future__ import annotations

from typing import Any

import tomli_w


def dump_toml(data: dict[str, Any], *, comment: str = "") -> str:
    """`data` as TOML, after `comment` (one `# ` line per line of it)."""
    head = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    return head + tomli_w.dumps(data, multiline_strings=False)


def device_file(device_id: str, role: str, site: str, broker: dict[str, Any], *,
                log_level: str | None = None, comment: str = "", role_table: str = "") -> str:
    """A device.toml: who the device is and how it reaches the broker, then its role's table
    (`role_table`, TOML text, so that a template may carry the comments a technician reads)."""
    top: dict[str, Any] = {"id": device_id, "role": role, "site": site}
    if log_level:
        top["log_level"] = log_level
    top["broker"] = broker
    text = dump_toml(top, comment=comment)
    return text + ("\n" + role_table if role_table else "")
