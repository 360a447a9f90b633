// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Plain-language texts about kernels, shared by the kernel status item and
 * the Kernel usage panel so both say the same thing.
 */

import {
  baseName,
  formatBytes,
  formatDuration,
  formatPercent,
  MISSING,
  PENDING
} from '../shared/format';
import type { ISampleInfo } from '../server/types';
import { IKernelOomEvent, IKernelUsage } from './types';
import type { MonitorStatus } from '../server/model';
import { trans } from '../shared/i18n';
import { termText } from '../shared/terms';

/**
 * How many characters of a kernel id are shown.
 */
export const SHORT_ID_LENGTH = 8;

/**
 * The start of a kernel id, enough to tell kernels apart at a glance.
 *
 * @param id - The full kernel id.
 */
export function shortKernelId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/**
 * A kernel's display name: its kernelspec name, or `kernel` when unknown.
 *
 * @param kernel - The kernel's usage.
 */
export function kernelName(kernel: IKernelUsage): string {
  return kernel.name || trans.__('kernel');
}

/**
 * The file name of a kernel's notebook or console, or null without a session.
 *
 * @param kernel - The kernel's usage.
 */
export function sessionName(kernel: IKernelUsage): string | null {
  const path = kernel.path;
  return path ? baseName(path) : null;
}

/**
 * What an OOM kill of a kernel did, in one sentence.
 *
 * @param event - The event, from the kernel's row.
 */
export function oomText(event: IKernelOomEvent): string {
  const at = new Date(event.time * 1000).toLocaleTimeString();
  const used =
    event.kernel_memory === null
      ? trans.__('its memory was not sampled')
      : trans.__('it used %1', formatBytes(event.kernel_memory));
  const server =
    event.server_memory !== null && event.limit > 0
      ? trans.__(
          '; the server %1 of %2',
          formatBytes(event.server_memory),
          formatBytes(event.limit)
        )
      : '';
  return trans.__(
    'Ran out of memory at %1 and was restarted (%2%3).',
    at,
    used,
    server
  );
}

/**
 * The process count as words, such as `1 process` or `3 processes`.
 *
 * @param count - The count, or null when unknown.
 */
export function formatProcesses(count: number | null): string {
  if (count === null) {
    return trans.__('%1 processes', MISSING);
  }
  return trans._n('%1 process', '%1 processes', count);
}

/**
 * The short figures of a kernel, such as `312 MiB · 12%`.
 *
 * @param kernel - The kernel's usage, or null when not listed yet.
 *
 * @returns The memory and CPU figures; a placeholder while the kernel is not
 * listed, a dash when it is listed but has no figures.
 */
export function kernelFigures(kernel: IKernelUsage | null): string {
  if (kernel === null) {
    return PENDING;
  }
  if (!kernel.available) {
    return MISSING;
  }
  const cpu =
    kernel.cpu_percent === null ? PENDING : formatPercent(kernel.cpu_percent);
  return `${formatBytes(kernel.memory)} · ${cpu}`;
}

/**
 * Why a kernel has no figures, as shown to users.
 *
 * @param kernel - The kernel's usage.
 *
 * @returns `not available: <reason>`, or null when the kernel has figures.
 */
export function unavailableText(kernel: IKernelUsage): string | null {
  if (kernel.available) {
    return null;
  }
  return trans.__(
    'not available: %1',
    (kernel.reason && termText(kernel.reason)) ||
      trans.__('no figures from the server')
  );
}

/**
 * What the kernel views show of the kernel model's status.
 */
export interface IKernelsStatus {
  /**
   * The model's status.
   */
  readonly status: MonitorStatus;
  /**
   * The sample block of the last answer, or null.
   */
  readonly sample: ISampleInfo | null;
  /**
   * Why the last request failed, or null.
   */
  readonly error: string | null;
}

/**
 * A sentence about the kernel model's status, or null when all is well.
 *
 * @param status - The model's status.
 *
 * @param sample - The sample block of the last answer, or null.
 *
 * @param error - Why the last request failed, or null.
 */
export function describeKernelsStatus(
  status: MonitorStatus,
  sample: ISampleInfo | null,
  error: string | null
): string | null {
  // Keyed by the status union: a new status fails to compile until said.
  const notes: Record<MonitorStatus, () => string | null> = {
    ok: () => null,
    loading: () => trans.__('Waiting for the first answer from the server.'),
    unreachable: () =>
      trans.__(
        'Server unreachable (%1); retrying with backoff. The figures shown may be old.',
        error ?? trans.__('request failed')
      ),
    unavailable: () =>
      trans.__(
        'The server has no kernel usage endpoint: its jupyter-resource-monitor server extension is missing or too old.'
      ),
    stale: () => {
      if (sample && !sample.ready) {
        return trans.__('The server has not taken its first sample yet.');
      }
      if (sample?.stale) {
        return trans.__(
          "The server's sample is stale (taken %1 ago).",
          formatDuration(sample.age_ms)
        );
      }
      return trans.__(
        'No fresh figures for a while (polling paused or delayed).'
      );
    }
  };
  return notes[status]();
}

/**
 * Every fact about one kernel, one line each, for a tooltip.
 *
 * @param kernel - The kernel's usage, or null when the server has not listed
 * it yet.
 *
 * @param id - The kernel id (used when `kernel` is null).
 *
 * @returns The lines, without a heading.
 */
export function describeKernel(
  kernel: IKernelUsage | null,
  id: string
): string[] {
  if (kernel === null) {
    return [
      trans.__('Kernel %1', shortKernelId(id)),
      trans.__('Not listed by the server yet (it may have just started).')
    ];
  }
  const session = sessionName(kernel);
  const lines = [
    session
      ? trans.__(
          'Kernel: %1 of %2 (%3)',
          kernelName(kernel),
          session,
          kernel.id
        )
      : trans.__('Kernel: %1 (%2)', kernelName(kernel), kernel.id)
  ];
  const pid =
    kernel.pid === null
      ? trans.__('none (not a local process)')
      : String(kernel.pid);
  if (!kernel.available) {
    lines.push(trans.__('PID: %1', pid));
    lines.push(trans.__('Figures %1', unavailableText(kernel) ?? ''));
    return lines;
  }
  lines.push(trans.__('PID: %1, %2', pid, formatProcesses(kernel.processes)));
  lines.push(
    trans.__(
      'Memory: %1 PSS of the kernel and its child processes (shared pages counted once); RSS %2.',
      formatBytes(kernel.memory),
      formatBytes(kernel.rss)
    )
  );
  for (const event of kernel.oom_events ?? []) {
    lines.push(oomText(event));
  }
  lines.push(
    trans.__(
      'CPU: %1, where 100%% is one CPU busy.',
      kernel.cpu_percent === null
        ? trans.__('not measured yet (needs two samples)')
        : formatPercent(kernel.cpu_percent)
    )
  );
  const waiting = waitText(kernel);
  if (waiting !== null) {
    lines.push(waiting);
  }
  return lines;
}

/**
 * A kernel's waiting for a CPU in one sentence, or null when the server does
 * not measure it.
 *
 * @param kernel - The kernel's usage.
 */
export function waitText(kernel: IKernelUsage): string | null {
  const wait = kernel.cpu_wait_percent;
  if (wait === undefined) {
    return null;
  }
  return trans.__(
    'Waiting for a CPU: %1 (ready to run but not running; 100%% is one process waiting all the time).',
    wait === null ? trans.__('not measured yet') : formatPercent(wait)
  );
}
