"""Role units as processes, the way systemd runs them for the fleet's updater: each from the
venv link (`<root>/venv/bin/luot <role> --config …`), each with a RuntimeDirectory made at
start and removed at stop, so a `ready` file never outlives its process."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from testbed.supervisor import stop_process


class ProcessUnits:
    def __init__(self, root: Path, run: Path, commands: Mapping[str, list[str]],
                 env: Mapping[str, str], logs: Path) -> None:
        """`commands`: unit name → the arguments after `<root>/venv/bin/luot`."""
        self.root = root
        self.run = run
        self.commands = dict(commands)
        self.env = dict(env)
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: list[list[str]] = []

    def runtime_dir(self, unit: str) -> Path:
        return self.run / unit

    def start(self, unit: str) -> None:
        folder = self.runtime_dir(unit)
        folder.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{unit}.log").open("ab") as log:
            self.processes[unit] = subprocess.Popen(
                [str(self.root / "venv" / "bin" / "luot"), *self.commands[unit]],
                env={**os.environ, **self.env, "RUNTIME_DIRECTORY": str(folder)},
                stdout=log, stderr=subprocess.STDOUT, cwd=self.logs)

    def stop(self, unit: str) -> None:
        process = self.processes.pop(unit, None)
        if process is not None:
            stop_process(process, timeout=10)
        shutil.rmtree(self.runtime_dir(unit), ignore_errors=True)

    def restart(self, units: list[str]) -> None:
        self.restarts.append(list(units))
        for unit in units:
            self.stop(unit)
            self.start(unit)

    def stop_all(self) -> None:
        for unit in list(self.processes):
            self.stop(unit)
