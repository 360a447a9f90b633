"""Every part of jupyter_server, jupyter_client and pyzmq that the extension uses without it being
their public API, each behind one function here.

Each function says why it needs that part, and what happens where the part is missing (another
version, another kernel manager): the feature that needs it is off, for that kernel or for the
server, the server itself goes on, and the log says so once. ``tests/test_adapters.py`` has one
test per part, on a real server with real kernels, that fails when the part moves or changes
shape on the installed versions; ``scripts/test-all.sh`` runs it against the lowest declared
versions and the newest.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

_said: set[str] = set()


def _say_once(log: logging.Logger, key: str, message: str, *args: Any) -> None:
    """Log ``message`` the first time ``key`` comes up in this process: a missing part is missing
    for every kernel alike, and one line says it."""
    if key not in _said:
        _said.add(key)
        log.warning(message, *args)


# -- the server's start ----------------------------------------------------------------------------


def when_server_runs(serverapp, callback: Callable[[], Any], log: logging.Logger) -> bool:
    """Call ``callback`` on the server's event loop once it runs.

    ``ExtensionApp._start_jupyter_server_extension``, the hook meant for this, is called only by
    jupyter_server >= 2.16; the extension supports older servers. ``ServerApp.io_loop`` (public:
    set up so that extensions can schedule work on it) exists on every 2.x before extensions are
    loaded, and a callback added there runs as soon as the loop runs (at once when it already
    does, as under pytest-jupyter).

    Without it: False; the caller leaves the event-loop watch off (nothing would read its probes),
    and the memory guard starts with the first request for metrics instead of with the server."""
    io_loop = getattr(serverapp, "io_loop", None)
    if io_loop is None or not hasattr(io_loop, "add_callback"):
        _say_once(
            log,
            "io_loop",
            "Resource monitor: this server has no io_loop; the event-loop watch is off and the "
            "memory guard starts with the first request for metrics",
        )
        return False
    io_loop.add_callback(callback)
    return True


# -- the iopub stream jupyter_server watches each kernel's activity with ---------------------------


def activity_stream(kernel, log: logging.Logger) -> tuple[Any, Callable[[list], Any]] | None:
    """The iopub stream jupyter_server watches ``kernel``'s activity with, and the server's own
    callback on it: ``(stream, callback)``. Whoever replaces the callback with ``stream.on_recv``
    (public) calls the server's from its own, so the server's activity tracking goes on.

    jupyter_server receives every iopub message of every kernel once, on the stream it keeps as
    ``kernel._activity_stream`` (a pyzmq ``ZMQStream``, made by ``start_watching_activity``). A
    ``ZMQStream`` has a single receive callback and no public way to read it, so the server's is
    taken from pyzmq's ``ZMQStream._recv_callback``. Opening a second iopub socket per kernel
    instead would receive and copy every output message twice. Both are read once per kernel
    start, never per message.

    Without either part: None, and no per-cell figures for that kernel (logged once)."""
    stream = getattr(kernel, "_activity_stream", None)
    server_callback = getattr(stream, "_recv_callback", None)
    if stream is None or not callable(server_callback) or not hasattr(stream, "on_recv"):
        _say_once(
            log,
            "activity_stream",
            "Per-cell figures are off: %s keeps no iopub watcher we can share",
            type(kernel).__name__,
        )
        return None
    return stream, server_callback


# -- the kernel manager's activity watching, restart and shutdown ----------------------------------


def wrap_kernel_manager(
    kernel_manager,
    *,
    after_watch_start: Callable[[str], Any],
    before_watch_stop: Callable[[str], Any],
    before_restart: Callable[[str], Any],
    log: logging.Logger,
) -> bool:
    """Wrap three methods of jupyter_server's kernel manager, on this instance only.

    jupyter_server has no hook for the moments per-cell figures need: right after it starts
    watching a kernel's iopub (``start_watching_activity``: its stream exists from then on, also
    after a restart), right before it stops (``stop_watching_activity``: the kernel is being shut
    down), and right before a restart kills the process (``restart_kernel``: the peak is read while
    the old process is alive). Its ``kernel_actions`` events come after the action.

    Without ``start_watching_activity`` (a kernel manager that does not watch iopub, such as a
    gateway's): False, and per-cell figures are off (logged once)."""
    names = ("start_watching_activity", "stop_watching_activity", "restart_kernel")
    if not all(callable(getattr(kernel_manager, name, None)) for name in names):
        _say_once(
            log,
            "kernel_manager",
            "Per-cell figures are off: the kernel manager %s does not watch iopub",
            type(kernel_manager).__name__,
        )
        return False
    start, stop, restart = (getattr(kernel_manager, name) for name in names)

    @functools.wraps(start)
    def start_watching_activity(kernel_id):
        start(kernel_id)
        after_watch_start(kernel_id)

    @functools.wraps(stop)
    def stop_watching_activity(kernel_id):
        before_watch_stop(kernel_id)
        stop(kernel_id)

    @functools.wraps(restart)
    async def restart_kernel(kernel_id, *args, **kwargs):
        before_restart(kernel_id)
        return await restart(kernel_id, *args, **kwargs)

    kernel_manager.start_watching_activity = start_watching_activity
    kernel_manager.stop_watching_activity = stop_watching_activity
    kernel_manager.restart_kernel = restart_kernel
    return True


# -- a kernel's death -----------------------------------------------------------------------------


def on_kernel_death(kernel, callback: Callable[[], Any], log: logging.Logger) -> bool:
    """Have ``callback()`` called when ``kernel`` dies by itself, before its restarter restarts it
    (the dead process is still the one its manager knows).

    jupyter_client's ``add_restart_callback`` is public, but does nothing before the kernel's
    restarter exists (``KernelManager._restarter``, made after the kernel started): reading that
    attribute tells whether registering now takes, so the caller can try again later.

    Returns False when the restarter does not exist yet (call again later), and also, logged
    once, when the manager has no restarter at all (OOM kills and deaths are not seen)."""
    if not hasattr(kernel, "add_restart_callback") or not hasattr(kernel, "_restarter"):
        _say_once(
            log,
            "restarter",
            "Resource monitor: the kernel manager %s has no restarter; kernel deaths (OOM kills) "
            "are not seen",
            type(kernel).__name__,
        )
        return False
    if kernel._restarter is None:
        return False
    kernel.add_restart_callback(callback, "restart")
    kernel.add_restart_callback(callback, "dead")
    return True


# -- the kernel WebSocket -------------------------------------------------------------------------


def wrap_kernel_websocket(settings: dict, subclass: Callable[[type], type], log: logging.Logger) -> bool:
    """Replace the server's kernel WebSocket connection class (the setting
    ``kernel_websocket_connection_class``) by ``subclass(base)``, which overrides
    ``handle_incoming_message`` and ``handle_outgoing_message``.

    Those two methods are the public interface of jupyter_server's connection classes
    (``BaseKernelWebsocketConnection``), but that the server's own class passes every client
    request through the first and every kernel message through the second is how it is built,
    not a promise. A request's ``cellId`` passes by nowhere else. The subclass also reads, with
    ``getattr`` and a default, what the server's class keeps without promising it: ``channels``
    (closed or not), its kernel manager's ``allowed_message_types`` and the ``channel`` name
    jupyter_server sets on each ZMQStream; the test of this part goes through all three.

    Without a class, or with one lacking either method: False, and cell records have no cell
    id (logged once)."""
    base = settings.get("kernel_websocket_connection_class")
    if not isinstance(base, type) or not all(
        callable(getattr(base, name, None)) for name in ("handle_incoming_message", "handle_outgoing_message")
    ):
        _say_once(
            log,
            "kernel_websocket",
            "Per-cell figures have no cell ids: the kernel WebSocket connection class %r is not "
            "one we can extend",
            base,
        )
        return False
    settings["kernel_websocket_connection_class"] = subclass(base)
    return True


# -- activity, for idle culling -------------------------------------------------------------------


class NotUserActivity:
    """Put first among a handler's bases: its requests do not count as user activity, so polling
    the metrics does not keep an idle server from being culled.

    jupyter_server reads the class attribute ``_track_activity`` (its own API handlers set it
    the same way). The public alternative, the ``no_track_activity`` query argument, depends on
    every client sending it, and jupyter-resource-usage's frontend and Prometheus do not.

    Without it (a server that renamed it): polling counts as activity again; nothing else
    changes."""

    _track_activity = False
