// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertDiagnosisFields, IDiagnosisFields } from '../diagnosis/types';
import { assertGuardSummary } from '../guard/types';
import {
  AnyString,
  Fields,
  Guards,
  Optional,
  validationError
} from '../shared/validate';
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
  readonly memory?: Optional<
    AnyString<Wire.Limits['memory'], 'source'>,
    'rss' | 'pss' | 'source'
  >;
  readonly cpu?: Optional<
    AnyString<NonNullable<Wire.Limits['cpu']>, 'source'>,
    'source'
  >;
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
    Omit<
      Wire.Sample,
      'ready' | 'stale' | 'age_ms' | 'interval_ms' | 'taken_at' | 'worker'
    > & { readonly worker: AnyString<Wire.Sample['worker'], 'state'> }
  >;

/**
 * The figure compared with the memory limit, and what it is made of.
 */
export type IMemoryFigure = Optional<
  AnyString<Omit<Wire.Memory, 'cgroup'>, 'figure' | 'limit_source'>,
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
export type IOwner = AnyString<Omit<Wire.Owner, 'cpu_percent'>, 'type'>;

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
    readonly oom?: AnyString<
      Omit<Wire.OomSummary, 'kernel_deaths'>,
      'counter_source'
    >;
  };

/**
 * The error thrown when a response does not have the documented shape.
 */
export const MetricsValidationError = validationError(
  'MetricsValidationError',
  '/api/metrics/v1 payload'
);

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
  const root = check.shape(value, '(payload)', {
    number: ['rss'],
    '?number|null': ['pss', 'cpu_percent', 'cpu_count'],
    '?number': ['disk_used', 'disk_total']
  });
  if (root.limits !== undefined) {
    const limits = check.object(root.limits, 'limits');
    const optional = (key: string, fields: Fields) =>
      limits[key] === undefined ||
      check.shape(limits[key], `limits.${key}`, fields);
    optional('memory', {
      '?number': ['rss', 'pss'],
      boolean: ['warn'],
      '?string': ['source']
    });
    optional('cpu', {
      number: ['cpu'],
      boolean: ['warn'],
      '?string': ['source']
    });
    optional('disk', { number: ['disk'], boolean: ['warn'] });
  }
  if (root.sample !== undefined) {
    assertSampleInfo(root.sample, check);
  }
  if (root.memory !== undefined) {
    const memory = check.shape(root.memory, 'memory', {
      string: ['figure'],
      number: ['used', 'limit', 'processes'],
      '?string': ['limit_source'],
      '?number': ['host_total']
    });
    if (memory.cgroup !== null) {
      check.shape(memory.cgroup, 'memory.cgroup', {
        number: [
          'version',
          'usage',
          'working_set',
          'outside_processes',
          'page_cache',
          'shmem',
          'kernel'
        ]
      });
    }
  }
  if (root.by_owner !== undefined) {
    check.array(root.by_owner, 'by_owner').forEach((owner, i) =>
      check.shape(owner, `by_owner.${i}`, {
        string: ['type'],
        'string|null': ['name', 'path', 'kernel_id'],
        number: ['memory']
      })
    );
  }
  if (root.oom !== undefined) {
    check.shape(root.oom, 'oom', {
      number: ['kernel_kills', 'last_event_id'],
      'string|null': ['counter_source']
    });
  }
  if (root.guard !== undefined) {
    assertGuardSummary(root.guard);
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
  const sample = check.shape(value, 'sample', { boolean: ['ready', 'stale'] });
  if (sample.ready || sample.age_ms !== null) {
    check.number(sample.age_ms, 'sample.age_ms');
  }
  check.shape(sample, 'sample', {
    number: ['interval_ms'],
    '?boolean': ['cpu_ready'],
    '?number|null': ['cost_ms', 'monitor_cpu_percent', 'oldest_exact_age_ms'],
    '?number': ['pss_estimated_bytes', 'pss_estimated_fraction', 'next_poll_ms']
  });
  if (sample.processes !== undefined) {
    check.shape(sample.processes, 'sample.processes', {
      number: ['seen', 'sampled', 'left_out']
    });
  }
  if (sample.worker !== undefined) {
    check.shape(sample.worker, 'sample.worker', {
      string: ['state'],
      number: ['restarts'],
      'string|null': ['error']
    });
  }
}

/**
 * Module-private state.
 */
namespace Private {
  /**
   * The guards of {@link assertMetrics}.
   */
  export const check = new Guards(MetricsValidationError);
}
