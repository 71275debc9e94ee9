"""Benchmarks that print ratios measured side by side (not tests; not run in CI)."""
