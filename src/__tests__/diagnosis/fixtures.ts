// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Payloads with the "why is it slow?" fields, shaped as the server sends them
 * (docs/api.md), and kernel rows with their CPU waiting.
 */

import { DEFAULT_THRESHOLDS, IThresholds } from '../../diagnosis/thresholds';
import type { IFrame, IEventLoopBlock } from '../../diagnosis/types';
import type { IKernelUsage } from '../../kernels/types';
import type { IMetrics } from '../../server/types';
import { GiB, normalPayload } from '../fixtures';

/**
 * The time the fixtures are made at, in ms since the epoch.
 */
export const NOW = Date.UTC(2026, 11, 1, 14, 2, 30);

/**
 * The thresholds of the specs: the defaults.
 */
export const THRESHOLDS: IThresholds = DEFAULT_THRESHOLDS;

/**
 * A healthy server that reports every diagnosis figure: a 2-CPU quota barely
 * throttled, little waiting, a responsive loop, the host's PSI.
 */
export function calmPayload(): IMetrics {
  return {
    ...normalPayload(),
    cpu_wait_percent: 2.5,
    cpu_throttle: {
      throttled_percent: 3,
      throttled_seconds: 0.4,
      window_s: 60,
      quota_cpus: 2
    },
    psi: {
      source: 'host',
      cpu: {
        some: { avg10: 1.5, avg60: 1.2, total_s: 1200.5 },
        full: { avg10: 0, avg60: 0, total_s: 0 }
      },
      memory: {
        some: { avg10: 0, avg60: 0, total_s: 3.2 },
        full: { avg10: 0, avg60: 0, total_s: 1.1 }
      },
      io: {
        some: { avg10: 0.2, avg60: 0.1, total_s: 40 },
        full: { avg10: 0.1, avg60: 0.05, total_s: 20 }
      }
    },
    event_loop: {
      lag_ms: { p50: 0.4, p99: 3.1, max: 12.8 },
      blocks: [],
      threshold_ms: 1000
    },
    thresholds: { throttled_percent: 50, cpu_wait_percent: 50 }
  };
}

/**
 * A server in a 1-CPU quota running 2 busy processes: throttled in most
 * periods, its processes waiting about one CPU's worth.
 */
export function throttledPayload(): IMetrics {
  const payload = calmPayload();
  return {
    ...payload,
    cpu_percent: 99,
    cpu_count: 1,
    limits: {
      ...payload.limits,
      cpu: { cpu: 1, warn: false, source: 'cgroup' }
    },
    cpu_wait_percent: 97,
    cpu_throttle: {
      throttled_percent: 88,
      throttled_seconds: 26.4,
      window_s: 60,
      quota_cpus: 1
    }
  };
}

/**
 * The frame nbconvert's export would be blamed in.
 */
export const EXPORT_FRAME: IFrame = {
  function: 'export_notebook',
  file: '/srv/venv/lib/python3.11/site-packages/nbconvert/exporters/templateexporter.py',
  line: 412
};

/**
 * A block of the server's loop `ago` ms before {@link NOW}.
 */
export function block(
  ago: number,
  durationMs: number,
  culprit: IFrame | null = EXPORT_FRAME,
  id?: number
): IEventLoopBlock {
  const stack = [
    {
      function: 'match',
      file: '/usr/lib/python3.11/re/__init__.py',
      line: 166
    },
    ...(culprit ? [culprit] : []),
    {
      function: '_run',
      file: '/usr/lib/python3.11/asyncio/events.py',
      line: 84
    }
  ];
  return {
    ...(id === undefined ? {} : { id }),
    time: (NOW - ago) / 1000,
    duration_ms: durationMs,
    stack,
    culprit
  };
}

/**
 * A calm payload whose loop was blocked by the given blocks.
 */
export function blockedPayload(...blocks: IEventLoopBlock[]): IMetrics {
  const payload = calmPayload();
  return {
    ...payload,
    event_loop: {
      lag_ms: { p50: 0.5, p99: 900, max: 3200 },
      blocks,
      threshold_ms: 1000
    }
  };
}

/**
 * A kernel row of a notebook, with its CPU waiting.
 */
export function kernelRow(
  id: string,
  path: string | null,
  cpuWait: number | null | undefined,
  cpu = 50
): IKernelUsage {
  return {
    id,
    name: 'python3',
    pid: 4242,
    available: true,
    memory: GiB,
    rss: GiB,
    pss: GiB,
    cpu_percent: cpu,
    processes: 3,
    path,
    session_type: 'notebook',
    ...(cpuWait === undefined ? {} : { cpu_wait_percent: cpuWait })
  };
}
