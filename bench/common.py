"""What every benchmark shares: a private broker, the raw MQTT baseline, process figures.

Each figure is printed beside a baseline measured in the same run, because
these machines are noisy: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luot.config import SiteConfig, load_site
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from luot.stats import percentile
from testbed.broker import Mosquitto
from testbed.centre import wait_until

BENCH_SITE = Path(__file__).resolve().parent.parent / "tests" / "data" / "site.toml"


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (under 30 s)")
    return parser.parse_args()


def summary_ms(samples_s: list[float], name: str = "", digits: int = 3) -> dict[str, float]:
    """Median and p99 in ms; a `name` prefixes the keys (`name_p50_ms`), so that the summary
    spreads straight into a benchmark's result."""
    ms = [s * 1000 for s in samples_s]
    key = f"{name}_" if name else ""
    return {
        f"{key}p50_ms": round(statistics.median(ms), digits),
        f"{key}p99_ms": round(percentile(ms, 99), digits),
    }


@dataclass
class BenchRun:
    """One benchmark's run: --quick, a private broker for its site, a scratch folder, and the
    raw MQTT baseline its own figures are set beside."""

    quick: bool
    broker: Mosquitto
    site: SiteConfig
    workdir: Path
    raw: dict[str, float] = field(default_factory=dict)

    def measure_raw(self, quick_n: int, full_n: int) -> None:
        """The baseline, measured when called rather than on entering the run: the kiosk's is
        taken with its in-process dispatcher already running."""
        self.raw = raw_round_trip(self.broker, quick_n if self.quick else full_n)

    def target_ms(self, slack_ms: float) -> float:
        """A path through the broker may take three raw round trips (p99), plus its own slack."""
        return 3 * self.raw["raw_p99_ms"] + slack_ms

    def start_dispatcher(self) -> subprocess.Popen[bytes]:
        """`python -m dispatcher` for this run's site as its own process, as on the hub, with
        its device.toml for this broker written in the scratch folder."""
        hub_table = (f'[hub]\nsite_file = "{self.site.file}"\ndatabase = "{self.workdir / "luot.db"}"\n'
                     "trust_clock = true\n")  # a bench machine's clock is taken as it is
        config = self.broker.write_device_file(self.workdir / "hub.toml", "hub", hub_table,
                                               log_level="warning")
        return subprocess.Popen([sys.executable, "-m", "dispatcher", "--config", str(config)])


@contextmanager
def bench_run(description: str, site: SiteConfig | None = None) -> Iterator[BenchRun]:
    """The command line read, then a private Mosquitto for `site` (the test site by default)
    running in a scratch folder until the block ends."""
    quick = parse_args(description).quick
    site = site or load_site(BENCH_SITE)
    with tempfile.TemporaryDirectory(prefix="luot-bench-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "broker", site.id, {d.id: d.role for d in site.devices})
        broker.start()
        try:
            yield BenchRun(quick, broker, site, workdir)
        finally:
            broker.stop()


def raw_round_trip(broker: Mosquitto, n: int) -> dict[str, float]:
    """The raw MQTT baseline: QoS 1 publish → receive through the same broker.

    It runs as the admin, a user that may both write `device/admin/...` and read it back
    (not as the hub: a user has one connection, and the hub's is the dispatcher's).
    """
    topic = f"luot/{broker.site}/device/admin/bench"
    client = make_paho_client(broker.settings("admin"), unique_client_id("admin", "bench"))
    got = threading.Event()
    subscribed = threading.Event()
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda *_: got.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        if not subscribed.wait(5):
            raise RuntimeError("the baseline client could not subscribe")
        samples: list[float] = []
        for _ in range(n):
            got.clear()
            start = time.perf_counter()
            client.publish(topic, b"x" * 64, qos=1)
            if not got.wait(2):
                raise RuntimeError("the baseline message did not come back")
            samples.append(time.perf_counter() - start)
        return summary_ms(samples, "raw")
    finally:
        client.disconnect()
        client.loop_stop()


def wait_or_fail(probe: Callable[[], object], timeout: float, what: str, step: float = 0.01) -> None:
    """Poll `probe` until truthy; a benchmark that cannot go on says what it waited for."""
    if not wait_until(probe, timeout, step):
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def wait_for_dispatcher(link: HubLink, timeout: float = 30.0) -> None:
    """Until the dispatcher's retained status says `online`: it publishes it after it has
    subscribed, so a command sent from then on is kept for it, even on its very first start."""
    wait_or_fail(lambda: link.hub_online, timeout, "the dispatcher's retained online", step=0.02)


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process, from /proc."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS in /proc status")


def cpu_seconds(pid: int | None = None) -> float:
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def idle_cpu_pct(pid: int, seconds: float) -> float:
    """CPU used by `pid` over `seconds` of wall time, in percent of one core."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return round((cpu_seconds(pid) - before) / seconds * 100, 2)


def process_figures(pid: int, idle_s: float, prefix: str = "") -> dict[str, float]:
    """A settled process's resident memory, then its CPU over `idle_s` left alone, as the
    counter, kiosk and web benchmarks report their process (`prefix` names whose it is)."""
    return {f"{prefix}rss_mb": rss_mb(pid), f"{prefix}idle_cpu_pct": idle_cpu_pct(pid, idle_s)}


def emit(result: dict[str, Any]) -> None:
    """The benchmark's last line."""
    print(json.dumps(result, ensure_ascii=False), flush=True)

