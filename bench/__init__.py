"""Benchmarks of the warning daemon: each prints JSON result lines with a same-run baseline."""
