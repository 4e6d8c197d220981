"""Benchmarks: the installer comparison harness (``python -m bench``) and solver benchmarks."""
