"""What the board knows, built from MQTT messages: pure, no pygame, no network.

`BoardState.apply` takes one message and says which parts of the screen it
changed and whether it is a call to speak. Only a live `event/call` is spoken,
once per sequence number: retained state replayed after a reconnect or a
restart is shown, never announced again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from luot import protocol as p
from luot.mqtt import LINK_OFFLINE, LINK_ONLINE
from luot.speech import CallSpeech

RECENT_CALLS = 12


@dataclass(frozen=True)
class CounterView:
    number: int
    name: str
    ticket: str | None = None
    service: str | None = None
    status: str = "idle"
    call_seq: int = 0


@dataclass(frozen=True)
class CallView:
    seq: int
    counter: int
    counter_name: str
    number: str
    service: str
    recall: bool
    at: str


@dataclass(frozen=True)
class ServiceView:
    code: str
    name: str
    name_en: str
    waiting: int = 0
    served: int = 0
    avg_wait_min: float | None = None
    last_issued: str | None = None


@dataclass
class Change:
    """The parts of the screen a message touched, and the live calls among them (to speak)."""

    regions: set[str] = field(default_factory=set)
    relayout: bool = False
    calls: list[CallView] = field(default_factory=list)

    def merge(self, other: Change) -> None:
        self.regions |= other.regions
        self.relayout |= other.relayout
        self.calls += other.calls


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def counter_region(number: int) -> str:
    return f"counter:{number}"


class BoardState:
    """The last known state of the site, limited to the counters and services this board shows."""

    def __init__(self, *, counters: set[int] | None = None, services: set[str] | None = None) -> None:
        self.only_counters = counters
        self.only_services = services
        self.name = ""
        self.name_en = ""
        self.notice = ""
        self.timezone = "Asia/Ho_Chi_Minh"
        self.speech = CallSpeech()
        self.services: dict[str, ServiceView] = {}
        self.counters: dict[int, CounterView] = {}
        self.counter_services: dict[int, tuple[str, ...]] = {}
        self.site: dict[str, Any] = {}
        self.recent: deque[CallView] = deque(maxlen=RECENT_CALLS)
        self.newest: CallView | None = None
        self.link = LINK_OFFLINE
        # Calls heard, keyed by the hub database's epoch and the call's sequence number: a hub
        # whose database was recreated counts its calls from 1 again, and they are new calls.
        self._heard: deque[tuple[str, int]] = deque(maxlen=1000)

    # ------------------------------------------------------------------ filters

    def shows_counter(self, number: int, services: tuple[str, ...] | None = None) -> bool:
        if self.only_counters is not None and number not in self.only_counters:
            return False
        served = services if services is not None else self.counter_services.get(number)
        if self.only_services is not None and served is not None:
            return bool(self.only_services.intersection(served))
        return True

    def shows_service(self, code: str) -> bool:
        return self.only_services is None or code in self.only_services

    def service_name(self, code: str | None) -> str:
        if code is None:
            return ""
        view = self.services.get(code)
        return view.name if view else code

    # ------------------------------------------------------------------ messages

    @property
    def online(self) -> bool:
        """Calls are live: the broker is reached and the dispatcher says it is online."""
        return self.link == LINK_ONLINE

    def set_link(self, link: str) -> Change:
        if link == self.link:
            return Change()
        self.link = link
        return Change({"status"})

    def apply(self, topic: str, payload: Any, retained: bool) -> Change:
        """Fold one message in; a payload of the wrong shape is ignored, never a crash."""
        if topic == p.CONFIG and isinstance(payload, dict):
            return self._config(payload)
        if not isinstance(payload, dict):
            return Change()
        if topic.startswith(p.COUNTER_STATES):
            return self._counter(payload)
        if topic.startswith(p.SERVICE_STATES):
            return self._service(payload)
        if topic == p.SITE_STATE:
            return self._site(payload)
        if topic == p.CALL_EVENT and not retained:
            return self._call(payload)
        return Change()

    def _site(self, payload: dict[str, Any]) -> Change:
        old = self.site.get("epoch")
        self.site = payload
        if isinstance(old, str) and payload.get("epoch") != old:
            # The hub's database was replaced: its calls are not this board's recent calls.
            self.recent.clear()
            self.newest = None
            return Change({"figures", "current", "recent"})
        return Change({"figures"})

    def _config(self, catalogue: dict[str, Any]) -> Change:
        self.name = str(catalogue.get("name", ""))
        self.name_en = str(catalogue.get("name_en", ""))
        self.notice = " · ".join(
            str(t) for t in (catalogue.get("notice"), catalogue.get("notice_en")) if t
        )
        self.timezone = str(catalogue.get("timezone") or self.timezone)
        announce = catalogue.get("announce") or {}
        repeat = announce.get("repeat", 2) if isinstance(announce, dict) else 2
        self.speech = CallSpeech(
            repeat=repeat if isinstance(repeat, int) and 1 <= repeat <= 3 else 2,
            english=isinstance(announce, dict) and announce.get("english") is True,
        )
        for s in _items(catalogue.get("services")):
            if isinstance(s, dict) and isinstance(s.get("code"), str) and self.shows_service(s["code"]):
                old = self.services.get(s["code"], ServiceView(s["code"], "", ""))
                self.services[s["code"]] = ServiceView(
                    s["code"], str(s.get("name", s["code"])), str(s.get("name_en", "")),
                    old.waiting, old.served, old.avg_wait_min, old.last_issued,
                )
        counters: dict[int, CounterView] = {}
        for c in _items(catalogue.get("counters")):
            if not isinstance(c, dict) or not isinstance(c.get("number"), int):
                continue
            services = tuple(str(code) for code in _items(c.get("services")))
            self.counter_services[c["number"]] = services
            if self.shows_counter(c["number"], services):
                old = self.counters.get(c["number"], CounterView(c["number"], ""))
                name = str(c.get("name") or f"Quầy {c['number']}")
                counters[c["number"]] = replace(old, name=name)
        self.counters = dict(sorted(counters.items()))
        return Change({"header", "ticker", "services", "figures"}, relayout=True)

    def _counter(self, payload: dict[str, Any]) -> Change:
        number = payload.get("counter")
        if not isinstance(number, int):
            return Change()
        services = tuple(str(s) for s in _items(payload.get("services")))
        if not self.shows_counter(number, services or None):
            return Change()
        ticket = payload.get("ticket") if isinstance(payload.get("ticket"), dict) else None
        view = CounterView(
            number,
            str(payload.get("name") or f"Quầy {number}"),
            str(ticket.get("number", "")) if ticket else None,
            str(ticket.get("service", "")) if ticket else None,
            str(payload.get("status", "idle")),
            _count(payload.get("call_seq")),
        )
        change = Change()
        if number not in self.counters:
            change.relayout = True
        if self.counters.get(number) != view:
            self.counters[number] = view
            self.counters = dict(sorted(self.counters.items()))
            change.regions.add(counter_region(number))
        if change.regions and not self.recent:
            change.regions |= {"current", "recent"}
        return change

    def _service(self, payload: dict[str, Any]) -> Change:
        code = payload.get("service")
        if not isinstance(code, str) or not self.shows_service(code):
            return Change()
        old = self.services.get(code, ServiceView(code, code, ""))
        avg = payload.get("avg_wait_min")
        view = ServiceView(
            code, old.name, old.name_en,
            _count(payload.get("waiting")),
            _count(payload.get("served")),
            float(avg) if isinstance(avg, int | float) else None,
            payload.get("last_issued") if isinstance(payload.get("last_issued"), str) else None,
        )
        if view == old:
            return Change()
        self.services[code] = view
        return Change({"services"})

    def _call(self, payload: dict[str, Any]) -> Change:
        seq, counter, ticket = payload.get("seq"), payload.get("counter"), payload.get("ticket")
        if not isinstance(seq, int) or not isinstance(counter, int) or not isinstance(ticket, dict):
            return Change()
        epoch = payload.get("epoch", self.site.get("epoch"))
        key = (epoch if isinstance(epoch, str) else "", seq)
        if key in self._heard or not self.shows_counter(counter):
            return Change()
        self._heard.append(key)
        call = CallView(
            seq, counter, str(payload.get("counter_name") or f"Quầy {counter}"),
            str(ticket.get("number", "")), str(ticket.get("service", "")),
            bool(payload.get("recall")), str(payload.get("at", "")),
        )
        earlier = self.last_calls()
        regions = {"current", "recent", counter_region(counter)}
        if self.newest is not None:
            regions.add(counter_region(self.newest.counter))  # its card loses the newest call's frame
        self.newest = call
        others = [c for c in earlier if (c.counter, c.number) != (call.counter, call.number)]
        # The newest first; the oldest fall off the end (a deque given too many keeps the last).
        self.recent = deque([call, *others[:RECENT_CALLS - 1]], maxlen=RECENT_CALLS)
        known = counter in self.counters
        old = self.counters.get(counter, CounterView(counter, call.counter_name))
        self.counters[counter] = replace(
            old, ticket=call.number, service=call.service, status="serving", call_seq=seq
        )
        self.counters = dict(sorted(self.counters.items()))
        return Change(regions, relayout=not known, calls=[call])

    # ------------------------------------------------------------------ views

    def last_calls(self) -> list[CallView]:
        """The live calls, or before any: the tickets being served, the latest call first."""
        if self.recent:
            return list(self.recent)
        serving = sorted((c for c in self.counters.values() if c.ticket), key=lambda c: -c.call_seq)
        return [
            CallView(c.call_seq, c.number, c.name, c.ticket or "", c.service or "", False, "")
            for c in serving[:RECENT_CALLS]
        ]

    def earlier_calls(self) -> list[CallView]:
        """The calls before the one NOW CALLING shows, the latest first: the recent-calls panel."""
        current = self.current_call()
        return [c for c in self.last_calls() if c != current]

    def current_call(self) -> CallView | None:
        if self.newest is not None:
            return self.newest
        calls = self.last_calls()
        return calls[0] if calls else None
