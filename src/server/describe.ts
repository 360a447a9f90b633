// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Plain-language explanations of a metrics payload, shared by the status
 * item's tooltip and the detail popup so both always say the same thing.
 */

import {
  formatBytes,
  formatDuration,
  formatFraction,
  formatPercent,
  formatUsage
} from '../shared/format';
import type { MonitorStatus } from './model';
import type { IMetrics } from './types';
import { trans } from '../shared/i18n';

/**
 * One explained fact: a short label and a sentence or two.
 */
export interface IExplanation {
  /**
   * A short label, such as `Memory`.
   */
  readonly label: string;
  /**
   * The explanation.
   */
  readonly text: string;
}

/**
 * What an explanation is built from: a snapshot of the model.
 */
export interface IDescribeOptions {
  /**
   * The model's status.
   */
  readonly status: MonitorStatus;
  /**
   * The last valid payload, or null.
   */
  readonly metrics: IMetrics | null;
  /**
   * When that payload arrived, in ms since the epoch, or null.
   */
  readonly lastUpdate: number | null;
  /**
   * Why the last request failed, or null.
   */
  readonly error: string | null;
  /**
   * The time to measure ages against, in ms since the epoch.
   */
  readonly now: number;
}

/**
 * The memory figure shown: PSS when the server sends it, else RSS.
 *
 * @param metrics - The payload.
 *
 * @returns The bytes used, which of the two it is, and the matching limit
 * (null when there is none).
 */
export function memoryFigure(metrics: IMetrics): {
  readonly used: number;
  readonly kind: 'PSS' | 'RSS';
  readonly limit: number | null;
  readonly quota: boolean;
} {
  const memory = metrics.limits?.memory;
  const positive = (value: number | undefined): number | null =>
    typeof value === 'number' && value > 0 ? value : null;
  // The host's memory is where the server runs out, not a quota set for it:
  // shown as such, never as "used / limit".
  const quota = memory?.source !== 'host';
  if (typeof metrics.pss === 'number') {
    return {
      used: metrics.pss,
      kind: 'PSS',
      limit: positive(memory?.pss) ?? positive(memory?.rss),
      quota
    };
  }
  return {
    used: metrics.rss,
    kind: 'RSS',
    limit: positive(memory?.rss),
    quota
  };
}

/**
 * A sentence about the model's status, or null when all is well.
 *
 * @param options - The model snapshot.
 */
export function describeStatus(options: IDescribeOptions): string | null {
  const { status, metrics, lastUpdate, error, now } = options;
  const since =
    lastUpdate === null
      ? 'No values received yet.'
      : `Showing values received ${formatDuration(now - lastUpdate)} ago.`;
  switch (status) {
    case 'loading':
      return 'Waiting for the first sample from the server.';
    case 'unreachable':
      return `Server unreachable (${error ?? 'request failed'}); retrying with backoff. ${since}`;
    case 'unavailable':
      return 'The server has no /api/metrics/v1 endpoint: the jupyter-resource-monitor server extension is not installed or not enabled.';
    case 'stale': {
      const sample = metrics?.sample;
      if (sample && !sample.ready) {
        return 'The server has not taken its first sample yet: the numbers are placeholders.';
      }
      if (sample?.stale) {
        return `The server's sample is stale (taken ${formatDuration(sample.age_ms)} ago): its monitor worker may be stuck or restarting.`;
      }
      return `No fresh values for a while (polling paused or delayed). ${since}`;
    }
    case 'ok':
      return null;
  }
}

/**
 * Explain every figure of a payload.
 *
 * @param options - The model snapshot.
 *
 * @returns The explanations, status first when it needs saying.
 */
export function describeMetrics(
  options: IDescribeOptions
): ReadonlyArray<IExplanation> {
  const lines: IExplanation[] = [];
  const status = describeStatus(options);
  if (status !== null) {
    lines.push({ label: 'Status', text: status });
  }
  const metrics = options.metrics;
  if (metrics === null) {
    return lines;
  }

  const memory = memoryFigure(metrics);
  const limits = metrics.limits;
  const limitText =
    memory.limit === null
      ? 'no memory limit known'
      : memory.quota
        ? `limit ${formatBytes(memory.limit)} (from ${limits?.memory?.source ?? 'the server'})`
        : `no limit set; the host has ${formatBytes(memory.limit)}`;
  const used = formatUsage(memory.used, memory.quota ? memory.limit : null);
  let memoryText = `${used} ${memory.kind}, ${limitText}.`;
  if (memory.kind === 'PSS') {
    const fraction = metrics.sample?.pss_estimated_fraction;
    const estimated =
      typeof fraction === 'number' && fraction > 0
        ? ` ${formatFraction(fraction)} (${formatBytes(metrics.sample?.pss_estimated_bytes)}) of it is estimated rather than read exactly.`
        : '';
    memoryText += ` PSS counts pages shared between processes once, so it is the real footprint.${estimated} RSS counts shared pages in every process: ${formatBytes(metrics.rss)}.`;
  } else {
    memoryText +=
      ' RSS counts shared pages once per process, so it over-counts forked workers.';
  }
  if (limits?.memory?.warn) {
    memoryText += ' Close to the limit.';
  }
  lines.push({ label: 'Memory', text: memoryText });

  if (metrics.cpu_percent !== undefined) {
    const cpus = metrics.cpu_count ?? limits?.cpu?.cpu;
    const cpuSource = limits?.cpu?.source;
    let cpuText =
      metrics.cpu_percent === null
        ? 'Not measured yet (needs two samples).'
        : `${formatPercent(metrics.cpu_percent)}, where 100% is one CPU busy.`;
    // Before the first sample the server sends no count and a 0 limit.
    if (typeof cpus === 'number' && cpus > 0) {
      cpuText +=
        ' ' +
        trans()._n(
          'This server may use %1 CPU%2, so the most it can reach is %3.',
          'This server may use %1 CPUs%2, so the most it can reach is %3.',
          cpus,
          cpuSource ? ` (from ${cpuSource})` : '',
          formatPercent(cpus * 100)
        );
    }
    if (limits?.cpu?.warn) {
      cpuText += ' Close to the limit.';
    }
    lines.push({ label: 'CPU', text: cpuText });
  }

  if (
    typeof metrics.disk_used === 'number' &&
    typeof metrics.disk_total === 'number'
  ) {
    let diskText = `${formatUsage(metrics.disk_used, metrics.disk_total)} used.`;
    if (limits?.disk?.warn) {
      diskText += ' Close to full.';
    }
    lines.push({ label: 'Disk', text: diskText });
  }

  const sample = metrics.sample;
  if (sample) {
    const processes = sample.processes;
    if (processes) {
      lines.push({
        label: 'Processes',
        text:
          `${processes.seen} seen, ${processes.sampled} sampled, ${processes.left_out} left out` +
          (processes.left_out > 0
            ? ' (gone, not readable, or over the sampling budget).'
            : '.')
      });
    }
    const sinceReceived =
      options.lastUpdate === null
        ? 0
        : Math.max(0, options.now - options.lastUpdate);
    lines.push({
      label: 'Sample',
      text:
        sample.age_ms === null
          ? `None yet; the server samples every ${formatDuration(sample.interval_ms)}.`
          : `Taken ${formatDuration(sample.age_ms + sinceReceived)} ago; the server samples every ${formatDuration(sample.interval_ms)}.`
    });
    if (
      typeof sample.cost_ms === 'number' ||
      typeof sample.monitor_cpu_percent === 'number'
    ) {
      lines.push({
        label: 'Monitor cost',
        text: `${formatDuration(sample.cost_ms)} of CPU per sample, ${formatPercent(sample.monitor_cpu_percent)} CPU overall (not included above).`
      });
    }
    const worker = sample.worker;
    if (worker && (worker.state !== 'running' || worker.restarts > 0)) {
      lines.push({
        label: 'Worker',
        text:
          trans()._n(
            '%2, restarted %1 time',
            '%2, restarted %1 times',
            worker.restarts,
            worker.state
          ) +
          (worker.error ? `; last error: ${worker.error}` : '') +
          '.'
      });
    }
  }
  return lines;
}

/**
 * The explanations as one tooltip text, one line per figure.
 *
 * @param options - The model snapshot.
 */
export function describeAsTitle(options: IDescribeOptions): string {
  const lines = describeMetrics(options).map(
    line => `${line.label}: ${line.text}`
  );
  return ['Resource monitor', ...lines].join('\n');
}
