"""`luot simulate`: a day of a ward centre at accelerated time, through the real parts.

A private Mosquitto, the real dispatcher as its own process, one kiosk and
one link per counter (each with its device's own credentials) send real
`take`, `next` and `noshow` commands. Citizens arrive as a Poisson stream
whose rate changes hour by hour (the load profile); officers press NEXT when
a citizen is done, wait a little for one who does not come and press NO-SHOW.

The dispatcher keeps the real clock, so simulated time lives here: events run
in simulated order, paced at `--ms-per-min` real milliseconds per simulated
minute, and waits are computed from the simulated time at which each ticket
was taken and called. Which ticket a counter gets is always the dispatcher's
choice. The planner's question (how many counters keep the p90 wait under a
target) is answered per service with Erlang C at each hour's arrival rate and
the simulated service times.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from luot.config import ConfigError, SiteConfig
from tools.report import Figures, render_summary, write_csv
from tools.simulate.day import DayResult, day_figures, simulate
from tools.simulate.plan import CentrePlan, hour_label, hourly_load, plan_centre, plan_lines, plan_section
from tools.simulate.profile import EXAMPLE_PROFILE, LoadProfile, load_profile


def write_outputs(out: Path, profile: LoadProfile, site: SiteConfig, result: DayResult,
                  figures: Figures, plan: CentrePlan | None = None) -> list[Path]:
    files = write_csv(figures, out)
    planning = out / "planning.csv"
    with planning.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["Giờ (hour)", "Phiếu/giờ (arrivals per hour)", "Tải, Erlang (load)",
                    "Phục vụ TB, phút (service mean, min)"])
        for hour, (arrivals, erlangs, service_min) in enumerate(hourly_load(profile)):
            w.writerow([hour_label(profile, hour), arrivals, round(erlangs, 2), round(service_min, 2)])
        if plan is not None and plan.answer is not None:
            w.writerow([])
            w.writerow(["Quầy (counter)", "Lĩnh vực, theo thứ tự (services, first first)"])
            w.writerows([c["number"], " ".join(c["services"])] for c in plan.answer.counters)
    tickets = out / "tickets.csv"
    with tickets.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["ticket", "number", "service", "status", "counter", "issued_min", "called_min",
                    "finished_min", "wait_min", "service_min", "estimated_wait_min"])
        for v in sorted(result.visits, key=lambda v: v.issued_at):
            estimate = result.estimates.get(v.ticket)
            w.writerow([v.ticket, v.number, v.service, v.status, v.counter or "",
                        *(("" if x is None else round(x / 60, 2))
                          for x in (v.issued_at, v.called_at, v.finished_at, v.wait_s, v.service_s)),
                        "" if estimate is None else estimate])
    png = render_summary(
        out / "summary.png",
        figures,
        centre=site.name,
        title="Mô phỏng một ngày làm việc",
        subtitle=f"A simulated day: {figures.total.issued} tickets, {len(site.counters)} counters, "
                 f"profile {Path(profile.file).name}, seed {profile.seed}",
        show_ratings=False,
        target_min=profile.p90_target_min,
        sections=(plan_section(plan, {s.code: s.name for s in site.services}, profile.p90_target_min),)
        if plan is not None else (),
    )
    return [*files, planning, tickets, png]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", type=Path, default=EXAMPLE_PROFILE,
                        help="the load profile (default: the example ward, %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("simulation"),
                        help="folder for the CSV files and the chart (default: %(default)s)")
    parser.add_argument("--p90-target-min", type=float, default=None,
                        help="the planner's target for the p90 wait, minutes (default: the profile's)")
    parser.add_argument("--ms-per-min", type=float, default=5.0,
                        help="real milliseconds per simulated minute; 0 runs flat out (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the profile's)")
    parser.add_argument("--no-plan", action="store_true",
                        help="only the day with the site's counters, not the planner's search")
    args = parser.parse_args(argv)
    if args.p90_target_min is not None and args.p90_target_min <= 0:
        print("luot simulate: --p90-target-min must be more than 0")
        return 2
    if args.ms_per_min < 0:
        print("luot simulate: --ms-per-min cannot be negative")
        return 2
    try:
        profile, _ = load_profile(args.profile)
    except ConfigError as e:
        print(e.explain("luot simulate: configuration error: "))
        return 2
    changes: dict[str, Any] = {}
    if args.p90_target_min is not None:
        changes["p90_target_min"] = args.p90_target_min
    if args.seed is not None:
        changes["seed"] = args.seed
    profile = replace(profile, **changes)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="luot-simulate-") as tmp:
        print(f"simulating {profile.hours} hours from {profile.opens:%H:%M} through a private broker "
              f"and dispatcher…", flush=True)
        result, site = simulate(profile, Path(tmp) / "day", args.ms_per_min)
        plan = None if args.no_plan else plan_centre(profile, Path(tmp), args.ms_per_min,
                                                     lambda line: print(line, flush=True))
    figures = day_figures(profile, site, result)
    files = write_outputs(args.out, profile, site, result, figures, plan)
    print(f"{figures.total.issued} tickets ({sum(result.refused.values())} refused at the daily cap), "
          f"{result.commands} commands in {result.real_s:.1f} s; day ended at "
          f"{hour_label(profile, 0)} + {result.closed_at_min / 60:.1f} h")
    print(f"{'service':<8}{'tickets':>8}{'wait':>8}{'p90':>8}{'max':>8}{'svc':>7}{'counters':>10}")
    for s in figures.services:
        serving = sum(s.code in c.services for c in site.counters)
        print(f"{s.code:<8}{s.issued:>8}{_num(s.wait_mean_min):>8}{_num(s.wait_p90_min):>8}"
              f"{_num(s.wait_max_min):>8}{_num(s.service_mean_min):>7}{serving:>10}")
    print("(minutes; 'counters' = the site's counters that serve the field)")
    if plan is not None:
        print("\n".join(plan_lines(plan, profile.p90_target_min)))
    mae, bias, compared, without = result.estimate_error()
    naive_mae, naive_bias, _, _ = result.estimate_error(naive=True)
    print(f"estimated wait on the tickets: mean absolute error {_num(mae)} min, mean error {_num(bias)} min "
          f"over {compared} tickets called ({without} printed with no estimate: no counter serving); "
          f"counting every counter the site lists instead: {_num(naive_mae)} and {_num(naive_bias)} min")
    for path in files:
        print(f"  {path}")
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    sys.exit(main())
