"""bench.city: a city on this machine — a three-node RabbitMQ cluster, N hubs (each its own
Mosquitto, dispatcher and journal, bridged to the cluster), one collector into PostgreSQL —
playing a compressed day while one RabbitMQ node is killed and one hub's uplink is cut.

At the end every hub's journal must be in PostgreSQL (`lost` 0, `duplicates` 0) and the
city's figures of each centre must equal that centre's own `luot report`. Figures: the event
lag from hub to PostgreSQL beside the raw bridge latency measured in the same run (a
message through the hub's broker, the bridge and the cluster), and the events per second one
collector stores when every hub resends its whole journal at once.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import BENCH_SITE, emit, summary_ms, wait_or_fail
from city import store
from city.collector import cluster_client
from city.figures import centre_figures
from dispatcher.journal import read_events
from luot import protocol as p
from luot.config import load_site
from luot.mqtt import CommandRefused, HubLink, make_paho_client, unique_client_id
from testbed.city import LinkedHub, cluster_settings, site_named
from testbed.postgres import Postgres
from testbed.rabbitmq import RabbitCluster, apply_city_policies
from testbed.supervisor import stop_process
from tools.report import report_figures


def bridge_latency(hub: LinkedHub, cluster: RabbitCluster, n: int) -> list[float]:
    """Raw latency: publish on the hub's broker, receive from the cluster (QoS 1)."""
    topic = f"luot/{hub.site.id}/event/probe"
    sent: dict[bytes, float] = {}
    took: list[float] = []
    sub = cluster_client(cluster_settings(cluster), unique_client_id("bench", "probe"))
    sub.on_message = lambda _c, _u, m: took.append(time.perf_counter() - sent[m.payload])
    ready = threading.Event()
    sub.on_subscribe = lambda *_: ready.set()
    sub.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    sub.connect(cluster.host, cluster.mqtt_ports[0])
    sub.loop_start()
    pub = make_paho_client(hub.broker.settings("hub"), unique_client_id("hub", "probe"))
    pub.connect(hub.broker.host, hub.broker.port)
    pub.loop_start()
    try:
        wait_or_fail(ready.is_set, 10, "the probe subscription")
        time.sleep(1.0)  # the subscription's binding reaches every node
        for i in range(n):
            key = str(i).encode()
            sent[key] = time.perf_counter()
            pub.publish(topic, key, qos=1)
            time.sleep(0.005)
        wait_or_fail(lambda: len(took) >= n, 20, "the probes at the cluster")
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()
    return took


def play_day(hub: LinkedHub, tickets: int, seed: int, done: list[int]) -> None:
    """One centre's compressed day: takes at the kiosk, calls, ratings and no-shows at counter 2."""
    rng = random.Random(seed)
    kiosk = HubLink(hub.broker.settings("kiosk-1"), device_id="kiosk-1", site=hub.site.id)
    counter = HubLink(hub.broker.settings("quay-2"), device_id="quay-2", site=hub.site.id)
    for link in (kiosk, counter):
        link.start()
        link.wait_connected(10)
    try:
        for i in range(tickets):
            kiosk.request("take", service=rng.choice(("CT", "HT")), timeout=10)
            if i % 2:
                op = "noshow" if rng.random() < 0.1 and i > 2 else "next"
                try:
                    ticket = counter.request(op, counter=2, timeout=10)["ticket"]
                except CommandRefused:
                    ticket = counter.request("next", counter=2, timeout=10)["ticket"]
                if ticket and rng.random() < 0.6:
                    counter.request("rate", counter=2, ticket=ticket["id"], score=rng.randint(1, 5),
                                    timeout=10)
            done[0] += 1
    finally:
        kiosk.stop()
        counter.stop()


def start_collector(cluster: RabbitCluster, dsn: str, name: str, first: int,
                    workdir: Path) -> subprocess.Popen[bytes]:
    """`luot city collect` in its own process, as a city runs it; back once it has subscribed."""
    nodes = ", ".join(f'"{e.host}:{e.port}"' for e in cluster_settings(cluster, first=first).endpoints)
    config = workdir / f"{name}.toml"
    config.write_text(
        f'[cluster]\nnodes = [{nodes}]\nusername = "{cluster.username}"\npassword = "{cluster.password}"\n\n'
        f'[database]\ndsn = "{dsn}"\n\n[collector]\nname = "{name}"\n', encoding="utf-8")
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "city", "collect", "--config", str(config)],
                                   stdout=out, stderr=subprocess.STDOUT)
    wait_or_fail(lambda: "subscribed at" in log.read_text(encoding="utf-8"), 20, f"collector {name}")
    return process


def stored_count(dsn: str) -> int:
    db = store.connect(dsn)
    try:
        return db.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        db.close()


def journal(hub: LinkedHub) -> list[int]:
    db = sqlite3.connect(hub.database)
    try:
        return [e["seq"] for e in read_events(db, 0, limit=10_000_000)]
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 hubs, 60 tickets each (about a minute)")
    parser.add_argument("--hubs", type=int)
    parser.add_argument("--tickets", type=int, help="tickets per hub")
    args = parser.parse_args()
    n_hubs = args.hubs or (5 if args.quick else 20)
    tickets = args.tickets or (60 if args.quick else 400)
    site = load_site(BENCH_SITE)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="luot-bench-city-") as tmp:
        workdir = Path(tmp)
        cluster, pg = RabbitCluster(workdir / "rabbitmq"), Postgres()
        hubs: list[LinkedHub] = []
        collectors: list[subprocess.Popen[bytes]] = []
        try:
            cluster.start()
            apply_city_policies(cluster)
            pg.start()
            boot_s = time.monotonic() - started
            dsn = pg.new_database("city")
            collectors.append(start_collector(cluster, dsn, "bench", 0, workdir))
            nodes = {i: 1 + i % 2 for i in range(n_hubs)}  # node 0 keeps the collector
            for i in range(n_hubs):
                hub = LinkedHub(workdir / f"hub{i}", site_named(site, f"ward-{i:02d}"), cluster,
                                node=nodes[i])
                hub.start()
                hubs.append(hub)
            for hub in hubs:
                wait_or_fail(lambda h=hub: h.dispatcher.client.is_connected() and h.dispatcher.batches,
                             20, f"the dispatcher of {hub.site.id}")
            raw = bridge_latency(hubs[0], cluster, 100 if args.quick else 400)

            done = [0]
            day_started = time.monotonic()
            players = [threading.Thread(target=play_day, args=(h, tickets, i, done))
                       for i, h in enumerate(hubs)]
            for t in players:
                t.start()
            total = tickets * n_hubs
            wait_or_fail(lambda: done[0] >= total // 3, 300, "a third of the day")
            killed = cluster.nodes[2]
            cluster.kill_node(killed)  # its hubs' uplinks move to node 1, as a load balancer would
            for i, hub in enumerate(hubs):
                if nodes[i] == 2:
                    hub.uplink.retarget(cluster.host, cluster.mqtt_ports[1])
            cut = hubs[-1]
            wait_or_fail(lambda: done[0] >= total // 2, 300, "half the day")
            cut.uplink.cut()
            wait_or_fail(lambda: done[0] >= 3 * total // 4, 300, "three quarters of the day")
            cut.uplink.heal()
            for t in players:
                t.join()
            day_s = time.monotonic() - day_started
            journals = {h.site.id: journal(h) for h in hubs}

            def all_stored() -> bool:
                db = store.connect(dsn)
                try:
                    counts = dict(db.execute("SELECT hub, count(*) FROM events GROUP BY hub").fetchall())
                finally:
                    db.close()
                return all(counts.get(h, 0) >= len(seqs) for h, seqs in journals.items())

            wait_or_fail(all_stored, 180, "every journal in PostgreSQL", step=0.5)
            collected_s = time.monotonic() - day_started
            db = store.connect(dsn)
            try:
                rows = {h: [r[0] for r in db.execute(
                    "SELECT seq FROM events WHERE hub = %s ORDER BY seq", (h,))] for h in journals}
                lags = db.execute("SELECT hub, received_at - at FROM events").fetchall()
                city = centre_figures(db, "2000-01-01", "2100-01-01")
            finally:
                db.close()
            lost = sum(len(set(seqs) - set(rows[h])) for h, seqs in journals.items())
            duplicates = sum(max(0, len(rows[h]) - len(set(seqs))) for h, seqs in journals.items())
            unequal = []
            for hub in hubs:
                own = report_figures(hub.database, "2000-01-01", "2100-01-01", hub.site).total
                mine = city[hub.site.id]
                if (mine.issued, mine.served, mine.noshow, mine.wait_p90_min, mine.ratings) != (
                        own.issued, own.served, own.noshow, own.wait_p90_min, own.ratings):
                    unequal.append(hub.site.id)
            resends = (workdir / "bench.log").read_text(encoding="utf-8").count("asking ")

            # One collector's rate: a second collector on an empty database asks every hub
            # for its whole journal at once (it learns the heads from the heartbeats).
            dsn2 = pg.new_database("replay")
            collectors.append(start_collector(cluster, dsn2, "replay", 1, workdir))
            events = sum(len(s) for s in journals.values())
            asker = cluster_client(cluster_settings(cluster), unique_client_id("bench", "replay"))
            asker.connect(cluster.host, cluster.mqtt_ports[0])
            asker.loop_start()
            replay_started = time.monotonic()
            for hub, seqs in journals.items():
                asker.publish(f"luot/{hub}/{p.JOURNAL_RESEND}", p.encode({"from": 1, "to": max(seqs)}),
                              qos=1)
            wait_or_fail(lambda: stored_count(dsn2) >= events, 180, "the replay", step=0.05)
            rate = events / (time.monotonic() - replay_started)
            asker.disconnect()
            asker.loop_stop()
        finally:
            for c in collectors:
                stop_process(c, timeout=10)
            for hub in hubs:
                hub.stop()
            cluster.stop()
            pg.stop()
    lag = summary_ms([x for _, x in lags])
    calm = {h.site.id for i, h in enumerate(hubs) if nodes[i] == 1 and h is not cut}
    calm_lag = summary_ms([x for hub, x in lags if hub in calm]) if calm else lag
    bridge = summary_ms(raw)
    emit({
        "bench": "city", "quick": args.quick, "hubs": n_hubs, "tickets_per_hub": tickets,
        "events": events, "lost": lost, "duplicates": duplicates,
        "figures_equal_own_report": not unequal, "unequal": unequal,
        "node_killed": killed.name, "uplink_cut": cut.site.id, "resend_requests": resends,
        "event_lag_p50_ms": lag["p50_ms"], "event_lag_p99_ms": lag["p99_ms"],
        "event_lag_untouched_hubs_p50_ms": calm_lag["p50_ms"],
        "event_lag_untouched_hubs_p99_ms": calm_lag["p99_ms"],
        "raw_bridge_p50_ms": bridge["p50_ms"], "raw_bridge_p99_ms": bridge["p99_ms"],
        "day_s": round(day_s, 1), "collected_s": round(collected_s, 1),
        "collector_events_per_s": round(rate), "boot_s": round(boot_s, 1),
        "elapsed_s": round(time.monotonic() - started, 1),
    })


if __name__ == "__main__":
    main()
