"""`python -m bench.faults`: every drill, their counts summed, one JSON line at the end."""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import emit
from bench.faults import __doc__ as overview
from bench.faults.corpus import draw_corpus, hostile_corpus, sendings
from bench.faults.host import clock_jumps, full_card
from bench.faults.peers import dispatcher_away, printer_fails, take_client_ids
from bench.faults.processes import cut_display, kill_dispatcher, restart_broker
from testbed.faults import Tally

Drill = Callable[[Path, int], Tally]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=overview,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--trials", type=int, help="dispatcher SIGKILLs in all (default 4 quick, 20 full)")
    parser.add_argument("--corpus", type=int,
                        help="hostile commands Hypothesis draws (default 1,500 quick, 27,000 full); each "
                             "is sent from three devices, with id reuses")
    return parser.parse_args()


def main() -> int:
    args = parse()
    logging.basicConfig(level=logging.CRITICAL, format="%(levelname)s %(name)s: %(message)s", force=True)
    quick = args.quick
    trials, commands, presses = (2, 120, 6) if quick else (5, 400, 12)
    kills = args.trials if args.trials is not None else (4 if quick else 20)
    rng = random.Random(7)
    started = time.monotonic()
    corpus = draw_corpus(args.corpus or (1500 if quick else 27000), seed=7)
    figures: dict[str, Any] = {"corpus_drawn": len(corpus),
                               "corpus_draw_s": round(time.monotonic() - started, 1)}
    per_kill_trial = max(1, min(kills, 10))
    kill_trials = -(-kills // per_kill_trial)
    drills: list[tuple[str, int, Drill]] = [
        ("kill_dispatcher", kill_trials, lambda w, i: kill_dispatcher(
            w, rng, commands, min(per_kill_trial, kills - i * per_kill_trial))),
        ("restart_broker", trials, lambda w, i: restart_broker(w, rng, commands, hard=i % 2 == 1)),
        ("cut_display", trials, lambda w, _: cut_display(w, rng, commands)),
        ("printer_fails", trials, lambda w, _: printer_fails(w, rng, commands // 10)),
        ("hostile_corpus", 1, lambda w, _: hostile_corpus(w, rng, corpus, commands)),
        ("dispatcher_away", 2, lambda w, i: dispatcher_away(w, rng, presses, frozen=i % 2 == 1)),
        ("take_client_ids", trials, lambda w, _: take_client_ids(w, rng, commands)),
        ("full_card", 1, lambda w, _: full_card(w, rng, commands)),
        ("clock_jumps", 2, lambda w, i: clock_jumps(w, rng, commands // 2, synchronised=i == 0)),
    ]
    total = Tally()
    with tempfile.TemporaryDirectory(prefix="luot-faults-") as tmp:
        for name, times, drill in drills:
            drill_started = time.monotonic()
            tally = Tally()
            for trial in range(times):
                tally.add(drill(Path(tmp) / f"{name}-{trial}", trial))
            figures[f"{name}_s"] = round(time.monotonic() - drill_started, 1)
            print(f"{name}: {tally}", file=sys.stderr, flush=True)
            total.add(tally)
    emit({
        "trials": total.trials,
        **{name: getattr(total, name) for name in Tally.COUNTS},
        "commands": total.commands,
        "resent": total.resent,
        "dispatcher_kills": total.kills,
        "hostile_sent": total.bad_sent,
        "hostile_answered": total.bad_answered,
        "hostile_per_device": len(sendings(corpus)),
        "notes": total.notes,
        "seconds": round(time.monotonic() - started, 1),
        **figures,
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
