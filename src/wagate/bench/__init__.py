"""Benchmarks run by ``wagate bench <name>``; results are recorded in docs/performance.md."""
