"""The harness that tests, benchmarks and the demo share: a centre on one machine."""
