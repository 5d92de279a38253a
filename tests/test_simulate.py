"""`luot simulate`: the planner's formulas, the load profile, and a simulated M/M/c queue
run through the real broker and dispatcher against its closed-form answer."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from luot.config import ConfigError, load_site
from testbed.centre import write_all_day_site
from tools.simulate import (
    EXAMPLE_PROFILE,
    counters_needed,
    day_figures,
    erlang_c,
    load_profile,
    main,
    mmc_mean_wait,
    simulate,
    write_outputs,
)
from tools.simulate.plan import plan_centre, plan_lines

SITE = """
[site]
id = "mmc-ward"
name = "Phường Kiểm Tra"
name_en = "Test ward"
[[services]]
code = "CT"
prefix = "A"
name = "Chứng thực"
name_en = "Certification"
checklist_url = "https://dichvucong.gov.vn/"
[[counters]]
number = 1
services = ["CT"]
[[counters]]
number = 2
services = ["CT"]
[[devices]]
id = "hub"
role = "hub"
[[devices]]
id = "kiosk-1"
role = "kiosk"
[[devices]]
id = "quay-1"
role = "counter"
counter = 1
[[devices]]
id = "quay-2"
role = "counter"
counter = 2
"""

# M/M/2 with λ = 24/h and a mean service of 3 min: a = 1.2, ρ = 0.6, C(2, 1.2) = 0.45,
# mean wait 1.69 min. 23 hours (a simulated day ends by midnight) give about 550 citizens.
PROFILE = """
[profile]
site_file = "site.toml"
opens = "00:00"
seed = 8
p90_target_min = 5
[[demand]]
service = "CT"
per_hour = [{rates}]
service_time = {{ distribution = "exponential", mean_min = 3 }}
"""


def write_profile(folder: Path, body: str, site: str = SITE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.toml").write_text(site, encoding="utf-8")
    path = folder / "profile.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_erlang_c_matches_known_values():
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ
    assert mmc_mean_wait(0.5, 1.0, 1) == pytest.approx(1.0)  # ρ / (μ − λ)
    assert mmc_mean_wait(0.4, 3.0, 2) == pytest.approx(0.45 / (2 / 3 - 0.4))
    assert erlang_c(3, 3.5) == 1.0


def test_counters_needed_answers_the_planner():
    # 60 citizens an hour of 4 minutes each is a load of 4 counters: it takes more to keep p90 low.
    needed = counters_needed(60, 4, target_min=10)
    assert needed is not None and needed > 4
    rate, load = 1.0, 4
    c = needed
    assert erlang_c(c, load) * math.exp(-(c - load) * 10 / 4) <= 0.1
    c = needed - 1
    assert erlang_c(c, load) * math.exp(-(c - load) * 10 / 4) > 0.1 * rate
    assert counters_needed(60, 4, target_min=60) <= needed
    assert counters_needed(0, 4, target_min=10) == 0


def test_a_simulated_mmc_queue_through_the_real_dispatcher_matches_erlang_c(tmp_path, artifacts):
    profile, _ = load_profile(write_profile(tmp_path / "in", PROFILE.format(rates=", ".join(["24"] * 23))))
    result, site = simulate(profile, tmp_path / "centre", ms_per_min=0)
    figures = day_figures(profile, site, result)
    waits = [v.wait_s / 60 for v in result.visits if v.wait_s is not None]
    services = [v.service_s / 60 for v in result.visits if v.service_s is not None]
    busy = sum(c.busy_min for c in figures.counters)
    span = result.closed_at_min * len(figures.counters)

    assert 470 <= len(result.visits) <= 640
    assert all(v.status == "served" for v in result.visits)
    assert sum(services) / len(services) == pytest.approx(3.0, rel=0.08)
    # Counters are busy exactly while serving; idle the rest of the day.
    assert busy == pytest.approx(sum(services), abs=1.0)
    assert sum(c.idle_min for c in figures.counters) == pytest.approx(span - busy, abs=5.0)
    # The mean wait of one run of 550 scatters by about a third around Erlang C (the run is
    # deterministic for a seed): compare with the closed form at the nominal rates and at the
    # run's own arrival rate and service mean. P(wait > 0) scatters far less.
    rate, mean_service = len(result.visits) / (23 * 60), sum(services) / len(services)
    mean_wait = sum(waits) / len(waits)
    assert mean_wait == pytest.approx(mmc_mean_wait(0.4, 3.0, 2), rel=0.25)
    assert mean_wait == pytest.approx(mmc_mean_wait(rate, mean_service, 2), rel=0.25)
    waited = sum(w > 0 for w in waits) / len(waits)
    assert waited == pytest.approx(erlang_c(2, 1.2), abs=0.06)
    assert waited == pytest.approx(erlang_c(2, rate * mean_service), abs=0.04)
    assert figures.total.wait_mean_min == pytest.approx(sum(waits) / len(waits), abs=0.01)
    # Both counters worked, and each ticket was called once, by one counter.
    assert {s.counter for s in result.stints} == {1, 2}
    # The wait printed on each ticket, against the wait it had: closer than the baseline that
    # counts people ahead at the catalogue's pace.
    mae, _, compared, without = result.estimate_error()
    assert compared == len(waits) and without == 0
    assert mae is not None and mae < result.estimate_error(naive=True)[0] + 0.5 and mae < 3.0, mae
    assert len({s.ticket for s in result.stints}) == len(result.stints)

    files = write_outputs(tmp_path / "out", profile, site, result, figures)
    assert {f.name for f in files} >= {"services.csv", "counters.csv", "planning.csv", "summary.png"}
    (artifacts / "simulate-mmc-summary.png").write_bytes((tmp_path / "out" / "summary.png").read_bytes())
    planning = (tmp_path / "out" / "planning.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(planning) == 24 and planning[1].startswith("00:00,24.0,1.2,3.0")


def test_the_example_profile_is_a_ward_of_1200_a_day():
    profile, site = load_profile(EXAMPLE_PROFILE)
    assert sum(sum(d.per_hour) for d in profile.demand) == pytest.approx(1200, abs=15)
    assert {d.service for d in profile.demand} == {s.code for s in site.services}
    peak = max(range(profile.hours), key=lambda h: sum(d.per_hour[h] for d in profile.demand))
    assert peak == 1  # 08:30–09:30, the morning peak


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ('[profile]\nsite_file = "site.toml"\n[[demand]]\nservice = "XX"\nper_hour = [1]\n'
         'service_time = { mean_min = 3 }\n', "demand[0].service", "unknown service 'XX'"),
        ('[profile]\nsite_file = "site.toml"\n[[demand]]\nservice = "CT"\nper_hour = [1, -2]\n'
         'service_time = { mean_min = 3 }\n', "demand[0].per_hour[1]", "arrivals per hour"),
        ('[profile]\nsite_file = "site.toml"\n[[demand]]\nservice = "CT"\nper_hour = [1]\n'
         'service_time = { distribution = "gamma", mean_min = 3 }\n', "demand[0].service_time.distribution",
         "expected one of"),
        ('[profile]\nsite_file = "site.toml"\nno_show_rate = 1.5\n', "profile.no_show_rate", "below 1"),
        ('[profile]\nsite_file = "site.toml"\nopens = "7h30"\n', "profile.opens", "HH:MM"),
        ('[profile]\nsite_file = "site.toml"\nspeed = 3\n', "profile.speed", "unknown key"),
        ('[profile]\nsite_file = "site.toml"\n', "demand", "required"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_key(tmp_path, body, key, words):
    path = write_profile(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    assert caught.value.key == key and words in caught.value.message


def test_the_command_reports_errors_and_bad_options_without_a_traceback(tmp_path, capsys):
    path = write_profile(tmp_path, '[profile]\nsite_file = "missing.toml"\n')
    assert main(["--profile", str(path)]) == 2
    assert "missing.toml: file not found" in capsys.readouterr().out
    assert main(["--p90-target-min", "0"]) == 2
    assert main(["--ms-per-min", "-1"]) == 2


def test_a_what_if_layout_replaces_the_counters_and_adds_their_devices(tmp_path):
    copy = write_all_day_site(
        Path(EXAMPLE_PROFILE).parent / "site.toml", tmp_path / "site.toml",
        counters=[{"number": 1, "services": ["CT"]}, {"number": 20, "services": ["DD", "HT"]}],
    )
    site = load_site(copy)
    assert [(c.number, c.services) for c in site.counters] == [(1, ("CT",)), (20, ("DD", "HT"))]
    counters = {d.id: d.counter for d in site.devices if d.role == "counter"}
    assert counters == {"quay-1": 1, "quay-20": 20}
    assert site.hours.is_taking(site.now().replace(hour=3))


def test_the_command_runs_a_short_day_and_names_its_files(tmp_path, capsys):
    path = write_profile(tmp_path / "in", PROFILE.format(rates="30, 0, 12"))
    out = tmp_path / "out"
    args = ["--profile", str(path), "--out", str(out), "--ms-per-min", "0", "--p90-target-min", "3"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert re.search(r"\n\d+ counters keep every field's p90 wait ≤ 3 min", printed), printed
    assert all(str(out / name) in printed for name in ("services.csv", "planning.csv", "summary.png"))
    rows = (out / "tickets.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("ticket,number,service,status") and len(rows) > 20
    assert rows[0].endswith(",estimated_wait_min")
    assert re.search(r"estimated wait on the tickets: mean absolute error \d+\.\d min", printed)


TWO_FIELDS = """
[profile]
site_file = "site.toml"
opens = "08:00"
seed = 3
p90_target_min = 5
[[demand]]
service = "CT"
per_hour = [12, 12, 12, 12, 12, 12]
service_time = { distribution = "exponential", mean_min = 3 }
[[demand]]
service = "HT"
per_hour = [12, 12, 12, 12, 12, 12]
service_time = { distribution = "exponential", mean_min = 3 }
"""

TWO_FIELD_SITE = SITE.replace('''[[counters]]
number = 2
services = ["CT"]''', '''[[counters]]
number = 2
services = ["HT"]''').replace('checklist_url = "https://dichvucong.gov.vn/"', '''checklist_url = "https://dichvucong.gov.vn/"
[[services]]
code = "HT"
prefix = "B"
name = "Hộ tịch"
name_en = "Civil status"
checklist_url = "https://dichvucong.gov.vn/"''', 1)


def test_the_planner_answers_for_the_centre_as_a_whole(tmp_path):
    """Two fields of 0.6 Erlangs each: served apart, each needs 2 counters for p90 ≤ 5 min (4 in
    all); shared, the centre needs fewer, and the answer is checked by a simulated day."""
    profile, _ = load_profile(write_profile(tmp_path / "in", TWO_FIELDS, TWO_FIELD_SITE))
    apart = sum(counters_needed(12, 3, 5) for _ in range(2))
    assert apart == 4
    plan = plan_centre(profile, tmp_path / "plan", ms_per_min=0, say=lambda _line: None)
    answer = plan.answer
    assert answer is not None and answer.meets
    assert len(answer.counters) < apart
    assert plan.pooled_bound == 3 and plan.peak_erlangs == 1.2
    assert {code for c in answer.counters for code in c["services"]} == {"CT", "HT"}
    assert all(len(c["services"]) == 2 for c in answer.counters), "each counter falls back on the other field"
    fewer = [t for t in plan.tried if len(t.counters) < len(answer.counters)]
    assert all(not t.meets for t in fewer), "the answer is the fewest that met the target"
    assert "counters keep every field's p90 wait ≤ 5 min" in "\n".join(plan_lines(plan, 5))
