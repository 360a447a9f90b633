// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertDiagnosisFields, IDiagnosisFields } from '../diagnosis/types';
import { Guards } from '../shared/validate';

/**
 * Wire types of `GET /api/metrics/v1`, mirrored from docs/api.md.
 *
 * Field names keep the server's snake_case so a payload can be read without
 * any mapping step. Everything the jupyter-resource-usage payload did not have
 * is optional, so a server that only speaks the older subset still renders.
 */

/**
 * Where a memory limit comes from.
 */
export type MemoryLimitSource = 'cgroup' | 'config' | 'env' | 'host';

/**
 * Where a CPU limit comes from.
 */
export type CpuLimitSource = 'cgroup' | 'affinity' | 'config' | 'env';

/**
 * State of the server's sampling worker.
 */
export type WorkerState =
  'starting' | 'running' | 'paused' | 'restarting' | 'failed';

/**
 * The memory limit and its warning flag.
 */
export interface IMemoryLimit {
  /**
   * The limit in bytes to compare RSS against; 0 or absent means none.
   */
  readonly rss?: number;
  /**
   * The limit in bytes to compare PSS against; 0 or absent means none.
   */
  readonly pss?: number;
  /**
   * Whether memory use is within the warning threshold of the limit.
   */
  readonly warn: boolean;
  /**
   * Where the limit was read from.
   */
  readonly source?: MemoryLimitSource | string;
}

/**
 * The CPU limit and its warning flag.
 */
export interface ICpuLimit {
  /**
   * The limit in CPUs (cores), as `cpu_count`.
   */
  readonly cpu: number;
  /**
   * Whether `cpu_percent` is within the warning threshold of `100 × cpu`.
   */
  readonly warn: boolean;
  /**
   * Where the limit was read from.
   */
  readonly source?: CpuLimitSource | string;
}

/**
 * The disk limit and its warning flag (only with disk tracking on).
 */
export interface IDiskLimit {
  /**
   * The disk size in bytes.
   */
  readonly disk: number;
  /**
   * Whether disk use is within the warning threshold of the limit.
   */
  readonly warn: boolean;
}

/**
 * All limits the server knows about.
 */
export interface ILimits {
  /**
   * The memory limit, if any.
   */
  readonly memory?: IMemoryLimit;
  /**
   * The CPU limit, if any.
   */
  readonly cpu?: ICpuLimit;
  /**
   * The disk limit, only when disk tracking is on.
   */
  readonly disk?: IDiskLimit;
}

/**
 * Process counts of one sample.
 */
export interface IProcessCounts {
  /**
   * Processes found in the server's tree.
   */
  readonly seen: number;
  /**
   * Processes whose memory was read for this sample.
   */
  readonly sampled: number;
  /**
   * Processes skipped (gone, access denied, or over the sampling budget).
   */
  readonly left_out: number;
}

/**
 * The sampling worker's health.
 */
export interface IWorkerStatus {
  /**
   * The worker's state.
   */
  readonly state: WorkerState | string;
  /**
   * How many times the worker was restarted.
   */
  readonly restarts: number;
  /**
   * The last error, if any.
   */
  readonly error: string | null;
}

/**
 * What a sample is and what it cost (ours, not in jupyter-resource-usage).
 */
export interface ISampleInfo {
  /**
   * False until the worker's first sample: numbers are then 0 or null.
   */
  readonly ready: boolean;
  /**
   * True when the sample is older than it should be (worker dead or hung).
   */
  readonly stale: boolean;
  /**
   * How long ago the sample was taken, in ms; null before the first sample.
   */
  readonly age_ms: number | null;
  /**
   * The worker's current sampling interval, in ms.
   */
  readonly interval_ms: number;

  /**
   * False until two samples give a CPU delta: `cpu_percent` is then 0, not a measurement.
   */
  readonly cpu_ready?: boolean;
  /**
   * CPU time the worker spent on the last sample, in ms; null before the
   * first sample.
   */
  readonly cost_ms?: number | null;
  /**
   * The worker's own CPU use, in percent of one CPU.
   */
  readonly monitor_cpu_percent?: number | null;
  /**
   * Process counts of the sample.
   */
  readonly processes?: IProcessCounts;
  /**
   * The part of `pss` that is an estimate, in bytes.
   */
  readonly pss_estimated_bytes?: number;
  /**
   * The part of `pss` that is an estimate, as a fraction in [0, 1].
   */
  readonly pss_estimated_fraction?: number;
  /**
   * Age of the oldest exact PSS reading in use, in ms (null if none).
   */
  readonly oldest_exact_age_ms?: number | null;
  /**
   * Suggested delay before the next poll, in ms (never below `interval_ms`).
   */
  readonly next_poll_ms?: number;
  /**
   * The worker's health.
   */
  readonly worker?: IWorkerStatus;
}

/**
 * What the cgroup's working set is made of (only under a cgroup limit).
 */
export interface ICgroupMemory {
  /**
   * The cgroup version, 1 or 2.
   */
  readonly version: number;
  /**
   * Everything charged to the cgroup, in bytes.
   */
  readonly usage: number;
  /**
   * Usage minus inactive file cache: what the OOM killer comes close to.
   */
  readonly working_set: number;
  /**
   * The working set beyond the processes' PSS: page cache, files in tmpfs and
   * /dev/shm, kernel memory.
   */
  readonly outside_processes: number;
  /**
   * File cache (not shared memory), active and inactive.
   */
  readonly page_cache: number;
  /**
   * Files in tmpfs and /dev/shm, and shared anonymous memory.
   */
  readonly shmem: number;
  /**
   * Kernel memory charged to the cgroup.
   */
  readonly kernel: number;
}

/**
 * The figure compared with the memory limit (ours).
 */
export interface IMemoryFigure {
  /**
   * `working_set` (the cgroup's, under a cgroup limit) or `pss`.
   */
  readonly figure: 'working_set' | 'pss' | string;
  /**
   * The figure, in bytes.
   */
  readonly used: number;
  /**
   * The limit, in bytes.
   */
  readonly limit: number;
  /**
   * Where the limit comes from (`host`: no limit, `limit` is the host's total).
   */
  readonly limit_source?: MemoryLimitSource | string;
  /**
   * The host's total memory, in bytes (where an unlimited server runs out).
   */
  readonly host_total?: number;
  /**
   * PSS of the server's processes, in bytes.
   */
  readonly processes: number;
  /**
   * The cgroup's memory, under a cgroup limit; else null.
   */
  readonly cgroup: ICgroupMemory | null;
}

/**
 * Memory of one notebook, console or terminal (ours).
 */
export interface IOwner {
  /**
   * `notebook`, `console`, `file`, `kernel` (no session) or `terminal`.
   */
  readonly type: string;
  /**
   * The file name, terminal name or kernel name.
   */
  readonly name: string | null;
  /**
   * The session's path, if any.
   */
  readonly path: string | null;
  /**
   * The kernel, if it is one.
   */
  readonly kernel_id: string | null;
  /**
   * PSS of its processes, in bytes.
   */
  readonly memory: number;
}

/**
 * OOM kills seen by the server (ours).
 */
export interface IOomSummary {
  /**
   * Kernels ended by the OOM killer since the server started.
   */
  readonly kernel_kills: number;
  /**
   * The id of the newest OOM event (0: none).
   */
  readonly last_event_id: number;
  /**
   * Where kills are counted: `cgroup`, `host`, or null (not detectable).
   */
  readonly counter_source: string | null;
}

/**
 * The payload of `GET /api/metrics/v1` (the "why is it slow?" fields are
 * declared in diagnosis/types.ts).
 */
export interface IMetrics extends IDiagnosisFields {
  /**
   * RSS summed over the server and its descendants, in bytes.
   */
  readonly rss: number;
  /**
   * PSS summed over the same processes, in bytes.
   */
  readonly pss?: number | null;
  /**
   * CPU use, 100 = one CPU busy; null before the second sample, absent when
   * CPU tracking is off.
   */
  readonly cpu_percent?: number | null;
  /**
   * Effective CPUs (affinity and cgroup quota, never the host's count); null
   * before the first sample.
   */
  readonly cpu_count?: number | null;
  /**
   * Disk bytes used, only when disk tracking is on.
   */
  readonly disk_used?: number;
  /**
   * Disk bytes in total, only when disk tracking is on.
   */
  readonly disk_total?: number;
  /**
   * The limits and warning flags.
   */
  readonly limits?: ILimits;
  /**
   * What this sample is and what it cost.
   */
  readonly sample?: ISampleInfo;
  /**
   * The figure compared with the memory limit, and what it is made of.
   */
  readonly memory?: IMemoryFigure;
  /**
   * Memory by notebook, console and terminal, largest first.
   */
  readonly by_owner?: ReadonlyArray<IOwner>;
  /**
   * OOM kills of kernels.
   */
  readonly oom?: IOomSummary;
}

/**
 * The error thrown when a response does not have the documented shape.
 */
export class MetricsValidationError extends Error {
  /**
   * Create an error naming the offending field.
   *
   * @param path - Dotted path of the field, e.g. `limits.memory.warn`.
   * @param expected - What the field should have been.
   */
  constructor(path: string, expected: string) {
    super(`Invalid /api/metrics/v1 payload: '${path}' must be ${expected}`);
    this.name = 'MetricsValidationError';
  }
}

/**
 * Check that a parsed response is a metrics payload.
 *
 * @param value - The parsed JSON body.
 *
 * @throws {MetricsValidationError} naming the first malformed field.
 *
 * #### Notes
 * Only the fields this frontend reads are checked. Unknown fields are allowed,
 * so a newer server does not break an older frontend. Before the server's
 * first sample, `cpu_percent`, `cpu_count` and the sample's timings are null.
 */
export function assertMetrics(value: unknown): asserts value is IMetrics {
  const check = Private.check;
  const root = check.object(value, '(payload)');
  check.number(root.rss, 'rss');
  check.optionalNumber(root.pss, 'pss', true);
  check.optionalNumber(root.cpu_percent, 'cpu_percent', true);
  check.optionalNumber(root.cpu_count, 'cpu_count', true);
  check.optionalNumber(root.disk_used, 'disk_used');
  check.optionalNumber(root.disk_total, 'disk_total');

  if (root.limits !== undefined) {
    const limits = check.object(root.limits, 'limits');
    if (limits.memory !== undefined) {
      const memory = check.object(limits.memory, 'limits.memory');
      check.optionalNumber(memory.rss, 'limits.memory.rss');
      check.optionalNumber(memory.pss, 'limits.memory.pss');
      check.boolean(memory.warn, 'limits.memory.warn');
      check.optionalString(memory.source, 'limits.memory.source');
    }
    if (limits.cpu !== undefined) {
      const cpu = check.object(limits.cpu, 'limits.cpu');
      check.number(cpu.cpu, 'limits.cpu.cpu');
      check.boolean(cpu.warn, 'limits.cpu.warn');
      check.optionalString(cpu.source, 'limits.cpu.source');
    }
    if (limits.disk !== undefined) {
      const disk = check.object(limits.disk, 'limits.disk');
      check.number(disk.disk, 'limits.disk.disk');
      check.boolean(disk.warn, 'limits.disk.warn');
    }
  }

  if (root.sample !== undefined) {
    assertSampleInfo(root.sample, check);
  }
  if (root.memory !== undefined) {
    const memory = check.object(root.memory, 'memory');
    check.string(memory.figure, 'memory.figure');
    check.number(memory.used, 'memory.used');
    check.number(memory.limit, 'memory.limit');
    check.optionalString(memory.limit_source, 'memory.limit_source');
    check.optionalNumber(memory.host_total, 'memory.host_total');
    check.number(memory.processes, 'memory.processes');
    if (memory.cgroup !== null) {
      const cgroup = check.object(memory.cgroup, 'memory.cgroup');
      for (const key of [
        'version',
        'usage',
        'working_set',
        'outside_processes',
        'page_cache',
        'shmem',
        'kernel'
      ]) {
        check.number(cgroup[key], `memory.cgroup.${key}`);
      }
    }
  }
  if (root.by_owner !== undefined) {
    if (!Array.isArray(root.by_owner)) {
      throw new MetricsValidationError('by_owner', 'an array');
    }
    root.by_owner.forEach((value: unknown, i: number) => {
      const owner = check.object(value, `by_owner.${i}`);
      check.string(owner.type, `by_owner.${i}.type`);
      check.nullableString(owner.name, `by_owner.${i}.name`);
      check.nullableString(owner.path, `by_owner.${i}.path`);
      check.nullableString(owner.kernel_id, `by_owner.${i}.kernel_id`);
      check.number(owner.memory, `by_owner.${i}.memory`);
    });
  }
  if (root.oom !== undefined) {
    const oom = check.object(root.oom, 'oom');
    check.number(oom.kernel_kills, 'oom.kernel_kills');
    check.number(oom.last_event_id, 'oom.last_event_id');
    check.nullableString(oom.counter_source, 'oom.counter_source');
  }
  assertDiagnosisFields(root, check);
}

/**
 * Check a sample block, the same in every `/api/metrics/v1` payload.
 *
 * @param value - The `sample` field of a parsed body.
 *
 * @param check - The calling validator's guards, for its error class.
 *
 * @throws naming the first malformed field, e.g. `sample.age_ms`.
 *
 * #### Notes
 * `age_ms` may be null only while `ready` is false, before the first sample.
 */
export function assertSampleInfo(
  value: unknown,
  check: Guards
): asserts value is ISampleInfo {
  const sample = check.object(value, 'sample');
  check.boolean(sample.ready, 'sample.ready');
  check.boolean(sample.stale, 'sample.stale');
  if (sample.ready || sample.age_ms !== null) {
    check.number(sample.age_ms, 'sample.age_ms');
  }
  check.number(sample.interval_ms, 'sample.interval_ms');
  check.optionalBoolean(sample.cpu_ready, 'sample.cpu_ready');
  check.optionalNumber(sample.cost_ms, 'sample.cost_ms', true);
  check.optionalNumber(
    sample.monitor_cpu_percent,
    'sample.monitor_cpu_percent',
    true
  );
  check.optionalNumber(
    sample.pss_estimated_bytes,
    'sample.pss_estimated_bytes'
  );
  check.optionalNumber(
    sample.pss_estimated_fraction,
    'sample.pss_estimated_fraction'
  );
  check.optionalNumber(
    sample.oldest_exact_age_ms,
    'sample.oldest_exact_age_ms',
    true
  );
  check.optionalNumber(sample.next_poll_ms, 'sample.next_poll_ms');
  if (sample.processes !== undefined) {
    const processes = check.object(sample.processes, 'sample.processes');
    check.number(processes.seen, 'sample.processes.seen');
    check.number(processes.sampled, 'sample.processes.sampled');
    check.number(processes.left_out, 'sample.processes.left_out');
  }
  if (sample.worker !== undefined) {
    const worker = check.object(sample.worker, 'sample.worker');
    check.string(worker.state, 'sample.worker.state');
    check.number(worker.restarts, 'sample.worker.restarts');
    check.nullableString(worker.error, 'sample.worker.error');
  }
}

/**
 * Module-private state.
 */
namespace Private {
  /**
   * The guards of {@link assertMetrics}.
   */
  export const check = new Guards(
    (path, expected) => new MetricsValidationError(path, expected)
  );
}
