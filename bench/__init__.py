"""Benchmarks and load scripts (run by hand or with ``make bench``; not part of ``make test``)."""
