"""A throwaway PostgreSQL cluster for the city tests and bench: initdb and pg_ctl in a
temporary folder, listening on a free loopback port, never the machine's own (5432).

PostgreSQL refuses to run as root, so under root the cluster belongs to Debian's
`postgres` user and its commands run through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from testbed.broker import free_port

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_binary(name: str) -> str:
    for d in PG_BIN_DIRS:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: apt-get install postgresql")
    return found


def postgres_installed() -> bool:
    try:
        pg_binary("initdb")
    except RuntimeError:
        return False
    return True


class Postgres:
    """One PostgreSQL cluster in its own folder; `dsn` reaches its `city` database."""

    host = "127.0.0.1"

    def __init__(self, user: str = "city", database: str = "city") -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="luot-pg-"))
        self.data = self.workdir / "data"
        self.port = free_port()
        self.user = user
        self.database = database
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.workdir, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def dsn(self) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={self.database}"

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        self._run(pg_binary("initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-c listen_addresses={self.host} -c port={self.port} "
                   f"-c unix_socket_directories={self.workdir} -c fsync=off -c max_connections=200")
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-l", str(self.workdir / "log"),
                  "-o", options, "-w", "-t", "60", "start")
        self._run(pg_binary("createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user,
                  self.database)

    def new_database(self, name: str) -> str:
        """Create a database named after `name` (made safe); its DSN."""
        safe = "t_" + "".join(c if c.isalnum() else "_" for c in name.lower())[:50]
        self._run(pg_binary("createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user, safe)
        return f"host={self.host} port={self.port} user={self.user} dbname={safe}"

    def stop(self) -> None:
        if self.data.exists():
            self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.workdir, ignore_errors=True)
