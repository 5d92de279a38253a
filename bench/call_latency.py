"""From a counter's `next` publish to a display-side subscriber holding the new
`state/counter/<n>`, beside the raw MQTT publish → receive on the same broker."""

from __future__ import annotations

import threading
import time
import uuid

from bench.common import bench_run, emit, summary_ms, wait_for_dispatcher
from luot import protocol as p
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from testbed.supervisor import stop_process


class DisplaySide:
    """A subscriber as a display is: it notes when each new ticket reaches counter 1's state."""

    def __init__(self, broker, topics: p.Topics) -> None:
        self.seen: dict[int, float] = {}
        self.changed = threading.Condition()
        self.client = make_paho_client(broker.settings("tv-1"), unique_client_id("tv-1", "bench"))
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(topics.counter_state(1), qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not subscribed.wait(5):
            raise RuntimeError("the display side could not subscribe")

    def _on_message(self, _c, _u, msg) -> None:
        state = p.decode(msg.payload)
        if state and state.get("ticket"):
            with self.changed:
                self.seen.setdefault(state["ticket"]["id"], time.perf_counter())
                self.changed.notify_all()

    def wait_for_any_new(self, known: set[int], timeout: float) -> tuple[int, float]:
        with self.changed:
            if not self.changed.wait_for(lambda: set(self.seen) - known, timeout):
                raise RuntimeError("the new counter state never arrived")
            new = (set(self.seen) - known).pop()
            return new, self.seen[new]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def main() -> None:
    with bench_run(__doc__ or "") as run:
        broker, site = run.broker, run.site
        n = 200 if run.quick else 900  # CT gives at most 999 numbers a day
        run.measure_raw(n, n)
        dispatcher = run.start_dispatcher()
        kiosk = HubLink(broker.settings("kiosk-1"), device_id="kiosk-1", site=site.id)
        kiosk.start()
        kiosk.wait_connected(10)
        wait_for_dispatcher(kiosk)
        for _ in range(n):
            kiosk.request("take", service="CT")
        display = DisplaySide(broker, p.Topics(site.id))
        counter = make_paho_client(broker.settings("quay-1"), unique_client_id("quay-1", "bench"))
        counter.connect(broker.host, broker.port)
        counter.loop_start()
        samples: list[float] = []
        try:
            for _ in range(n):
                known = set(display.seen)
                command = p.encode({"id": uuid.uuid4().hex, "op": "next", "counter": 1})
                sent = time.perf_counter()
                counter.publish(p.Topics(site.id).cmd("quay-1"), command, qos=1)
                _, arrived = display.wait_for_any_new(known, timeout=5)
                samples.append(arrived - sent)
        finally:
            counter.disconnect()
            counter.loop_stop()
            display.close()
            kiosk.stop()
            stop_process(dispatcher)
    emit({"bench": "call_latency", "n": n, **summary_ms(samples), **run.raw})


if __name__ == "__main__":
    main()
