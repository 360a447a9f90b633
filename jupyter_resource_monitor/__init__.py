"""jupyter-resource-monitor: memory and CPU of a Jupyter server's processes, sampled off the event loop."""

try:
    from ._version import __version__
except ImportError:  # a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-resource-monitor"}]


def _jupyter_server_extension_points():
    from .app import ResourceMonitorApp

    return [{"module": "jupyter_resource_monitor", "app": ResourceMonitorApp}]
