"""What each cell cost: per execution of a code cell, its wall time, CPU and exact peak memory.

The kernel's own ``busy``/``idle`` status for a request (iopub, parent header) bounds each
execution; at each boundary the server reads the kernel's CPU and peak resident set and resets the
peak (:mod:`.peak`). :mod:`.frames` looks at raw message frames without decoding what it does not
need, :mod:`.kernel` keeps one kernel's state and records, :mod:`.watch` hooks it all into the
server (the kernel manager's iopub watcher and the kernel WebSocket, for the cell ids).
"""
