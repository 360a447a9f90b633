// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Payloads shaped like docs/api.md, and a stub for the server connection.
 */

import { ServerConnection } from '@jupyterlab/services';
import { IPoll } from '@lumino/polling';

import { IMetrics } from '../server/types';

/**
 * 1 GiB in bytes.
 */
export const GiB = 1024 ** 3;

/**
 * 1 MiB in bytes.
 */
export const MiB = 1024 ** 2;

/**
 * A fresh, normal payload with every field of docs/api.md.
 */
export function normalPayload(): IMetrics {
  return {
    rss: Math.round(2.3 * GiB),
    pss: Math.round(1.2 * GiB),
    cpu_percent: 35,
    cpu_count: 2,
    limits: {
      memory: { rss: 8 * GiB, pss: 8 * GiB, warn: false, source: 'cgroup' },
      cpu: { cpu: 2, warn: false, source: 'affinity' }
    },
    sample: {
      ready: true,
      stale: false,
      age_ms: 412,
      interval_ms: 1000,
      cost_ms: 6.1,
      monitor_cpu_percent: 1.2,
      processes: { seen: 98, sampled: 98, left_out: 0 },
      pss_estimated_bytes: 12 * MiB,
      pss_estimated_fraction: 0.01,
      oldest_exact_age_ms: 20311,
      next_poll_ms: 1000,
      worker: { state: 'running', restarts: 0, error: null }
    }
  };
}

/**
 * The answer before the server's first sample, as `payload.metrics` builds it
 * (CPU tracking on, no snapshot yet): zeros and nulls, a 0 CPU limit.
 */
export function notReadyPayload(): unknown {
  return {
    rss: 0,
    pss: 0,
    limits: {
      memory: { rss: 0, pss: 0, warn: false, source: 'host' },
      cpu: { cpu: 0, warn: false, source: 'affinity' }
    },
    cpu_percent: null,
    cpu_count: null,
    sample: notReadySample()
  };
}

/**
 * The sample block before the server's first sample, as
 * `payload.sample_block` builds it; both endpoints send it.
 */
export function notReadySample(): unknown {
  return {
    ready: false,
    stale: false,
    age_ms: null,
    interval_ms: 1000,
    cost_ms: null,
    monitor_cpu_percent: null,
    processes: { seen: 0, sampled: 0, left_out: 0 },
    pss_estimated_bytes: 0,
    pss_estimated_fraction: 0.0,
    oldest_exact_age_ms: null,
    next_poll_ms: 1000,
    worker: { state: 'starting', restarts: 0, error: null }
  };
}

/**
 * A payload whose memory is close to the limit.
 */
export function warningPayload(): IMetrics {
  const payload = normalPayload();
  return {
    ...payload,
    pss: Math.round(7.6 * GiB),
    limits: {
      ...payload.limits,
      memory: { rss: 8 * GiB, pss: 8 * GiB, warn: true, source: 'cgroup' }
    }
  };
}

/**
 * A payload the server marks as stale (its worker is hung).
 */
export function stalePayload(): IMetrics {
  const payload = normalPayload();
  return {
    ...payload,
    sample: { ...payload.sample!, stale: true, age_ms: 45_000 }
  };
}

/**
 * A payload with disk tracking on.
 */
export function diskPayload(): IMetrics {
  return { ...normalPayload(), disk_used: 12 * GiB, disk_total: 50 * GiB };
}

/**
 * A payload with a custom `sample.next_poll_ms`.
 */
export function payloadWithNextPoll(nextPollMs: number): IMetrics {
  const payload = normalPayload();
  return {
    ...payload,
    sample: { ...payload.sample!, next_poll_ms: nextPollMs }
  };
}

/**
 * One scripted answer of the stub server.
 */
export type Answer =
  | { readonly status: number; readonly body?: unknown }
  | { readonly networkError: true };

/**
 * Stub `ServerConnection.makeRequest` with scripted answers.
 *
 * @param answers - Answers in order; the last one repeats.
 *
 * @returns The jest spy, to count and inspect calls.
 */
export function stubServer(
  ...answers: Answer[]
): jest.SpiedFunction<typeof ServerConnection.makeRequest> {
  const queue = [...answers];
  return jest
    .spyOn(ServerConnection, 'makeRequest')
    .mockImplementation(async () => {
      const answer = queue.length > 1 ? queue.shift()! : queue[0];
      if ('networkError' in answer) {
        throw new ServerConnection.NetworkError(
          new TypeError('Failed to fetch')
        );
      }
      return new Response(JSON.stringify(answer.body ?? {}), {
        status: answer.status
      });
    });
}

/**
 * The server settings the model specs poll.
 */
export const TEST_SETTINGS = ServerConnection.makeSettings({
  baseUrl: 'http://localhost:8888/lab-base/'
});

/**
 * Run a model's next scheduled tick and wait for its request to settle.
 */
export async function runTick(model: {
  readonly poll: IPoll<unknown, unknown, 'standby'>;
}): Promise<void> {
  const next = model.poll.tick;
  await jest.advanceTimersByTimeAsync(model.poll.state.interval);
  await next;
}

/**
 * Use fake timers and a fixed backoff jitter in every test of a suite.
 */
export function usePollTimers(): void {
  beforeEach(() => {
    // Response bodies are read with real microtasks and immediates.
    jest.useFakeTimers({
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask']
    });
    // Fixed jitter: the backoff draws from the middle of its range.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    jest.useRealTimers();
  });
}

/**
 * A payload under a cgroup limit: the working set (page cache, /dev/shm
 * files and kernel memory besides the processes) is compared with the limit,
 * with memory by notebook and terminal.
 */
export function workingSetPayload(): IMetrics {
  const payload = normalPayload();
  return {
    ...payload,
    limits: {
      ...payload.limits,
      memory: { rss: 8 * GiB, pss: 8 * GiB, warn: true, source: 'cgroup' }
    },
    memory: {
      figure: 'working_set',
      used: Math.round(7.5 * GiB),
      limit: 8 * GiB,
      processes: Math.round(1.2 * GiB),
      cgroup: {
        version: 2,
        usage: 8 * GiB,
        working_set: Math.round(7.5 * GiB),
        outside_processes: Math.round(6.3 * GiB),
        page_cache: 1 * GiB,
        shmem: 5 * GiB,
        kernel: 300 * MiB
      }
    },
    by_owner: [
      {
        type: 'notebook',
        name: 'analysis.ipynb',
        path: 'work/analysis.ipynb',
        kernel_id: 'k1',
        memory: 900 * MiB
      },
      {
        type: 'terminal',
        name: '1',
        path: null,
        kernel_id: null,
        memory: 100 * MiB
      }
    ],
    oom: { kernel_kills: 0, last_event_id: 0, counter_source: 'cgroup' }
  };
}
