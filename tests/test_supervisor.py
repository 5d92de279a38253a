"""The demo's supervisor: restarts crashed children, stops every process it started."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest
from helpers import wait_for

from testbed.supervisor import Supervisor


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


FOREVER = "import time\nwhile True: time.sleep(1)"


@pytest.fixture
def supervisor():
    sup = Supervisor(backoff_initial_s=0.05, backoff_max_s=0.2, grace_s=1.0)
    yield sup
    sup.stop()


def test_a_killed_child_is_started_again(supervisor):
    child = supervisor.add("worker", python(FOREVER))
    supervisor.start()
    first = child.pid
    assert first is not None and alive(first)
    supervisor.kill("worker")
    wait_for(lambda: child.restarts == 1 and child.running, what="the restart")
    assert child.pid != first
    assert not alive(first)
    assert child.exit_codes == [-signal.SIGKILL]


def test_a_crashing_child_backs_off_and_keeps_being_restarted(supervisor):
    child = supervisor.add("crasher", python("raise SystemExit(3)"))
    supervisor.start()
    wait_for(lambda: child.restarts >= 3, timeout=10, what="three restarts")
    assert set(child.exit_codes) == {3}
    assert child.backoff_s == pytest.approx(0.2)


def test_a_child_that_finishes_is_not_restarted(supervisor):
    child = supervisor.add("once", python("pass"))
    # A child that fails, under the same restart policy, marks when a restart would have come.
    failing = supervisor.add("failing", python("raise SystemExit(3)"))
    supervisor.start()
    wait_for(lambda: child.finished, what="the child to finish")
    wait_for(lambda: failing.restarts >= 1, what="the failing child's restart")
    assert child.restarts == 0 and child.exit_codes == [0]


def test_stop_leaves_no_process_behind_even_a_stubborn_one(tmp_path):
    pids_file = tmp_path / "pids"
    stubborn = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids_file)!r}, 'w').write(f'{{os.getpid()}} {{grandchild.pid}}')\n"
        "while True: time.sleep(1)\n"
    )
    sup = Supervisor(grace_s=0.5)
    sup.add("stubborn", python(stubborn))
    polite = sup.add("polite", python(FOREVER))
    sup.start()
    wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 2, what="pids")
    pids = [int(p) for p in pids_file.read_text().split()] + [polite.pid]
    assert all(alive(p) for p in pids)
    started = time.monotonic()
    sup.stop()
    assert time.monotonic() - started < 3
    wait_for(lambda: not any(alive(p) for p in pids), timeout=3, what="every process to be gone")
    assert polite.exit_codes == [] and polite.process.returncode == -signal.SIGTERM


def test_lines_reach_a_childs_stdin_and_survive_a_restart(supervisor, tmp_path):
    out = tmp_path / "lines"
    echo = f"import sys\nfor line in sys.stdin:\n    open({str(out)!r}, 'a').write(line)\n"
    child = supervisor.add("echo", python(echo), stdin=True)
    supervisor.start()
    assert supervisor.send("echo", "next")
    wait_for(lambda: out.exists() and out.read_text() == "next\n", what="the first line")
    supervisor.kill("echo")
    wait_for(lambda: child.restarts == 1 and child.running, what="the restart")
    assert supervisor.send("echo", "recall\n")
    wait_for(lambda: out.read_text() == "next\nrecall\n", what="the second line")


def test_a_child_without_stdin_pipe_refuses_lines_and_names_are_unique(supervisor):
    supervisor.add("quiet", python(FOREVER))
    supervisor.start()
    assert not supervisor.send("quiet", "next")
    with pytest.raises(ValueError, match="already supervised"):
        supervisor.add("quiet", python(FOREVER))


def test_output_goes_to_the_childs_log_file(supervisor, tmp_path):
    log_file = tmp_path / "logs" / "talker.log"
    child = supervisor.add("talker", python("print('xin chào', flush=True)"), log_file=log_file)
    supervisor.start()
    wait_for(lambda: child.finished, what="the child to finish")
    assert log_file.read_text(encoding="utf-8") == "xin chào\n"
