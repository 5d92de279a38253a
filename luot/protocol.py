"""The MQTT contract of `shared/DESIGN.md`: topic names, command schemas, error codes.

Commands are JSON objects `{"id": ..., "op": ..., <fields>}` of at most 4 KiB.
A command that breaks the schema is refused with an error code; nothing in it
is guessed at. Whatever passes `parse_command` can be stored in SQLite and
encoded again: its strings are valid Unicode and its integers fit 64 bits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

MAX_PAYLOAD = 4096

# Error codes carried in `{"ok": false, "error": <code>, "detail": ...}`.
BAD_JSON = "bad_json"
TOO_LARGE = "too_large"
BAD_SCHEMA = "bad_schema"
UNKNOWN_OP = "unknown_op"
UNKNOWN_FIELD = "unknown_field"
UNKNOWN_DEVICE = "unknown_device"
FORBIDDEN = "forbidden"
DAY_CLOSED = "day_closed"
OUTSIDE_HOURS = "outside_hours"
CAP_REACHED = "cap_reached"
UNKNOWN_SERVICE = "unknown_service"
UNKNOWN_PRIORITY = "unknown_priority"
DUPLICATE_CITIZEN = "duplicate_citizen"
NO_CURRENT_TICKET = "no_current_ticket"
STALE = "stale"
NOT_FOUND = "not_found"
ALREADY_RATED = "already_rated"
TOO_DEEP = "too_deep"  # JSON nested deeper than a parser should follow
BAD_TEXT = "bad_text"  # a string that is not valid Unicode (a lone surrogate)
OUT_OF_RANGE = "out_of_range"  # an integer beyond 64 bits
RETAINED = "retained"  # a command published with the retained flag: never executed
ID_CONFLICT = "id_conflict"  # an id already used for another command
EXPIRED = "expired"  # arrived after its sender stopped waiting
STORAGE_FULL = "storage_full"  # the hub's card is full: nothing was stored
CLOCK_UNSURE = "clock_unsure"  # the hub's clock is not trusted yet: no numbers given
CITIZEN_LIMIT = "citizen_limit"  # this person has taken as many numbers today as the site allows
INTERNAL = "internal"  # a bug in the dispatcher, never bad input

RATINGS = {
    5: ("Rất hài lòng", "Very satisfied"),
    4: ("Hài lòng", "Satisfied"),
    3: ("Bình thường", "Neutral"),
    2: ("Không hài lòng", "Dissatisfied"),
    1: ("Rất không hài lòng", "Very dissatisfied"),
}


# Topic names relative to `luot/<site>/`, as HubLink hands them to its listeners.
# The one place they are spelled: every role, tool and the broker's ACL use these.
CONFIG = "config"
SITE_STATE = "state/site"
CALL_EVENT = "event/call"
STATE = "state/"
EVENT = "event/"
COUNTER_STATES = "state/counter/"  # + the counter's number
SERVICE_STATES = "state/service/"  # + the service's code
CMD = "cmd/"  # + the sending device's id
REPLY = "reply/"  # + the device's id
DEVICE = "device/"  # + the device's id + "/status", "/health" or "/install"
INSTALL_FAILED = "install-failed"  # a device/<id>/status while first boot retries
# The city's journal (dispatcher.journal): under the hub's grants, read by no device on the LAN.
JOURNAL = "reply/city/journal"  # hub → city: events with their per-hub sequence
JOURNAL_RESEND = "cmd/city/journal"  # city → hub: {"from": seq, "to": seq}
# An officer's reprint of a ticket a kiosk could not print: the web service → that kiosk,
# {"id": ..., "number": ...}; the kiosk answers on its own device/<id>/reprinted with
# {"id", "number", "ok", "error"}. The dispatcher is not involved: no number changes.
REPRINT = "reprint/"  # + the kiosk's id
REPRINTED = "reprinted"  # device/<kiosk>/reprinted
# Fleet updates (fleet/): the release the admin publishes on the hub, retained, and where each
# device's update stands, retained at device/<id>/update by the updater of its Pi.
FLEET_RELEASE = "fleet/release"
UPDATE = "update"  # device/<id>/update
UPDATER_PREFIX = "updater."  # + the Pi's hostname: each Pi's updater's broker user


def counter_state(number: int) -> str:
    return f"{COUNTER_STATES}{number}"


def service_state(code: str) -> str:
    return f"{SERVICE_STATES}{code}"


class Topics:
    """Topic names under `luot/<site>/`."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.root = f"luot/{site}/"

    def cmd(self, device: str) -> str:
        return f"{self.root}{CMD}{device}"

    def reply(self, device: str) -> str:
        return f"{self.root}{REPLY}{device}"

    def counter_state(self, number: int) -> str:
        return self.root + counter_state(number)

    def service_state(self, code: str) -> str:
        return self.root + service_state(code)

    @property
    def site_state(self) -> str:
        return self.root + SITE_STATE

    @property
    def call_event(self) -> str:
        return self.root + CALL_EVENT

    @property
    def config(self) -> str:
        return self.root + CONFIG

    def device_topic(self, device: str, kind: str) -> str:
        """`device/<id>/<kind>`: a device's own space (status, health, install, update, …)."""
        return f"{self.root}{DEVICE}{device}/{kind}"

    def device_status(self, device: str) -> str:
        return self.device_topic(device, "status")

    def device_health(self, device: str) -> str:
        return self.device_topic(device, "health")

    def device_install(self, device: str) -> str:
        """Retained: how first boot went (state, step, reason), from the device's installer."""
        return self.device_topic(device, "install")

    def device_reprinted(self, kiosk: str) -> str:
        return self.device_topic(kiosk, REPRINTED)

    def device_update(self, device: str) -> str:
        """Retained: where a fleet update stands, from the updater of the device's Pi."""
        return self.device_topic(device, UPDATE)

    def reprint(self, kiosk: str) -> str:
        return f"{self.root}{REPRINT}{kiosk}"

    @property
    def fleet_release(self) -> str:
        return self.root + FLEET_RELEASE

    def relative(self, topic: str) -> str:
        """`luot/<site>/state/site` → `state/site`."""
        return topic[len(self.root):] if topic.startswith(self.root) else topic


# Field specs: name → (accepted types, required). `None` in the types allows null.
_COUNTER = {"counter": ((int,), True), "expect": ((int, type(None)), False)}
OPS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "take": {
        "service": ((str,), True),
        "priority": ((str, type(None)), False),
        "citizen": ((str, type(None)), False),
    },
    "next": _COUNTER,
    "recall": _COUNTER,
    "noshow": _COUNTER,
    "done": _COUNTER,
    "requeue": _COUNTER,
    "transfer": {**_COUNTER, "service": ((str,), True)},
    "pause": {"counter": ((int,), True)},
    "resume": {"counter": ((int,), True)},
    "rate": {"counter": ((int,), True), "ticket": ((int,), True), "score": ((int,), True)},
    "open": {"until": ((str, type(None)), False)},  # a special session's end, "HH:MM" today
    "close": {},
    "confirm_clock": {},  # a technician says the hub's clock is right after a jump
}

# Which ops each role may send. Counter ops are further limited to the device's own counter.
ROLE_OPS: dict[str, frozenset[str]] = {
    "kiosk": frozenset({"take"}),
    "counter": frozenset(
        {"next", "recall", "noshow", "done", "requeue", "transfer", "pause", "resume", "rate"}
    ),
    "admin": frozenset(OPS),
    # The hub's web service: officers' consoles (only for the counters its inventory entry
    # lists in `counters`) and the leader's open/close of the day and confirmation of the clock.
    "web": frozenset(
        {"next", "recall", "noshow", "done", "requeue", "transfer", "pause", "resume", "open", "close",
         "confirm_clock"}
    ),
    "display": frozenset(),
    "hub": frozenset(),
}


class CodedError(Exception):
    """A refusal or a fault: its `code` for the program that decides, its `detail` for a person."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ProtocolError(CodedError):
    """A command that cannot be accepted, with its wire error code."""


@dataclass(frozen=True)
class Command:
    id: str
    op: str
    fields: dict[str, Any]


INT_RANGE = range(-(2**63), 2**63)  # what SQLite stores as an INTEGER


def _valid_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_command(payload: bytes) -> Command:
    """Decode and validate one command, or raise ProtocolError."""
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(TOO_LARGE, f"{len(payload)} bytes; the limit is {MAX_PAYLOAD}")
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError(BAD_JSON, "payload is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise ProtocolError(BAD_JSON, f"payload is not JSON: {e.msg} at {e.pos}") from None
    except RecursionError:
        raise ProtocolError(TOO_DEEP, "payload is nested too deep") from None
    except ValueError as e:  # e.g. an integer of more digits than Python converts
        raise ProtocolError(BAD_JSON, f"payload is not usable JSON: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError(BAD_SCHEMA, "a command is a JSON object")
    for key, value in data.items():
        if not _valid_text(key) or (isinstance(value, str) and not _valid_text(value)):
            raise ProtocolError(BAD_TEXT, "a key or string is not valid Unicode text")
    command_id = data.pop("id", None)
    if not isinstance(command_id, str) or not 1 <= len(command_id) <= 64:
        raise ProtocolError(BAD_SCHEMA, "'id' must be a string of 1 to 64 characters")
    op = data.pop("op", None)
    if not isinstance(op, str):
        raise ProtocolError(BAD_SCHEMA, "'op' must be a string")
    spec = OPS.get(op)
    if spec is None:
        raise ProtocolError(UNKNOWN_OP, f"unknown op {op!r}; known ops: {', '.join(sorted(OPS))}")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise ProtocolError(UNKNOWN_FIELD, f"op {op!r} has no field {unknown[0]!r}")
    for name, (types, required) in spec.items():
        if name not in data:
            if required:
                raise ProtocolError(BAD_SCHEMA, f"op {op!r} needs field {name!r}")
            continue
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ProtocolError(BAD_SCHEMA, f"field {name!r} must be {wanted}")
        if isinstance(value, str) and len(value) > 128:
            raise ProtocolError(BAD_SCHEMA, f"field {name!r} is longer than 128 characters")
        if isinstance(value, int) and value not in INT_RANGE:
            raise ProtocolError(OUT_OF_RANGE, f"field {name!r} does not fit 64 bits")
    return Command(command_id, op, data)


@dataclass(frozen=True)
class ReprintOrder:
    id: str
    number: str


def parse_reprint_order(payload: bytes) -> ReprintOrder:
    """An officer's reprint order as a kiosk receives it, or ValueError saying what is wrong."""
    if len(payload) > 512:
        raise ValueError(f"{len(payload)} bytes; a reprint order is at most 512")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise ValueError("not UTF-8 JSON") from None
    if not isinstance(data, dict) or set(data) != {"id", "number"}:
        raise ValueError("a reprint order is an object with exactly 'id' and 'number'")
    order_id, number = data["id"], data["number"]
    if not isinstance(order_id, str) or not 1 <= len(order_id) <= 64 or not _valid_text(order_id):
        raise ValueError("'id' must be a string of 1 to 64 characters")
    if not (isinstance(number, str) and 1 <= len(number) <= 12 and number.isascii() and number.isalnum()):
        raise ValueError("'number' must be a ticket number (1 to 12 letters and digits)")
    return ReprintOrder(order_id, number)


def digest(cmd: Command) -> str:
    """What a command asks for, without its id: the same id with another digest is a conflict."""
    body = json.dumps({"op": cmd.op, **cmd.fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(payload: bytes) -> Any:
    """Decode a state or event payload; an empty retained payload (a cleared topic) is None."""
    if not payload:
        return None
    return json.loads(payload.decode("utf-8"))


def ok_reply(command_id: str, **body: Any) -> dict[str, Any]:
    return {"id": command_id, "ok": True, **body}


def error_reply(command_id: str | None, code: str, detail: str) -> dict[str, Any]:
    return {"id": command_id, "ok": False, "error": code, "detail": detail}
