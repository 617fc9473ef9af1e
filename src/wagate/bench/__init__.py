"""Benchmarks run by ``wagate bench <name>``: each prints numbers and ratios against a bare baseline
measured in the same run; results are written up in docs/performance.md."""
