"""Server configuration for the Playwright/Galata UI tests.

Opened with ``jupyter lab --config jupyter_server_test_config.py``. Galata's
helper turns off every security protection (no token, no XSRF check): never use
this file outside the tests.

Environment knobs, so one file serves every Playwright project:

- ``RESOURCE_MONITOR_UI_PORT``: port to listen on (default 8888).
- ``RESOURCE_MONITOR_UI_MEM_LIMIT``: bytes for ``ResourceMonitor.mem_limit``
  (unset: no configured limit, so the cgroup or host limit applies).
- ``RESOURCE_MONITOR_UI_MEMORY_GUARD``: ``true`` or ``false`` for
  ``ResourceMonitor.memory_guard`` (default: the extension's).
- ``RESOURCE_MONITOR_UI_SAMPLE_INTERVAL``: seconds for
  ``ResourceMonitor.sample_interval``.
- ``RESOURCE_MONITOR_UI_BLOCKER``: set to enable the test-only extension
  ``blocker/ui_test_blocker.py`` (its folder must be on ``PYTHONPATH``), whose
  route blocks the server's event loop.
"""

import json
import os
from pathlib import Path
from tempfile import mkdtemp

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (`c` is injected by traitlets)
# Galata exposes JupyterLab's application as `window.jupyterapp`; Notebook 7's too, for the specs
# that read its current kernel (glance-notebook7.spec.ts).
c.JupyterNotebookApp.expose_app_in_browser = True  # noqa: F821

c.ServerApp.port = int(os.environ.get("RESOURCE_MONITOR_UI_PORT", "8888"))  # noqa: F821
# CI machines and containers often run as root.
c.ServerApp.allow_root = True  # noqa: F821

# The extension is normally enabled by the file the wheel installs into
# etc/jupyter/jupyter_server_config.d; enable it here too so the tests also run
# against a development install that skipped that step.
c.ServerApp.jpserver_extensions = {"jupyter_resource_monitor": True}  # noqa: F821
if os.environ.get("RESOURCE_MONITOR_UI_BLOCKER"):
    c.ServerApp.jpserver_extensions["ui_test_blocker"] = True  # noqa: F821

# Playwright prints the servers' stderr: keep it to errors (galata's per-test
# folders cause harmless 404 warnings).
c.Application.log_level = "ERROR"  # noqa: F821

interval = os.environ.get("RESOURCE_MONITOR_UI_SAMPLE_INTERVAL")
if interval:
    c.ResourceMonitor.sample_interval = float(interval)  # noqa: F821

guard = os.environ.get("RESOURCE_MONITOR_UI_MEMORY_GUARD")
if guard:
    c.ResourceMonitor.memory_guard = guard == "true"  # noqa: F821

mem_limit = os.environ.get("RESOURCE_MONITOR_UI_MEM_LIMIT")
if mem_limit:
    c.ResourceMonitor.mem_limit = int(mem_limit)  # noqa: F821

# A fresh settings folder: without this, JupyterLab asks "get notified about
# news?" in a box over the bottom-right of the status bar. (Galata's page
# fixture mocks settings too; this covers `npm start` and manual runs.)
settings_dir = Path(mkdtemp(prefix="galata-settings-"))
notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
notification.parent.mkdir(parents=True)
notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
c.LabApp.user_settings_dir = str(settings_dir)  # noqa: F821

# The test extra installs xeus-python (for tests/test_cells.py): its kernelspecs would sort
# before python3 in JupyterLab's kernel choice. The UI tests run python3 only.
c.KernelSpecManager.allowed_kernelspecs = {"python3"}  # noqa: F821
