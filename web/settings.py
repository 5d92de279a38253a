"""The `[web]` table of the web service's device.toml, validated key by key.

```toml
[web]
listen = "0.0.0.0"                     # where browsers reach the service
port = 8080
public_url = "http://luot-hub.local:8080"   # the base the kiosk prints on tickets
users_file = "/etc/luot/web-users"     # officers' and the leader's hashed passwords
ticket_key = "…"                       # the same as the kiosks' (ticket links)
hub = "hub"                            # the dispatcher's device id (its status on every page)
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from luot.config import DeviceConfig

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


@dataclass(frozen=True)
class WebSettings:
    listen: str
    port: int
    public_url: str
    users_file: Path
    ticket_key: bytes
    hub_id: str


def web_settings(device: DeviceConfig) -> WebSettings:
    device.require_role("web", "web")
    with device.role_section() as web:
        port = web.int("port", 8080, min=1, max=65535)
        key = web.str("ticket_key", "")
        if len(key) < 16:
            web.problem("ticket_key", "must be a random secret of at least 16 characters (the kiosks' too)")
        return WebSettings(
            listen=web.str("listen", "0.0.0.0"),
            port=port,
            public_url=web.str("public_url", f"http://luot-hub.local:{port}", pattern=_URL,
                               hint="an http:// or https:// address").rstrip("/"),
            users_file=Path(web.str("users_file", "/etc/luot/web-users")),
            ticket_key=key.encode("utf-8"),
            hub_id=web.str("hub", "hub"),
        )
