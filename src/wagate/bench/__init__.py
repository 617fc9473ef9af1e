"""Benchmarks run by ``wagate bench <name>``; each prints its numbers beside a bare baseline
measured in the same run, and the ratio between them (results: docs/performance.md)."""
