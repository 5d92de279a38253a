"""`luot report`: a day's (or a range of days') figures from the hub's database, for the leaders.

Per service and per counter: tickets, waits (mean, p90, max), service times,
no-shows, idle counter time and the citizens' satisfaction votes, as CSV
(UTF-8 with a byte-order mark, so a spreadsheet shows the Vietnamese) and a
one-page PNG summary, Vietnamese first. `luot simulate` computes and draws its
figures with the same code from the visits it simulated.
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import date
from pathlib import Path

from luot.config import ConfigError, load_site
from tools.report.database import latest_day, report_figures
from tools.report.spreadsheet import write_csv
from tools.report.summary import render_summary

DEFAULT_SITE = Path("/etc/luot/site.toml")


def _parse_day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD; got {text!r}") from None


def _vn_date(day: str) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="luot report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/var/lib/luot/luot.db"),
                        help="the dispatcher's database (default: %(default)s)")
    parser.add_argument("--site", type=Path, default=None,
                        help=f"site.toml, for service and counter names (default: {DEFAULT_SITE} if present)")
    day = "YYYY-MM-DD"
    parser.add_argument("--day", type=_parse_day, metavar=day, help="one day (default: the latest day)")
    parser.add_argument("--from", dest="first", type=_parse_day, metavar=day, help="first day of a range")
    parser.add_argument("--to", dest="last", type=_parse_day, metavar=day, help="last day of a range")
    parser.add_argument("--out", type=Path, default=Path("report"),
                        help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.day and (args.first or args.last):
        print("luot report: give either --day or --from/--to, not both")
        return 2
    if bool(args.first) != bool(args.last):
        print("luot report: --from and --to go together")
        return 2
    if args.first and args.first > args.last:
        print(f"luot report: --from {args.first} is after --to {args.last}")
        return 2
    if not args.db.is_file():
        print(f"luot report: {args.db}: no such database")
        return 2
    site = None
    site_file = args.site or (DEFAULT_SITE if DEFAULT_SITE.is_file() else None)
    if site_file is not None:
        try:
            site = load_site(site_file)
        except ConfigError as e:
            print(e.explain("luot report: configuration error: "))
            return 2
    try:
        first = args.first or args.day or latest_day(args.db)
        last = args.last or args.day or first
    except sqlite3.DatabaseError as e:
        print(f"luot report: {args.db} is not a Lượt database: {e}")
        return 2
    if first is None:
        print(f"luot report: {args.db} holds no tickets yet")
        return 2
    try:
        figures = report_figures(args.db, first, last, site)
    except sqlite3.DatabaseError as e:
        print(f"luot report: {args.db} is not a Lượt database: {e}")
        return 2
    period = _vn_date(first) if first == last else f"{_vn_date(first)} – {_vn_date(last)}"
    files = write_csv(figures, args.out)
    png = render_summary(
        args.out / "summary.png",
        figures,
        centre=site.name if site else "Lượt",
        title=f"Báo cáo hoạt động {period}",
        subtitle=f"Activity report {first}" + ("" if first == last else f" to {last}"),
        show_ratings=True,
    )
    print(f"{figures.total.issued} tickets, {figures.total.served} served, "
          f"mean wait {figures.total.wait_mean_min} min, p90 {figures.total.wait_p90_min} min")
    for path in [*files, png]:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
