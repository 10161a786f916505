"""Measures and reports: metrics, playing rows, the `musicvae evaluate` report."""
