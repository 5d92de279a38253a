"""`luot simulate`: a day of a centre at accelerated time through the real parts, and the
planner's answer for it (the command line is `cli`)."""

from tools.simulate.cli import main, write_outputs
from tools.simulate.day import day_figures, simulate
from tools.simulate.erlang import counters_needed, erlang_c, mmc_mean_wait
from tools.simulate.profile import EXAMPLE_PROFILE, load_profile

__all__ = ["EXAMPLE_PROFILE", "counters_needed", "day_figures", "erlang_c", "load_profile", "main",
           "mmc_mean_wait", "simulate", "write_outputs"]
