"""Benchmarks run by ``wagate bench …``: each prints numbers and ratios against a bare baseline."""
