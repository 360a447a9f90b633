"""This server's memory of each notebook's peak: the highest peak its kernels reached, by path.

A kernel's ``peak_since_start`` is lost when it shuts down; this keeps the highest one seen for
each notebook path (the session's path) for the server's life, so a notebook opened again (before
it runs anything) can be told what it needed last time. Bounded: the most recently updated
:data:`MAX_PATHS` paths are kept. Reads and updates are O(1).
"""

from __future__ import annotations

import collections
import time
from typing import NamedTuple

# Paths remembered (the most recently updated): a few hundred bytes each.
MAX_PATHS = 200


class NotebookPeak(NamedTuple):
    peak: int  # bytes: the highest peak resident set of the notebook's kernels
    at: float  # time.time() when that peak was first noted


class NotebookPeaks:
    """The highest kernel peak per notebook path, the last ``max_paths`` paths updated."""

    def __init__(self, max_paths: int = MAX_PATHS):
        self.max_paths = max_paths
        self._peaks: collections.OrderedDict[str, NotebookPeak] = collections.OrderedDict()

    def note(self, path: str | None, peak: int | None) -> None:
        """A kernel serving ``path`` has peaked at ``peak`` bytes so far."""
        if not path or peak is None:
            return
        known = self._peaks.get(path)
        if known is not None and known.peak >= peak:
            return
        self._peaks[path] = NotebookPeak(peak, time.time())
        self._peaks.move_to_end(path)
        while len(self._peaks) > self.max_paths:
            self._peaks.popitem(last=False)

    def get(self, path: str) -> NotebookPeak | None:
        return self._peaks.get(path)

    def __len__(self) -> int:
        return len(self._peaks)
