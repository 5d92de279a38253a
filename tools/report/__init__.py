"""`luot report`: a day's figures from the hub's database (the command line is `cli`);
the figures, CSV and PNG summary are shared with `luot simulate`."""

from luot.stats import percentile
from tools.report.cli import main
from tools.report.database import report_figures
from tools.report.figures import Figures, Stint, Visit, compute_figures
from tools.report.spreadsheet import write_csv
from tools.report.summary import render_summary

__all__ = ["Figures", "Stint", "Visit", "compute_figures", "main", "percentile", "render_summary",
           "report_figures", "write_csv"]
