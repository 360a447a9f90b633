// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * "Why is it slow?" in words: a pure function from a payload, the kernel
 * rows and the thresholds to one line per cause (what holds the server back,
 * its figure, what to do), or one line saying that nothing does.
 */

import type { IKernelUsage } from '../kernels/types';
import type { IMetrics } from '../server/types';
import { baseName, formatDuration, formatPercent } from '../shared/format';
import { trans } from '../shared/i18n';
import { IThresholds, reaches } from './thresholds';
import type { IFrame, IEventLoopBlock, IPressure } from './types';

/**
 * What a diagnosis line is about.
 *
 * - `throttled`: the CPU quota throttled the server.
 * - `waiting`: the server's processes waited for a CPU (no kernel rows).
 * - `kernel-waiting`: one kernel waited for a CPU.
 * - `pressure`: the server's cgroup stalled on memory or I/O.
 * - `blocked`: the server's event loop was blocked.
 * - `host`: the host's pressure, context only, never blamed on this server.
 * - `clear`: nothing holds the server back.
 */
export type DiagnosisKind =
  | 'throttled'
  | 'waiting'
  | 'kernel-waiting'
  | 'pressure'
  | 'blocked'
  | 'host'
  | 'clear';

/**
 * One line of the diagnosis.
 */
export interface IDiagnosisLine {
  /**
   * What the line is about.
   */
  readonly kind: DiagnosisKind;
  /**
   * Unique among the lines (a React key).
   */
  readonly key: string;
  /**
   * The sentence.
   */
  readonly text: string;
  /**
   * Whether the line names something holding this server back (false for
   * `host` and `clear`).
   */
  readonly heldBack: boolean;
}

/**
 * What a diagnosis is drawn from.
 */
export interface IDiagnosisInput {
  /**
   * The last payload of `/api/metrics/v1`, or null.
   */
  readonly metrics: IMetrics | null;
  /**
   * Fresh kernel rows (empty when the kernel list is not being polled).
   */
  readonly kernels: ReadonlyArray<IKernelUsage>;
  /**
   * The thresholds in force.
   */
  readonly thresholds: IThresholds;
  /**
   * The time, in ms since the epoch.
   */
  readonly now: number;
}

/**
 * How far back a block of the event loop is still told, in ms.
 */
export const RECENT_BLOCKS_MS = 10 * 60_000;

/**
 * Whether a payload carries any "why is it slow?" figure at all.
 *
 * @param metrics - The payload, or null.
 *
 * @returns False for a server that does not send them: nothing is rendered.
 */
export function hasDiagnosis(metrics: IMetrics | null): metrics is IMetrics {
  return (
    !!metrics &&
    metrics.sample?.ready !== false &&
    (metrics.cpu_wait_percent !== undefined ||
      metrics.cpu_throttle !== undefined ||
      (metrics.psi !== undefined && metrics.psi !== null) ||
      (metrics.event_loop !== undefined && metrics.event_loop !== null))
  );
}

/**
 * The diagnosis: one line per cause, newest figures first, or one `clear` line.
 *
 * @param input - The payload, the kernel rows, the thresholds and the time.
 *
 * @returns No lines when the payload carries no diagnosis figures.
 *
 * #### Notes
 * Waiting caused by the quota is told as throttling, not as other processes
 * competing (throttled time shows up as run-queue waiting too). The host's
 * pressure is every tenant's: it gets a `host` line, never a cause.
 */
export function diagnose(input: IDiagnosisInput): IDiagnosisLine[] {
  const { metrics, kernels, thresholds, now } = input;
  if (!hasDiagnosis(metrics)) {
    return [];
  }
  const lines: IDiagnosisLine[] = [];

  const throttled = throttleLine(metrics, thresholds);
  if (throttled) {
    lines.push(throttled);
  }

  const why = waitingCause(metrics, throttled !== null);
  const sampleText = Private.sampleSpan(metrics);
  const waiting = kernels
    .filter(
      kernel =>
        kernel.available &&
        reaches(kernel.cpu_wait_percent, thresholds.cpuWaitPercent)
    )
    .sort((a, b) => (b.cpu_wait_percent ?? 0) - (a.cpu_wait_percent ?? 0));
  for (const kernel of waiting) {
    lines.push({
      kind: 'kernel-waiting',
      key: `kernel-waiting:${kernel.id}`,
      heldBack: true,
      text: trans.__(
        "%1 waited for a CPU %2 of one CPU's time over %3 (100%% = one process ready to run all the time but not running): %4",
        Private.kernelLabel(kernel),
        formatPercent(kernel.cpu_wait_percent),
        sampleText,
        why
      )
    });
  }
  if (
    waiting.length === 0 &&
    reaches(metrics.cpu_wait_percent, thresholds.cpuWaitPercent)
  ) {
    lines.push({
      kind: 'waiting',
      key: 'waiting',
      heldBack: true,
      text: trans.__(
        "This server's processes waited for a CPU %1 of one CPU's time over %2 (100%% = one process ready to run all the time but not running): %3",
        formatPercent(metrics.cpu_wait_percent),
        sampleText,
        why
      )
    });
  }

  const pressure = pressureLines(metrics, thresholds);
  lines.push(...pressure.filter(line => line.kind !== 'host'));
  lines.push(...blockLines(metrics, now));
  // The host's pressure is context, not a cause: last.
  lines.push(...pressure.filter(line => line.kind === 'host'));

  if (!lines.some(line => line.heldBack)) {
    lines.unshift({
      kind: 'clear',
      key: 'clear',
      heldBack: false,
      text: Private.clearText(metrics)
    });
  }
  return lines;
}

/**
 * Why the CPU item warns: the throttling or waiting over its threshold, in
 * one sentence, or null when neither is.
 *
 * @param metrics - The payload, or null.
 *
 * @param thresholds - The thresholds in force.
 */
export function cpuHeldBack(
  metrics: IMetrics | null,
  thresholds: IThresholds
): string | null {
  if (!hasDiagnosis(metrics)) {
    return null;
  }
  const throttled = throttleLine(metrics, thresholds);
  if (throttled) {
    return throttled.text;
  }
  if (reaches(metrics.cpu_wait_percent, thresholds.cpuWaitPercent)) {
    return trans.__(
      "This server's processes waited for a CPU %1 of one CPU's time over %2 (100%% = one process ready to run all the time but not running): %3",
      formatPercent(metrics.cpu_wait_percent),
      Private.sampleSpan(metrics),
      waitingCause(metrics, false)
    );
  }
  return null;
}

/**
 * The throttling line, when the quota throttled at least the threshold.
 *
 * @param metrics - The payload.
 *
 * @param thresholds - The thresholds in force.
 */
export function throttleLine(
  metrics: IMetrics,
  thresholds: IThresholds
): IDiagnosisLine | null {
  const throttle = metrics.cpu_throttle;
  if (
    !throttle ||
    !reaches(throttle.throttled_percent, thresholds.throttledPercent)
  ) {
    return null;
  }
  const cpus = Private.cpus(throttle.quota_cpus);
  const threads = Math.max(1, Math.floor(throttle.quota_cpus));
  const seconds =
    typeof throttle.throttled_seconds === 'number'
      ? ' ' +
        trans.__(
          '(%1 throttled in all, summed over CPUs)',
          formatDuration(throttle.throttled_seconds * 1000)
        )
      : '';
  return {
    kind: 'throttled',
    key: 'throttled',
    heldBack: true,
    text: trans.__(
      'The %1-CPU limit held this server back in %2 of the quota periods in which it had work, over %3%4: use fewer threads or processes at once, e.g. OMP_NUM_THREADS=%5, or ask for a larger server.',
      cpus,
      formatPercent(throttle.throttled_percent),
      Private.window(throttle.window_s),
      seconds,
      threads
    )
  };
}

/**
 * Why processes waited for a CPU, and what to do, as the end of a sentence.
 *
 * @param metrics - The payload.
 *
 * @param throttled - Whether the quota's throttling is over its threshold.
 */
export function waitingCause(metrics: IMetrics, throttled: boolean): string {
  const throttle = metrics.cpu_throttle;
  // Throttled time shows up as waiting too: from a quarter of the periods
  // (where Kubernetes' alert fires) the limit accounts for much of it.
  if (throttled || (throttle && (throttle.throttled_percent ?? 0) >= 25)) {
    return trans.__(
      'much of it is the %1-CPU limit throttling the server, not other users.',
      Private.cpus(throttle?.quota_cpus ?? 0)
    );
  }
  const cpus = metrics.cpu_count ?? metrics.limits?.cpu?.cpu ?? 0;
  const used = metrics.cpu_percent ?? 0;
  if (cpus > 0 && used >= 90 * cpus) {
    return trans._n(
      "this server's own processes keep its CPU busy: run fewer things at once.",
      "this server's own processes keep its %1 CPUs busy: run fewer things at once.",
      cpus
    );
  }
  return trans.__(
    'the CPUs are busy with work outside this server (other users or containers on the machine).'
  );
}

/**
 * Memory and I/O stalls of the server's own cgroup over the threshold, or the
 * host's pressure as context.
 *
 * @param metrics - The payload.
 *
 * @param thresholds - The thresholds in force.
 */
export function pressureLines(
  metrics: IMetrics,
  thresholds: IThresholds
): IDiagnosisLine[] {
  const psi = metrics.psi;
  if (!psi) {
    return [];
  }
  const over = (pressure: IPressure | null | undefined): string | null => {
    const value = pressure?.some?.avg60 ?? null;
    return reaches(value, thresholds.pressurePercent)
      ? formatPercent(value)
      : null;
  };
  if (psi.source === 'cgroup') {
    const memory = over(psi.memory);
    const io = over(psi.io);
    const stalls: Array<[string, string | null]> = [
      [
        'memory',
        memory &&
          trans.__(
            "This server's processes stalled waiting for memory %1 of the last minute (the kernel reclaiming or swapping near the memory limit): free memory (restart idle kernels, drop large objects) or ask for more.",
            memory
          )
      ],
      [
        'io',
        io &&
          trans.__(
            "This server's processes stalled waiting for disk or network storage %1 of the last minute: read and write less at once, or use faster storage.",
            io
          )
      ]
    ];
    return stalls.flatMap(([resource, text]) =>
      text
        ? [
            {
              kind: 'pressure',
              key: `pressure:${resource}`,
              heldBack: true,
              text
            }
          ]
        : []
    );
  }
  const cpu = over(psi.cpu);
  const memory = over(psi.memory);
  const io = over(psi.io);
  const parts = [
    cpu && trans.__('CPU %1', cpu),
    memory && trans.__('memory %1', memory),
    io && trans.__('I/O %1', io)
  ].filter(Boolean);
  if (parts.length === 0) {
    return [];
  }
  return [
    {
      kind: 'host',
      key: 'host',
      heldBack: false,
      text: trans.__(
        "The host (shared with other users and containers) had tasks waiting for %1 of the last minute. These are the host's figures, not this server's: they may not slow it.",
        parts.join(', ')
      )
    }
  ];
}

/**
 * One line per culprit of the event-loop blocks of the last
 * {@link RECENT_BLOCKS_MS}, the newest first.
 *
 * @param metrics - The payload.
 *
 * @param now - The time, in ms since the epoch.
 */
export function blockLines(metrics: IMetrics, now: number): IDiagnosisLine[] {
  const blocks = (metrics.event_loop?.blocks ?? []).filter(
    block => block.time * 1000 >= now - RECENT_BLOCKS_MS
  );
  const groups = new Map<string, IEventLoopBlock[]>();
  for (const block of blocks) {
    const where = blockCulprit(block);
    const key = where ? `${where.file}:${where.function}` : '';
    groups.set(key, [...(groups.get(key) ?? []), block]);
  }
  return [...groups.entries()]
    .map(([key, group]) => {
      const newest = group.reduce((a, b) => (b.time >= a.time ? b : a));
      const longest = Math.max(...group.map(block => block.duration_ms));
      const where = describeCulprit(blockCulprit(newest));
      const text =
        group.length === 1
          ? trans.__(
              'The server was unresponsive for %1 at %2, in %3. Every tab of this server waited meanwhile (saving, opening files, kernel messages).',
              formatDuration(newest.duration_ms),
              formatClock(newest.time),
              where
            )
          : trans.__(
              'The server was unresponsive %1 times in the last %2, up to %3 (last at %4), in %5. Every tab of this server waited meanwhile (saving, opening files, kernel messages).',
              group.length,
              formatDuration(RECENT_BLOCKS_MS),
              formatDuration(longest),
              formatClock(newest.time),
              where
            );
      return {
        line: {
          kind: 'blocked' as const,
          key: `blocked:${key}`,
          heldBack: true,
          text
        },
        time: newest.time
      };
    })
    .sort((a, b) => b.time - a.time)
    .map(item => item.line);
}

/**
 * The frame to name for a block: its culprit, else its innermost frame.
 *
 * @param block - The block.
 */
export function blockCulprit(block: IEventLoopBlock): IFrame | null {
  return block.culprit ?? block.stack[0] ?? null;
}

/**
 * A frame as users read it: `function (package/module.py:line)`, the file
 * shortened to where it sits in its package.
 *
 * @param frame - The frame, or null.
 */
export function describeCulprit(frame: IFrame | null): string {
  if (!frame) {
    return trans.__('code the server could not identify');
  }
  const line = typeof frame.line === 'number' ? `:${frame.line}` : '';
  return `${frame.function} (${shortFile(frame.file)}${line})`;
}

/**
 * A source file's path from its package down (`nbconvert/exporters/html.py`),
 * or its last three parts outside any site-packages.
 *
 * @param file - The path as the stack gave it.
 */
export function shortFile(file: string): string {
  const marker = file.lastIndexOf('-packages/');
  if (marker >= 0) {
    return file.slice(marker + '-packages/'.length);
  }
  const parts = file.split('/').filter(Boolean);
  return parts.length > 3 ? `…/${parts.slice(-3).join('/')}` : file;
}

/**
 * A wall-clock time of the day, such as `14:02:07`.
 *
 * @param seconds - Seconds since the epoch.
 *
 * #### Notes
 * In the browser's locale, on a 24-hour clock: no AM/PM word that a
 * translation could not reach.
 */
export function formatClock(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString([], {
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  });
}

/**
 * Module-private helpers.
 */
namespace Private {
  /**
   * A CPU count as in "the 2-CPU limit": whole numbers bare, else 2 decimals.
   */
  export function cpus(value: number): string {
    return String(Math.round(value * 100) / 100);
  }

  /**
   * "the last minute", or "the last 35 s" while the window is shorter.
   */
  export function window(seconds: number): string {
    return Math.abs(seconds - 60) < 1
      ? trans.__('the last minute')
      : trans.__('the last %1', formatDuration(seconds * 1000));
  }

  /**
   * The span a per-sample figure covers: "the last 1.0 s".
   */
  export function sampleSpan(metrics: IMetrics): string {
    const interval = metrics.sample?.interval_ms;
    return typeof interval === 'number' && interval > 0
      ? trans.__('the last %1', formatDuration(interval))
      : trans.__('the last sample');
  }

  /**
   * A kernel as users know it: its notebook's or console's name.
   */
  export function kernelLabel(kernel: IKernelUsage): string {
    return kernel.path
      ? baseName(kernel.path)
      : trans.__('The %1 kernel %2', kernel.name ?? '', kernel.id.slice(0, 8));
  }

  /**
   * The `clear` line, with the figures that were checked.
   */
  export function clearText(metrics: IMetrics): string {
    const checked: string[] = [];
    const throttle = metrics.cpu_throttle;
    if (throttle && typeof throttle.throttled_percent === 'number') {
      checked.push(
        trans.__(
          'the %1-CPU limit throttled %2 of the quota periods over %3',
          cpus(throttle.quota_cpus),
          formatPercent(throttle.throttled_percent),
          window(throttle.window_s)
        )
      );
    }
    if (typeof metrics.cpu_wait_percent === 'number') {
      checked.push(
        trans.__(
          "its processes waited for a CPU %1 of one CPU's time over %2",
          formatPercent(metrics.cpu_wait_percent),
          sampleSpan(metrics)
        )
      );
    }
    const p99 = metrics.event_loop?.lag_ms?.p99;
    if (typeof p99 === 'number') {
      checked.push(
        trans.__(
          'its event loop was delayed at most %1 99%% of the time over the last minute',
          formatDuration(p99)
        )
      );
    }
    return checked.length
      ? trans.__('Nothing is holding this server back: %1.', checked.join('; '))
      : trans.__('Nothing is holding this server back.');
  }
}
