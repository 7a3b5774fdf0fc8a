"""Benchmarks run by hand against a dedicated PostgreSQL database (see bench/README.md)."""
