// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertDiagnosisFields, IDiagnosisFields } from '../diagnosis/types';
import { Guards, Optional } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * `GET /api/metrics/v1` as this frontend reads it: the generated wire types
 * (shared/wire.ts), loosened where {@link assertMetrics} lets more through.
 * What the jupyter-resource-usage payload and older servers did not send is
 * optional; fields the frontend never reads (so never checks) are left out.
 */

/**
 * The limits and their warning flags; each limit may be absent.
 */
export type ILimits = {
  readonly memory?: Optional<Wire.Limits['memory'], 'rss' | 'pss' | 'source'>;
  readonly cpu?: Optional<NonNullable<Wire.Limits['cpu']>, 'source'>;
  readonly disk?: Wire.Limits['disk'];
};

/**
 * What a sample is and what it cost (the same block in `/kernels`).
 */
export type ISampleInfo = Pick<
  Wire.Sample,
  'ready' | 'stale' | 'age_ms' | 'interval_ms'
> &
  Partial<
    Omit<Wire.Sample, 'ready' | 'stale' | 'age_ms' | 'interval_ms' | 'taken_at'>
  >;

/**
 * The figure compared with the memory limit, and what it is made of.
 */
export type IMemoryFigure = Optional<
  Omit<Wire.Memory, 'cgroup'>,
  'limit_source' | 'host_total'
> & {
  readonly cgroup: Omit<
    Wire.CgroupMemory,
    'anon' | 'inactive_file' | 'pressure_events'
  > | null;
};

/**
 * Memory of one notebook, console or terminal.
 */
export type IOwner = Omit<Wire.Owner, 'cpu_percent'>;

/**
 * The payload of `GET /api/metrics/v1` (the "why is it slow?" fields as
 * diagnosis/types.ts reads them).
 */
export type IMetrics = Omit<
  Wire.Metrics,
  | 'pss'
  | 'cpu_percent'
  | 'cpu_count'
  | 'limits'
  | 'memory'
  | 'sample'
  | 'by_owner'
  | 'oom'
  | keyof IDiagnosisFields
> &
  IDiagnosisFields & {
    /**
     * Null before older servers' first sample.
     */
    readonly pss?: number | null;
    readonly cpu_percent?: number | null;
    readonly cpu_count?: number | null;
    readonly limits?: ILimits;
    readonly memory?: IMemoryFigure;
    readonly sample?: ISampleInfo;
    readonly by_owner?: ReadonlyArray<IOwner>;
    readonly oom?: Omit<Wire.OomSummary, 'kernel_deaths'>;
  };

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
