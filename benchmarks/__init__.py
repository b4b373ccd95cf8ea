"""Benchmarks: each measures our code against a baseline in the same run and prints the ratio."""
