"""The memory guard: keeps a kernel alive at the memory limit.

A runaway cell should end with a ``MemoryError`` inside the kernel, not with the OOM killer ending
the kernel and every variable in it. Two lines of defence:

- the fence (:mod:`.fence`, in the worker process): every kernel process and its descendants of the
  server's uid carry an ``RLIMIT_DATA`` soft limit of their data size plus what is left under the
  memory limit, re-sized as memory moves, so the allocation that would cross the limit fails in
  the kernel;
- the second line (:mod:`.service`, on the server's loop): memory that grows without new data
  mappings passes the fence; past a higher threshold, a kernel that is executing and growing is
  interrupted as the stop button does.

:mod:`.headroom` says what is left and against which limit; :mod:`.process` reads the facts of one
process. The service also reports what happened (events route, event bus, Prometheus).
"""
