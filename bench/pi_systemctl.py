#!/usr/bin/python3
"""systemctl for `make pi-test`'s emulated Pis, which run no systemd: installed as
/usr/local/sbin/systemctl in each root, it runs the luot-* units from their own unit files
(ExecStart, User, Environment, RuntimeDirectory, Restart=always) and hands every other unit
or verb to the real /usr/bin/systemctl (enable, daemon-reload). Standard library only: it
runs under the emulated Pi's python3.

    systemctl start|stop|restart luot-counter.service …
"""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

UNITS = Path("/etc/systemd/system")
STATE = Path("/run/pitest")
OVERRIDES = Path("/etc/luot-pitest.env")  # KEY=VALUE lines over every unit's Environment


def unit_file(name):
    name = name if name.endswith(".service") else f"{name}.service"
    return name, UNITS / name


def read_unit(path):
    settings = {"Environment": []}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#"):
            continue
        value = value.replace("%t", "/run").replace("%C", "/var/cache")  # the specifiers used
        if key == "Environment":
            settings["Environment"] += shlex.split(value)
        else:
            settings[key] = value
    return settings


def make_directories(unit):
    """StateDirectory= and CacheDirectory=, owned by the unit's user, as systemd makes them."""
    for key, base in (("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache")):
        if unit.get(key):
            folder = Path(base) / unit[key]
            folder.mkdir(parents=True, exist_ok=True)
            if unit.get("User"):
                subprocess.run(["chown", f"{unit['User']}:{unit['User']}", str(folder)], check=False)


def environment(unit, runtime):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "HOME": "/root"}
    env.update(item.split("=", 1) for item in unit["Environment"] if "=" in item)
    if OVERRIDES.is_file():
        env.update(line.split("=", 1) for line in OVERRIDES.read_text().splitlines() if "=" in line)
    if runtime:
        env["RUNTIME_DIRECTORY"] = str(runtime)
    return env


def supervise(name):
    """The unit's process, started again after it ends while Restart=always (as systemd does)."""
    unit = read_unit(unit_file(name)[1])
    user = unit.get("User")
    argv = shlex.split(unit["ExecStart"])
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    runtime = Path("/run") / unit["RuntimeDirectory"] if unit.get("RuntimeDirectory") else None
    make_directories(unit)
    log = open(f"/tmp/{name}.log", "ab")  # noqa: SIM115 (the unit's journal, open while it runs)
    running: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: [child.terminate() for child in running])
    while not (STATE / f"{name}.stopping").exists():
        if runtime:
            runtime.mkdir(mode=0o700, exist_ok=True)
            if user:
                subprocess.run(["chown", f"{user}:{user}", str(runtime)], check=False)
        child = subprocess.Popen(argv, env=environment(unit, runtime), stdout=log, stderr=subprocess.STDOUT)
        (STATE / f"{name}.pid").write_text(str(child.pid))
        running[:] = [child]
        child.wait()
        if runtime:
            subprocess.run(["rm", "-rf", str(runtime)], check=False)
        if unit.get("Restart") != "always":
            break
        time.sleep(float(unit.get("RestartSec", "2s").rstrip("s") or 2))
    log.close()


def stop(name):
    (STATE / f"{name}.stopping").touch()
    for kind in ("supervisor", "pid"):
        path = STATE / f"{name}.{kind}"
        if not path.exists():
            continue
        pid = int(path.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    for kind in ("supervisor", "pid"):
        (STATE / f"{name}.{kind}").unlink(missing_ok=True)


def start(name):
    (STATE / f"{name}.stopping").unlink(missing_ok=True)
    supervisor = subprocess.Popen([sys.executable, __file__, "_supervise", name], start_new_session=True,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    (STATE / f"{name}.supervisor").write_text(str(supervisor.pid))


def main(args):
    STATE.mkdir(parents=True, exist_ok=True)
    if args[:1] == ["_supervise"]:
        supervise(args[1])
        return 0
    verb, names = (args[0], args[1:]) if args else ("", [])
    ours = [unit_file(n)[0] for n in names if n.startswith("luot-") and unit_file(n)[1].is_file()]
    if verb not in ("start", "stop", "restart") or len(ours) != len(names):
        os.execv("/usr/bin/systemctl", ["systemctl", *args])
    for name in ours:
        if verb in ("stop", "restart"):
            stop(name)
        if verb in ("start", "restart"):
            start(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
