"""A test-only jupyter_server extension whose route blocks the server's event loop.

For the UI tests only (``ui-tests/playwright.config.js`` puts this folder on ``PYTHONPATH`` and
``jupyter_server_test_config.py`` enables it for the projects that need it): ``GET
/ui-test/block-the-loop?seconds=2`` sleeps on the event loop in :func:`hold_the_loop`, so the
server is unresponsive for that long and its event-loop measurement must name that function.
Never install it anywhere else.
"""

from __future__ import annotations

import time

from jupyter_server.base.handlers import JupyterHandler
from tornado import web


def hold_the_loop(seconds: float) -> None:
    """Block the event loop, as a slow synchronous call in a handler would."""
    time.sleep(seconds)


class BlockHandler(JupyterHandler):
    """Answers after holding the loop ``seconds`` (at most 10)."""

    @web.authenticated
    def get(self) -> None:
        seconds = min(10.0, float(self.get_argument("seconds", "2")))
        hold_the_loop(seconds)
        self.finish({"blocked_s": seconds})


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "ui_test_blocker"}]


def _load_jupyter_server_extension(serverapp) -> None:
    route = serverapp.base_url.rstrip("/") + "/ui-test/block-the-loop"
    serverapp.web_app.add_handlers(".*$", [(route, BlockHandler)])
