"""The fleet's messages: the retained release the hub publishes and each Pi's update state.

`luot/<site>/fleet/release` (retained, written by the admin):
    {"version", "wheel", "sha256", "published", "canaries": {role: device id}}
`luot/<site>/device/<id>/update` (retained, written by the updater of that device's Pi):
    {"version", "target", "state", "detail", "at"}

A release is hostile until checked like any message: a wheel name that is a path, a hash
that is not one, a canary that is not a device id are refused with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from luot.config import ID_PATTERN, ROLES

MAX_RELEASE_BYTES = 2048
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!-]{0,39}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

# The states of `device/<id>/update`, in the order an update goes through them.
IDLE = "idle"  # on the release, or no release published
WAITING_CANARY = "waiting_canary"  # the release's first device of this role has not reported healthy
INSTALLING = "installing"  # the new virtualenv is being made
WAITING_QUIET = "waiting_quiet"  # installed; waiting for the roles to be between citizens
RESTARTING = "restarting"
CHECKING = "checking"  # restarted; waiting for every role to say it is up
HEALTHY = "healthy"  # on the release, every role up
ROLLED_BACK = "rolled_back"  # the release did not come up; the previous version runs again
FAILED = "failed"  # could not install; the previous version never stopped
HELD = "held"  # this role's canary rolled back or failed: the release is not tried here
STATES = (IDLE, WAITING_CANARY, INSTALLING, WAITING_QUIET, RESTARTING, CHECKING, HEALTHY, ROLLED_BACK,
          FAILED, HELD)


class ReleaseError(ValueError):
    """A release message that cannot be acted on; the message says why."""


@dataclass(frozen=True)
class Release:
    version: str
    wheel: str
    sha256: str
    published: str = ""
    canaries: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "wheel": self.wheel, "sha256": self.sha256,
                "published": self.published, "canaries": dict(self.canaries)}


def wheel_name_ok(wheel: str, version: str) -> bool:
    """Lượt's own pure wheel of exactly this version, a file name and never a path."""
    return wheel == f"luot-{version}-py3-none-any.whl"


def parse_release(payload: bytes) -> Release | None:
    """The retained release, None for a cleared topic, or ReleaseError saying what is wrong."""
    if not payload:
        return None
    if len(payload) > MAX_RELEASE_BYTES:
        raise ReleaseError(f"{len(payload)} bytes; a release is at most {MAX_RELEASE_BYTES}")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise ReleaseError("not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise ReleaseError("a release is a JSON object")
    unknown = sorted(set(data) - {"version", "wheel", "sha256", "published", "canaries"})
    if unknown:
        raise ReleaseError(f"unknown field {unknown[0]!r}")
    version, wheel, sha256 = data.get("version"), data.get("wheel"), data.get("sha256")
    if not isinstance(version, str) or not VERSION.match(version):
        raise ReleaseError("'version' must be a version such as 0.2.0")
    if not isinstance(wheel, str) or not wheel_name_ok(wheel, version):
        raise ReleaseError(f"'wheel' must be luot-{version}-py3-none-any.whl")
    if not isinstance(sha256, str) or not SHA256.match(sha256):
        raise ReleaseError("'sha256' must be 64 lower-case hex digits")
    published = data.get("published", "")
    if not isinstance(published, str) or len(published) > 40:
        raise ReleaseError("'published' must be a time of at most 40 characters")
    canaries = data.get("canaries", {})
    if not isinstance(canaries, dict) or not all(
            isinstance(role, str) and role in ROLES and isinstance(device, str) and ID_PATTERN.match(device)
            for role, device in canaries.items()):
        raise ReleaseError("'canaries' must map roles to device ids")
    return Release(version, wheel, sha256, published, dict(canaries))


@dataclass(frozen=True)
class UpdateState:
    """What one device's updater says: the version it runs, where an update stands."""

    version: str
    state: str
    target: str | None = None
    detail: str = ""
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "target": self.target, "state": self.state, "detail": self.detail,
                "at": self.at}


def parse_update_state(payload: bytes) -> UpdateState | None:
    """Another device's update state as the canary check reads it; None if unusable."""
    try:
        data = json.loads(payload.decode("utf-8")) if payload else None
    except (UnicodeDecodeError, RecursionError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    version, state, target = data.get("version"), data.get("state"), data.get("target")
    if not isinstance(version, str) or state not in STATES or not isinstance(target, (str, type(None))):
        return None
    detail = data.get("detail")
    return UpdateState(version, state, target, detail if isinstance(detail, str) else "")
