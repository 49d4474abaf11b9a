"""Benchmark scripts (not collected by pytest): print figures and write JSON records."""
