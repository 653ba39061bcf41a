"""memportal benchmarks: python -m bench quick | full (docs/benchmarks.md)."""
