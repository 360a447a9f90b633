"""Bounded history of the totals and of each kernel, kept by the server so that a new tab or a
reload draws its sparklines at once, and an OOM event can carry the dead kernel's last curve.

Samples are merged into buckets of ``step_s`` seconds (memory: the bucket's peak, which is what
matters next to a limit; CPU: the latest value) and only ``span_s`` seconds are kept, so the size
is bounded whatever the sample interval: (span / step) points for the totals and for each kernel.
The JSON body is built at most once per change, so requests between two samples cost O(1).
"""

from __future__ import annotations

import collections
import json
from typing import Any

SPAN_S = 3600.0
STEP_S = 5.0


class _Series:
    """Points ``[t_ms, memory..., cpu]`` in buckets: memory fields keep their peak."""

    def __init__(self, maxlen: int):
        self.points: collections.deque[list] = collections.deque(maxlen=maxlen)
        self._bucket: int | None = None

    def add(self, bucket: int, t_ms: int, memory: tuple[int, ...], cpu: float | None) -> None:
        if bucket == self._bucket and self.points:
            last = self.points[-1]
            last[0] = t_ms
            for i, value in enumerate(memory, start=1):
                last[i] = max(last[i], value)
            last[-1] = cpu
        else:
            self.points.append([t_ms, *memory, cpu])
            self._bucket = bucket


class History:
    """The totals (``[t_ms, pss, used, cpu_percent]``, ``used`` being the figure compared with
    the limit) and each kernel (``[t_ms, memory, cpu_percent]``), oldest first. ``t_ms`` is wall
    clock milliseconds, as the browser's ``Date.now()``."""

    def __init__(self, span_s: float = SPAN_S, step_s: float = STEP_S):
        self.span_s = span_s
        self.step_s = step_s
        self._maxlen = max(1, int(span_s / step_s))
        self.totals = _Series(self._maxlen)
        self.kernels: dict[str, _Series] = {}
        self._body: str | None = None

    def add(
        self,
        taken_at: float,
        pss: int,
        used: int,
        cpu: float | None,
        kernels: dict[str, tuple[int, float | None]],
        known: set[str] | None = None,
    ) -> None:
        """Record one sample. ``kernels`` maps each sampled kernel's id to (memory, cpu); the
        history of a kernel not in ``known`` (default: the sampled ones) is dropped, so a kernel
        the sample missed once (restarting, left out by the cap) keeps its curve."""
        bucket, t_ms = int(taken_at // self.step_s), round(1000 * taken_at)
        self.totals.add(bucket, t_ms, (pss, used), cpu)
        known = set(kernels) if known is None else known
        for kernel_id in [k for k in self.kernels if k not in known]:
            del self.kernels[kernel_id]
        for kernel_id, (memory, kernel_cpu) in kernels.items():
            series = self.kernels.get(kernel_id)
            if series is None:
                series = self.kernels[kernel_id] = _Series(self._maxlen)
            series.add(bucket, t_ms, (memory,), kernel_cpu)
        self._body = None

    def kernel_points(self, kernel_id: str, since_ms: int = 0) -> list[list]:
        """A copy of one kernel's points from ``since_ms`` on (empty for an unknown kernel)."""
        series = self.kernels.get(kernel_id)
        return [list(p) for p in series.points if p[0] >= since_ms] if series else []

    def as_dict(self) -> dict[str, Any]:
        return {
            "step_ms": round(1000 * self.step_s),
            "span_ms": round(1000 * self.span_s),
            "totals": {"fields": ["t_ms", "pss", "used", "cpu_percent"], "points": list(self.totals.points)},
            "kernels": {
                "fields": ["t_ms", "memory", "cpu_percent"],
                "points": {k: list(s.points) for k, s in self.kernels.items()},
            },
        }

    def body(self) -> str:
        """The JSON of :meth:`as_dict`, encoded once per change."""
        if self._body is None:
            self._body = json.dumps(self.as_dict(), separators=(",", ":"))
        return self._body
