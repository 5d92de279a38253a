"""Benchmarks: `python -m bench.<name> [--quick]`, each printing one JSON object last."""
