"""Thin readers of what the worker and the tracker prepared: the REST routes (handlers, payload,
kernels) and the /metrics collector (prometheus). No /proc work, no waiting."""
