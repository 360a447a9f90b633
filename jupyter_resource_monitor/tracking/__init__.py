"""On the server's event loop, once per sample: the worker's lifecycle (supervisor) and what the
server keeps between samples (tracker: history, OOM events, names of notebooks)."""
