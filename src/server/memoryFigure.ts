// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Which memory figure a payload is read by, and its limit: shared by the
 * model (its history), the descriptions and the views, so none of them
 * imports another for it.
 */

import type { IMetrics } from './types';

/**
 * The memory figure shown: PSS when the server sends it, else RSS.
 *
 * @param metrics - The payload.
 *
 * @returns The bytes used, which of the two it is, and the matching limit
 * (null when there is none; the host's memory when `quota` is false).
 */
export function memoryFigure(metrics: IMetrics): {
  readonly used: number;
  readonly kind: 'PSS' | 'RSS' | 'working set';
  readonly limit: number | null;
  readonly quota: boolean;
} {
  const memory = metrics.limits?.memory;
  const positive = (value: number | undefined): number | null =>
    typeof value === 'number' && value > 0 ? value : null;
  // The host's memory is where the server runs out, not a quota set for it:
  // shown as such, never as "used / limit". Without a limit the server
  // answers 0 in `limits.memory` (as jupyter-resource-usage does) and the
  // host's total in `memory.host_total`; older servers sent it as the limit.
  const quota = memory?.source !== 'host';
  const host = quota ? null : positive(metrics.memory?.host_total);
  if (metrics.memory?.figure === 'working_set') {
    // Under a cgroup limit the OOM killer counts the cgroup's working set.
    return {
      used: metrics.memory.used,
      kind: 'working set',
      limit: positive(metrics.memory.limit),
      quota
    };
  }
  if (typeof metrics.pss === 'number') {
    return {
      used: metrics.pss,
      kind: 'PSS',
      limit: host ?? positive(memory?.pss) ?? positive(memory?.rss),
      quota
    };
  }
  return {
    used: metrics.rss,
    kind: 'RSS',
    limit: host ?? positive(memory?.rss),
    quota
  };
}
