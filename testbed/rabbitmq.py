"""A private three-node RabbitMQ cluster with its MQTT plugin, for the city tests and bench.

Debian's `rabbitmq-server` 3.10, run from its own scripts with every path, port and
the Erlang cookie in a temporary folder and its own epmd on a free port: never the
machine's own RabbitMQ (5672) or epmd (4369). The nodes find each other through
RabbitMQ's classic peer discovery, so the cluster forms as they boot.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from city.portal import COMMAND_TTL_S
from testbed.broker import free_port, listening
from testbed.supervisor import stop_process

RABBIT_SBIN = Path("/usr/lib/rabbitmq/bin")
NODES = 3


def rabbitmq_installed() -> bool:
    return (RABBIT_SBIN / "rabbitmq-server").exists()


@dataclass
class Node:
    name: str
    amqp_port: int
    dist_port: int
    mqtt_port: int
    base: Path
    process: subprocess.Popen[bytes] | None = None


class RabbitCluster:
    """`NODES` RabbitMQ nodes on loopback, one MQTT listener each, one user for everyone."""

    host = "127.0.0.1"

    def __init__(self, workdir: Path, *, nodes: int = NODES, username: str = "city",
                 password: str | None = None) -> None:
        self.workdir = workdir
        self.username = username
        self.password = password or secrets.token_urlsafe(12)
        self.epmd_port = free_port()
        self.cookie = secrets.token_hex(16)
        self.home = workdir / "home"
        self.nodes = [
            Node(f"luot{i}@localhost", free_port(), free_port(), free_port(), workdir / f"node{i}")
            for i in range(1, nodes + 1)
        ]

    @property
    def mqtt_ports(self) -> list[int]:
        return [n.mqtt_port for n in self.nodes]

    def _env(self, node: Node) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        env.update(
            HOME=str(self.home),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_NODENAME=node.name,
            RABBITMQ_NODE_IP_ADDRESS=self.host,
            RABBITMQ_NODE_PORT=str(node.amqp_port),
            RABBITMQ_DIST_PORT=str(node.dist_port),
            RABBITMQ_BASE=str(node.base),
            RABBITMQ_MNESIA_BASE=str(node.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(node.base / "log"),
            RABBITMQ_CONFIG_FILE=str(node.base / "rabbitmq"),  # .conf is added
            RABBITMQ_ADVANCED_CONFIG_FILE=str(node.base / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(node.base / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(node.base / "enabled_plugins"),
            RABBITMQ_ENABLED_PLUGINS="rabbitmq_mqtt",
            RABBITMQ_PID_FILE=str(node.base / "pid"),
            RABBITMQ_ALLOW_INPUT="",
        )
        return env

    def _write_files(self, node: Node) -> None:
        (node.base / "log").mkdir(parents=True, exist_ok=True)
        peers = "\n".join(
            f"cluster_formation.classic_config.nodes.{i} = {n.name}"
            for i, n in enumerate(self.nodes, 1)
        )
        (node.base / "rabbitmq.conf").write_text(
            "cluster_formation.peer_discovery_backend = classic_config\n"
            f"{peers}\n"
            f"listeners.tcp.default = {self.host}:{node.amqp_port}\n"
            "loopback_users = none\n"
            f"default_user = {self.username}\n"
            f"default_pass = {self.password}\n"
            f"mqtt.listeners.tcp.default = {self.host}:{node.mqtt_port}\n"
            "mqtt.allow_anonymous = false\n"
            "mqtt.subscription_ttl = 86400000\n"
            "mqtt.prefetch = 100\n"
            "management_agent.disable_metrics_collector = true\n"
            "log.file.level = warning\n"
            "log.console = false\n",
            encoding="utf-8",
        )
        (node.base / "advanced.config").write_text("[].\n", encoding="utf-8")
        (node.base / "rabbitmq-env.conf").write_text("", encoding="utf-8")
        (node.base / "enabled_plugins").write_text("[rabbitmq_mqtt].\n", encoding="utf-8")

    def start(self, timeout: float = 120.0) -> None:
        """Boot every node at once (classic discovery joins them) and wait for MQTT on each."""
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(self.cookie, encoding="ascii")
        cookie.chmod(0o400)
        for node in self.nodes:
            self._write_files(node)
        for node in self.nodes:
            self.start_node(node, wait=False)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            self._wait_mqtt(node, deadline)
        self._wait_cluster(deadline)

    def start_node(self, node: Node, *, wait: bool = True, timeout: float = 90.0) -> None:
        log = (node.base / "log" / "console.log").open("ab")
        node.process = subprocess.Popen(
            [str(RABBIT_SBIN / "rabbitmq-server")],
            env=self._env(node), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        if wait:
            self._wait_mqtt(node, time.monotonic() + timeout)

    def _wait_mqtt(self, node: Node, deadline: float) -> None:
        def exited() -> str | None:
            if node.process is not None and node.process.poll() is not None:
                return f"RabbitMQ node {node.name} exited: see {node.base / 'log'}"
            return None

        if not listening(self.host, node.mqtt_port, deadline, 0.1, exited):
            raise RuntimeError(f"RabbitMQ node {node.name} did not open MQTT on {node.mqtt_port}")

    def ctl(self, *args: str, node: Node | None = None, timeout: float = 30.0) -> str:
        node = node or next(n for n in self.nodes if n.process and n.process.poll() is None)
        done = subprocess.run(
            [str(RABBIT_SBIN / "rabbitmqctl"), "-n", node.name, *args],
            env=self._env(node), capture_output=True, text=True, timeout=timeout, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def running_nodes(self) -> set[str]:
        out = self.ctl("eval", "rabbit_nodes:all_running().")
        return {n.name for n in self.nodes if n.name in out}

    def _wait_cluster(self, deadline: float) -> None:
        wanted = {n.name for n in self.nodes}
        while time.monotonic() < deadline:
            if self.running_nodes() == wanted:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the RabbitMQ nodes did not form one cluster: {self.running_nodes()}")

    def kill_node(self, node: Node) -> None:
        """A node's power cut: SIGKILL the whole Erlang VM."""
        if node.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, 9)
            node.process.wait(timeout=10)
        node.process = None

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                stop_process(node.process, timeout=15)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, 9)
                node.process = None
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        subprocess.run([epmd, "-port", str(self.epmd_port), "-kill"],
                       capture_output=True, timeout=10, check=False,
                       env={**os.environ, "ERL_EPMD_PORT": str(self.epmd_port)})


# The policies a city sets once on its cluster (README, "Một thành phố"): every MQTT
# session's queue mirrored on every node, so a session outlives the node it was made on;
# and what waits for a hub's bridge (client ids `luot-<site>`: the portal's takes, resend
# requests) dropped after the portal's COMMAND_TTL_S, so a cut link never issues a number
# after the page said none was promised. RabbitMQ applies the highest priority that matches.
CLUSTER_POLICIES = (
    ("luot-mqtt-mirrored", "^mqtt-subscription-", 0, {"ha-mode": "all", "ha-sync-mode": "automatic"}),
    ("luot-hub-commands", "^mqtt-subscription-luot-", 1,
     {"ha-mode": "all", "ha-sync-mode": "automatic", "message-ttl": COMMAND_TTL_S * 1000}),
)


def apply_city_policies(cluster: RabbitCluster) -> None:
    for name, pattern, priority, definition in CLUSTER_POLICIES:
        cluster.ctl("set_policy", "--apply-to", "queues", "--priority", str(priority), name, pattern,
                    json.dumps(definition))
