"""The hostile-command drill: a corpus that Hypothesis generates from the protocol's schema,
sent as a kiosk, a counter and a display among the stream's valid commands.

Each payload drawn from `testbed.hostile.PAYLOADS` goes out as drawn; one in ten with the
retained flag; and every JSON object whose id is a string goes out a second time under that
id with another body (id reuse). Each carries its own MQTT v5 correlation data, which the
dispatcher's reply echoes, so every single payload is matched to its answer, even one that
is not JSON. Generating is the slow part (Hypothesis draws about 300 of these a second
here), so the corpus is drawn once per run and sent from each identity.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.faults.processes import running_centre, stream_tally, watched_stream
from luot import protocol as p
from luot.mqtt import make_paho_client, unique_client_id
from luot.protocol import Topics
from testbed.centre import LocalCentre
from testbed.faults import Tally, converged
from testbed.hostile import PAYLOADS

CHUNK = 500
CHUNK_ANSWER_S = 15.0
RETAINED_EVERY = 10


def draw_corpus(size: int, seed: int) -> list[bytes]:
    """`size` payloads drawn by Hypothesis, the same ones for the same seed."""
    drawn: list[bytes] = []

    @hypothesis_seed(seed)
    @settings(max_examples=size, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(PAYLOADS)
    def collect(payload: bytes) -> None:
        drawn.append(payload)

    collect()
    return drawn


def _reused(payload: bytes) -> bytes | None:
    """The same command id with another body, for a JSON object whose id is a string."""
    try:
        command = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(command, dict) or not isinstance(command.get("id"), str):
        return None
    other = {"id": command["id"], "op": "take" if command.get("op") != "take" else "next",
             "service": "HT", "counter": 3}
    return json.dumps(other, ensure_ascii=False).encode("utf-8", "surrogatepass")


def sendings(corpus: list[bytes]) -> list[tuple[bytes, bool]]:
    """(payload, retained) for one identity: the corpus, a tenth retained, then the id reuses."""
    out = [(payload, i % RETAINED_EVERY == 0) for i, payload in enumerate(corpus)]
    out += [(again, False) for again in map(_reused, corpus) if again is not None]
    return out


class HostileDevice:
    """One identity's connection (the broker binds client ids to users), matching every reply
    to its payload by correlation data."""

    def __init__(self, centre: LocalCentre, device: str) -> None:
        self.topics = Topics(centre.site.id)
        self.device = device
        self.answers: dict[bytes, dict[str, Any] | None] = {}
        self._answered = threading.Condition()
        subscribed = threading.Event()
        self.client = make_paho_client(centre.broker.settings(device), unique_client_id(device, "hostile"))
        self.client.on_connect = lambda c, *_: c.subscribe(self.topics.reply(device), qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_reply
        self.client.connect(centre.broker.host, centre.broker.port)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError(f"the hostile client for {device} could not subscribe")

    def _on_reply(self, _c: Any, _u: Any, msg: Any) -> None:
        tag = getattr(msg.properties, "CorrelationData", None) if msg.properties else None
        try:
            reply = json.loads(msg.payload)
        except ValueError:
            reply = None
        with self._answered:
            if isinstance(tag, bytes):
                self.answers[tag] = reply if isinstance(reply, dict) else None
            self._answered.notify_all()

    def send(self, payloads: list[tuple[bytes, bool]]) -> int:
        """Send in chunks, each waiting for its answers; returns how many got none."""
        for start in range(0, len(payloads), CHUNK):
            tags = []
            for n, (payload, retained) in enumerate(payloads[start:start + CHUNK], start):
                props = Properties(PacketTypes.PUBLISH)
                props.CorrelationData = tag = f"h{n}".encode()
                tags.append(tag)
                self.client.publish(self.topics.cmd(self.device), payload, qos=1, retain=retained,
                                    properties=props)
            with self._answered:
                self._answered.wait_for(lambda t=tags: all(x in self.answers for x in t), CHUNK_ANSWER_S)
        # A retained message stays on the topic: cleared, so no later subscriber is handed one.
        self.client.publish(self.topics.cmd(self.device), b"", qos=1, retain=True).wait_for_publish(5)
        return sum(f"h{n}".encode() not in self.answers for n in range(len(payloads)))

    def tickets(self) -> set[int]:
        """The tickets these payloads took (a valid take among the hostile ones)."""
        return {a["ticket"]["id"] for a in self.answers.values()
                if a and a.get("ok") and isinstance(a.get("ticket"), dict) and "id" in a["ticket"]}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def hostile_corpus(workdir: Path, rng: random.Random, corpus: list[bytes], commands: int) -> Tally:
    """The corpus from a spare kiosk, a counter and the display, while the stream goes on."""
    # The corpus's valid takes are real numbers: a long run reaches the field's daily cap,
    # and then the stream's takes are rightly refused as well.
    with running_centre(workdir) as centre, watched_stream(
            centre, rng, "admin", services=("CT",), expected=frozenset({p.CAP_REACHED})) as (stream, watch):
        identities = [next(d for d in centre.device_ids("kiosk") if d != stream.kiosk.device_id),
                      centre.counter_device(4), centre.device_ids("display")[0]]
        stream.foreign_counters.add(4)
        stop = threading.Event()

        def valid() -> None:
            while not stop.is_set():
                stream.step()

        thread = threading.Thread(target=valid, daemon=True)
        thread.start()
        sent = unanswered = 0
        try:
            for device in identities:
                hostile = HostileDevice(centre, device)
                try:
                    payloads = sendings(corpus)
                    unanswered += hostile.send(payloads)
                    sent += len(payloads)
                    stream.foreign_tickets |= hostile.tickets()
                finally:
                    hostile.close()
            while stream.sent < commands:
                stop.wait(0.01)
        finally:
            stop.set()
            thread.join()
        tally = stream_tally(stream)
        tally.bad_sent, tally.bad_answered = sent, sent - unanswered
        tally.unanswered += unanswered
        if not converged(watch, centre):
            tally.stuck_because("hostile_corpus: the retained state did not converge")
        return tally
