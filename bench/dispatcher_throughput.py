"""Durable commands per second with 20 concurrent clients through the broker,
beside raw SQLite single-row commits per second with the same settings.

Also reports the dispatcher's resident memory after the run (≥ 10,000 tickets
in a full run).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import threading
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from bench.common import BENCH_SITE, BenchRun, bench_run, emit, rss_mb, wait_for_dispatcher
from luot.config import BrokerSettings, load_site
from luot.mqtt import HubLink
from testbed.supervisor import stop_process

CLIENTS = 20
PROCESSES = 4
SERVICES = "ABCDEFGHKLMN"  # 12 fields × 999 numbers: room for the full run's 10,000


def bench_site(workdir: Path) -> Path:
    """The test site with twelve services of 999 numbers each and 20 kiosks."""
    text = BENCH_SITE.read_text(encoding="utf-8")
    head, _, _ = text.partition("[[services]]")
    body = [head]
    for i, letter in enumerate(SERVICES):
        body.append(
            f'[[services]]\ncode = "S{letter}"\nprefix = "{letter}"\nname = "Lĩnh vực {i + 1}"\n'
            f'name_en = "Field {i + 1}"\ndaily_cap = 999\n'
            'checklist_url = "https://dichvucong.gov.vn/"\n'
        )
    body.append('[[counters]]\nnumber = 1\nservices = ["SA"]\n')
    body.append('[[devices]]\nid = "hub"\nrole = "hub"\n')
    body += [f'[[devices]]\nid = "kiosk-{n}"\nrole = "kiosk"\n' for n in range(1, CLIENTS + 1)]
    path = workdir / "site.toml"
    path.write_text("\n".join(body), encoding="utf-8")
    return path


def raw_commits_per_s(directory: Path, seconds: float) -> float:
    db = sqlite3.connect(str(directory / "raw.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    count = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        db.execute("BEGIN")
        db.execute("INSERT INTO t (v) VALUES ('x')")
        db.execute("COMMIT")
        count += 1
    elapsed = time.perf_counter() - start
    db.close()
    return count / elapsed


def main() -> None:
    with (tempfile.TemporaryDirectory(prefix="luot-site-") as scratch,
          bench_run(__doc__ or "", load_site(bench_site(Path(scratch)))) as run):
        result = throughput(run, 100 if run.quick else 500)
    emit(result)


def client_process(settings: list[tuple[str, BrokerSettings]], site_id: str, per_client: int,
                   start: Event, done: Queue) -> None:
    """Several clients in one process, each sending `take` after `take`, as fast as replies come."""
    links = [HubLink(b, device_id=device, site=site_id) for device, b in settings]
    for link in links:
        link.start()
    errors: list[str] = []

    def client(link: HubLink, index: int) -> None:
        try:
            for i in range(per_client):
                link.request("take", service=f"S{SERVICES[(index + i) % len(SERVICES)]}", timeout=10)
        except Exception as e:  # sent back to the parent, which fails the run
            errors.append(repr(e))

    try:
        for link in links:
            if not link.wait_connected(10):
                raise RuntimeError("a client could not connect")
        done.put("ready")
        start.wait()
        threads = [
            threading.Thread(target=client, args=(link, int(link.device_id.split("-")[1])))
            for link in links
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.put(errors[0] if errors else "ok")
    finally:
        for link in links:
            link.stop()


def throughput(run: BenchRun, per_client: int) -> dict[str, object]:
    """The clients' `take`s through the broker, then what the dispatcher stored, beside raw
    SQLite commits in the same scratch folder (the same disk)."""
    broker, site, workdir = run.broker, run.site, run.workdir
    raw = raw_commits_per_s(workdir, 1.0 if run.quick else 3.0)
    dispatcher = run.start_dispatcher()
    probe = HubLink(broker.settings("kiosk-1"), device_id="kiosk-1", site=site.id)
    probe.start()
    context = multiprocessing.get_context("fork")
    start, done = context.Event(), context.Queue()
    devices = [f"kiosk-{n}" for n in range(1, CLIENTS + 1)]
    groups = [devices[i::PROCESSES] for i in range(PROCESSES)]
    workers = [
        context.Process(
            target=client_process,
            args=([(d, broker.settings(d)) for d in group], site.id, per_client, start, done),
        )
        for group in groups
    ]
    try:
        probe.wait_connected(10)
        wait_for_dispatcher(probe)
        probe.stop()
        for w in workers:
            w.start()
        for _ in workers:
            if done.get(timeout=30) != "ready":
                raise RuntimeError("a client process failed to start")
        begin = time.perf_counter()
        start.set()
        outcomes = [done.get(timeout=300) for _ in workers]
        elapsed = time.perf_counter() - begin
        failures = [o for o in outcomes if o != "ok"]
        if failures:
            raise RuntimeError(f"a client failed: {failures[0]}")
        memory = rss_mb(dispatcher.pid)
    finally:
        for w in workers:
            w.join(timeout=10)
        stop_process(dispatcher)
    db = sqlite3.connect(f"file:{workdir / 'luot.db'}?mode=ro", uri=True)
    try:
        stored, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT day || ' ' || number) FROM tickets").fetchone()
    finally:
        db.close()
    total = CLIENTS * per_client
    return {
        "bench": "dispatcher_throughput",
        "clients": CLIENTS,
        "client_processes": PROCESSES,
        "commands": total,
        "cmds_per_s": round(total / elapsed),
        "raw_commits_per_s": round(raw),
        "ratio": round(total / elapsed / raw, 2),
        "dispatcher_rss_mb": memory,
        "tickets_in_db": stored,  # read back: one ticket per take acknowledged
        "distinct_numbers_in_db": distinct,
    }


if __name__ == "__main__":
    main()
