"""Unit tests of the analytics core, one module per module of `analytics/`."""
