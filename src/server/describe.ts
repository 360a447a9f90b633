// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Plain-language explanations of a metrics payload, shared by the status
 * item's tooltip and the detail view so both always say the same thing.
 */

import {
  formatBytes,
  formatDuration,
  formatFraction,
  formatPercent,
  formatUsage
} from '../shared/format';
import type { MonitorStatus } from '../shared/polling';
import { memoryFigure } from './memoryFigure';
import type { IMetrics } from './types';
import { trans } from '../shared/i18n';
import { termText } from '../shared/terms';

export { memoryFigure };

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
  /**
   * Why the CPU is held back (throttling or waiting over its threshold, see
   * diagnosis/diagnose.ts `cpuHeldBack`), or null/absent when it is not.
   */
  readonly cpuHeldBack?: string | null;
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
      ? trans.__('No values received yet.')
      : trans.__(
          'Showing values received %1 ago.',
          formatDuration(now - lastUpdate)
        );
  switch (status) {
    case 'loading':
      return trans.__('Waiting for the first sample from the server.');
    case 'unreachable':
      return trans.__(
        'Server unreachable (%1); retrying with backoff. %2',
        error ?? trans.__('request failed'),
        since
      );
    case 'unavailable':
      return trans.__(
        'The server has no /api/metrics/v1 endpoint: the jupyter-resource-monitor server extension is not installed or not enabled.'
      );
    case 'stale': {
      const sample = metrics?.sample;
      if (sample && !sample.ready) {
        return trans.__(
          'The server has not taken its first sample yet: the numbers are placeholders.'
        );
      }
      if (sample?.stale) {
        return trans.__(
          "The server's sample is stale (taken %1 ago): its monitor worker may be stuck or restarting.",
          formatDuration(sample.age_ms)
        );
      }
      return trans.__(
        'No fresh values for a while (polling paused or delayed). %1',
        since
      );
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
    lines.push({ label: trans.__('Status'), text: status });
  }
  const metrics = options.metrics;
  if (metrics === null) {
    return lines;
  }

  const memory = memoryFigure(metrics);
  const limits = metrics.limits;
  const limitText =
    memory.limit === null
      ? trans.__('no memory limit known')
      : memory.quota
        ? trans.__(
            'limit %1 (from %2)',
            formatBytes(memory.limit),
            termText(limits?.memory?.source ?? '') || trans.__('the server')
          )
        : trans.__('no limit set; the host has %1', formatBytes(memory.limit));
  const used = formatUsage(memory.used, memory.quota ? memory.limit : null);
  const kind =
    memory.kind === 'working set' ? trans.__('working set') : memory.kind;
  let memoryText = trans.__('%1 %2, %3.', used, kind, limitText);
  const cgroup = metrics.memory?.cgroup;
  if (memory.kind === 'working set' && cgroup) {
    memoryText +=
      ' ' +
      trans.__(
        "The working set is the memory cgroup's usage less the file cache it can drop: what its OOM killer counts. Of it, the processes use %1 (PSS); %2 is not in any process: page cache %3, shared-memory files (tmpfs, /dev/shm) %4, kernel memory %5.",
        formatBytes(metrics.memory?.processes),
        formatBytes(cgroup.outside_processes),
        formatBytes(cgroup.page_cache),
        formatBytes(cgroup.shmem),
        formatBytes(cgroup.kernel)
      );
  } else if (memory.kind === 'PSS') {
    const fraction = metrics.sample?.pss_estimated_fraction;
    const estimated =
      typeof fraction === 'number' && fraction > 0
        ? ' ' +
          trans.__(
            '%1 (%2) of it is estimated rather than read exactly.',
            formatFraction(fraction),
            formatBytes(metrics.sample?.pss_estimated_bytes)
          )
        : '';
    memoryText +=
      ' ' +
      trans.__(
        'PSS counts pages shared between processes once, so it is the real footprint.%1 RSS counts shared pages in every process: %2.',
        estimated,
        formatBytes(metrics.rss)
      );
  } else {
    memoryText +=
      ' ' +
      trans.__(
        'RSS counts shared pages once per process, so it over-counts forked workers.'
      );
  }
  if (limits?.memory?.warn) {
    memoryText += ' ' + trans.__('Close to the limit.');
  }
  lines.push({ label: trans.__('Memory'), text: memoryText });

  if (metrics.cpu_percent !== undefined) {
    const cpus = metrics.cpu_count ?? limits?.cpu?.cpu;
    const cpuSource = limits?.cpu?.source;
    let cpuText =
      metrics.cpu_percent === null
        ? trans.__('Not measured yet (needs two samples).')
        : trans.__(
            '%1, where 100%% is one CPU busy.',
            formatPercent(metrics.cpu_percent)
          );
    // Before the first sample the server sends no count and a 0 limit.
    if (typeof cpus === 'number' && cpus > 0) {
      cpuText +=
        ' ' +
        trans._n(
          'This server may use %1 CPU%2, so the most it can reach is %3.',
          'This server may use %1 CPUs%2, so the most it can reach is %3.',
          cpus,
          cpuSource ? trans.__(' (from %1)', termText(cpuSource)) : '',
          formatPercent(cpus * 100)
        );
    }
    if (limits?.cpu?.warn) {
      cpuText += ' ' + trans.__('Close to the limit.');
    }
    if (options.cpuHeldBack) {
      cpuText += ' ' + trans.__('Held back: %1', options.cpuHeldBack);
    }
    lines.push({ label: trans.__('CPU'), text: cpuText });
  }

  if (
    typeof metrics.disk_used === 'number' &&
    typeof metrics.disk_total === 'number'
  ) {
    let diskText = trans.__(
      '%1 used.',
      formatUsage(metrics.disk_used, metrics.disk_total)
    );
    if (limits?.disk?.warn) {
      diskText += ' ' + trans.__('Close to full.');
    }
    lines.push({ label: trans.__('Disk'), text: diskText });
  }

  const sample = metrics.sample;
  if (sample) {
    const processes = sample.processes;
    if (processes) {
      lines.push({
        label: trans.__('Processes'),
        text:
          processes.left_out > 0
            ? trans.__(
                '%1 seen, %2 sampled, %3 left out (gone, not readable, or over the sampling budget).',
                processes.seen,
                processes.sampled,
                processes.left_out
              )
            : trans.__(
                '%1 seen, %2 sampled, %3 left out.',
                processes.seen,
                processes.sampled,
                processes.left_out
              )
      });
    }
    const sinceReceived =
      options.lastUpdate === null
        ? 0
        : Math.max(0, options.now - options.lastUpdate);
    lines.push({
      label: trans.__('Sample'),
      text:
        sample.age_ms === null
          ? trans.__(
              'None yet; the server samples every %1.',
              formatDuration(sample.interval_ms)
            )
          : trans.__(
              'Taken %1 ago; the server samples every %2.',
              formatDuration(sample.age_ms + sinceReceived),
              formatDuration(sample.interval_ms)
            )
    });
    if (
      typeof sample.cost_ms === 'number' ||
      typeof sample.monitor_cpu_percent === 'number'
    ) {
      lines.push({
        label: trans.__('Monitor cost'),
        text: trans.__(
          '%1 of CPU per sample, %2 CPU overall (not included above).',
          formatDuration(sample.cost_ms),
          formatPercent(sample.monitor_cpu_percent)
        )
      });
    }
    const worker = sample.worker;
    if (worker && (worker.state !== 'running' || worker.restarts > 0)) {
      lines.push({
        label: trans.__('Worker'),
        text:
          trans._n(
            '%2, restarted %1 time',
            '%2, restarted %1 times',
            worker.restarts,
            termText(worker.state)
          ) +
          (worker.error ? trans.__('; last error: %1', worker.error) : '') +
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
  return [trans.__('Resource monitor'), ...lines].join('\n');
}
