"""Benchmarks run by ``wagate bench <name>``; results are written up in docs/performance.md."""
