"""What each cell cost: per execution of a code cell, its wall time, CPU and exact peak memory.

A request starts when the server passes it on to an idle kernel, or when the one before it ends;
it ends at whichever the server sees first of its ``execute_reply`` and its ``idle`` (see
:mod:`.kernel` for why not the kernel's ``busy``). At each boundary the server reads the kernel's
CPU and peak resident set and resets the peak (:mod:`.peak`). :mod:`.frames` looks at raw message
frames without decoding what it does not need, :mod:`.kernel` keeps one kernel's state and
records, :mod:`.watch` hooks it all into the server (the kernel manager's iopub watcher, and the
kernel WebSocket, for the requests, their cell ids and their replies).
"""
