// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Guards } from '../shared/validate';

/**
 * Wire types of the "why is it slow?" fields of `GET /api/metrics/v1` and of
 * the kernel rows (docs/api.md), and their validators.
 *
 * Every field is optional: a server that does not send them (an older one,
 * a kernel without PSI, a machine without a CPU quota) renders nothing, and
 * a null field means "not measured", never 0.
 */

/**
 * Throttling under the CPU quota of the cgroup that limits the server, over
 * the last window.
 */
export interface ICpuThrottle {
  /**
   * Share of the quota periods in which the cgroup had work that were
   * throttled, in percent; null before two readings.
   */
  readonly throttled_percent: number | null;
  /**
   * The cgroup's throttled-time counter's growth over the window, in seconds
   * (summed over CPUs, so it can exceed `window_s`); null before two readings.
   */
  readonly throttled_seconds: number | null;
  /**
   * The window, in seconds (a minute once the server has run that long).
   */
  readonly window_s: number;
  /**
   * The quota, in CPUs.
   */
  readonly quota_cpus: number;
}

/**
 * One pressure figure: the share of time some (or all) tasks stalled.
 */
export interface IPressureFigure {
  /**
   * Percent of the last 10 s.
   */
  readonly avg10: number;
  /**
   * Percent of the last 60 s.
   */
  readonly avg60: number;
  /**
   * Stalled time since boot (or the cgroup's creation), in seconds.
   */
  readonly total_s: number;
}

/**
 * Pressure of one resource: `some` (at least one task stalled) and `full`
 * (every non-idle task stalled); either may be absent.
 */
export interface IPressure {
  readonly some?: IPressureFigure;
  readonly full?: IPressureFigure;
}

/**
 * The resources pressure is read for.
 */
export type PressureResource = 'cpu' | 'memory' | 'io';

/**
 * Pressure stall information: the server's cgroup's, or the host's (every
 * tenant's, never to be blamed on this server).
 */
export interface IPsi {
  /**
   * `cgroup` (the server's own) or `host`.
   */
  readonly source: 'cgroup' | 'host' | string;
  readonly cpu?: IPressure | null;
  readonly memory?: IPressure | null;
  readonly io?: IPressure | null;
}

/**
 * One Python frame of a blocked event loop's stack.
 */
export interface IFrame {
  readonly function: string;
  readonly file: string;
  /**
   * The line; null (or absent) where the stack dump did not say.
   */
  readonly line?: number | null;
}

/**
 * One time the server's event loop was blocked past the threshold.
 */
export interface IEventLoopBlock {
  /**
   * 1, 2, … in the server's life, when the server numbers them.
   */
  readonly id?: number;
  /**
   * When it began, in seconds since the epoch.
   */
  readonly time: number;
  /**
   * How long the loop was blocked, in ms.
   */
  readonly duration_ms: number;
  /**
   * The loop's stack while it was blocked, innermost first.
   */
  readonly stack: ReadonlyArray<IFrame>;
  /**
   * The innermost frame outside the standard library and the event-loop
   * machinery; null when none was found.
   */
  readonly culprit?: IFrame | null;
}

/**
 * The server's own responsiveness: its event loop's delay and blocks.
 */
export interface IEventLoop {
  /**
   * Percentiles of the loop's delay over the last minute, in ms (null
   * without a measurement in that time).
   */
  readonly lag_ms: {
    readonly p50: number | null;
    readonly p99: number | null;
    readonly max: number | null;
  };
  /**
   * Blocks longer than `threshold_ms`, newest last, bounded.
   */
  readonly blocks: ReadonlyArray<IEventLoopBlock>;
  /**
   * The server's threshold for recording a block, in ms.
   */
  readonly threshold_ms: number;
}

/**
 * The server's warning thresholds (`c.ResourceMonitor.*`), in the units of
 * the figures they apply to.
 */
export interface IServerThresholds {
  /**
   * Percent of the quota periods.
   */
  readonly throttled_percent: number;
  /**
   * Percent of one CPU (100 = one CPU's worth of waiting).
   */
  readonly cpu_wait_percent: number;
}

/**
 * The fields of `/api/metrics/v1` that say why the server may be slow.
 */
export interface IDiagnosisFields {
  /**
   * Time the server's processes were ready to run but not running, like CPU
   * use (100 = one CPU's worth of waiting); null before two samples.
   */
  readonly cpu_wait_percent?: number | null;
  /**
   * Throttling under the CPU quota; null without a quota.
   */
  readonly cpu_throttle?: ICpuThrottle | null;
  /**
   * Pressure stalls; absent where the kernel has none.
   */
  readonly psi?: IPsi | null;
  /**
   * The server's event loop; absent when its measurement is off.
   */
  readonly event_loop?: IEventLoop | null;
  /**
   * The server's warning thresholds.
   */
  readonly thresholds?: IServerThresholds;
}

/**
 * The field of a kernel row that says whether the kernel waits for a CPU.
 */
export interface IKernelDiagnosisFields {
  /**
   * Time the kernel and its descendants were ready to run but not running
   * (100 = one CPU's worth of waiting); null when not measured.
   */
  readonly cpu_wait_percent?: number | null;
}

/**
 * Check the diagnosis fields of a parsed `/api/metrics/v1` body.
 *
 * @param root - The body, already checked to be an object.
 *
 * @param check - The calling validator's guards, for its error class.
 *
 * @throws naming the first malformed field, e.g. `cpu_throttle.window_s`.
 *
 * #### Notes
 * Absent and null fields pass; unknown fields are allowed.
 */
export function assertDiagnosisFields(
  root: Record<string, unknown>,
  check: Guards
): void {
  check.optionalNumber(root.cpu_wait_percent, 'cpu_wait_percent', true);
  if (root.cpu_throttle !== undefined && root.cpu_throttle !== null) {
    const throttle = check.object(root.cpu_throttle, 'cpu_throttle');
    check.nullableNumber(
      throttle.throttled_percent,
      'cpu_throttle.throttled_percent'
    );
    check.nullableNumber(
      throttle.throttled_seconds,
      'cpu_throttle.throttled_seconds'
    );
    check.number(throttle.window_s, 'cpu_throttle.window_s');
    check.number(throttle.quota_cpus, 'cpu_throttle.quota_cpus');
  }
  if (root.psi !== undefined && root.psi !== null) {
    const psi = check.object(root.psi, 'psi');
    check.string(psi.source, 'psi.source');
    for (const resource of Private.RESOURCES) {
      const pressure = psi[resource];
      if (pressure === undefined || pressure === null) {
        continue;
      }
      const kinds = check.object(pressure, `psi.${resource}`);
      for (const kind of ['some', 'full']) {
        // Absent where the kernel has none (CPU "full" before Linux 5.13).
        if (kinds[kind] === undefined) {
          continue;
        }
        const figure = check.object(kinds[kind], `psi.${resource}.${kind}`);
        for (const key of ['avg10', 'avg60', 'total_s']) {
          check.number(figure[key], `psi.${resource}.${kind}.${key}`);
        }
      }
    }
  }
  if (root.event_loop !== undefined && root.event_loop !== null) {
    const loop = check.object(root.event_loop, 'event_loop');
    const lag = check.object(loop.lag_ms, 'event_loop.lag_ms');
    for (const key of ['p50', 'p99', 'max']) {
      check.nullableNumber(lag[key], `event_loop.lag_ms.${key}`);
    }
    check.number(loop.threshold_ms, 'event_loop.threshold_ms');
    if (!Array.isArray(loop.blocks)) {
      throw check.fail('event_loop.blocks', 'an array');
    }
    loop.blocks.forEach((value: unknown, i: number) =>
      assertLoopBlock(value, `event_loop.blocks.${i}`, check)
    );
  }
  if (root.thresholds !== undefined) {
    const thresholds = check.object(root.thresholds, 'thresholds');
    check.number(thresholds.throttled_percent, 'thresholds.throttled_percent');
    check.number(thresholds.cpu_wait_percent, 'thresholds.cpu_wait_percent');
  }
}

/**
 * Check one block of the server's event loop: an item of `event_loop.blocks`,
 * or the record the server's event bus carries (the same fields).
 *
 * @param value - The block.
 *
 * @param at - Its path, for messages.
 *
 * @param check - The calling validator's guards.
 */
export function assertLoopBlock(
  value: unknown,
  at: string,
  check: Guards
): asserts value is IEventLoopBlock {
  const block = check.object(value, at);
  check.optionalNumber(block.id, `${at}.id`);
  check.number(block.time, `${at}.time`);
  check.number(block.duration_ms, `${at}.duration_ms`);
  if (!Array.isArray(block.stack)) {
    throw check.fail(`${at}.stack`, 'an array');
  }
  block.stack.forEach((frame: unknown, j: number) =>
    Private.assertFrame(frame, `${at}.stack.${j}`, check)
  );
  if (block.culprit !== undefined && block.culprit !== null) {
    Private.assertFrame(block.culprit, `${at}.culprit`, check);
  }
}

/**
 * Check the diagnosis field of a kernel row.
 *
 * @param kernel - The row, already checked to be an object.
 *
 * @param at - Make the dotted path of a field of the row.
 *
 * @param check - The calling validator's guards.
 */
export function assertKernelDiagnosisFields(
  kernel: Record<string, unknown>,
  at: (field: string) => string,
  check: Guards
): void {
  check.optionalNumber(kernel.cpu_wait_percent, at('cpu_wait_percent'), true);
}

/**
 * Module-private helpers.
 */
namespace Private {
  /**
   * The resources of a PSI block.
   */
  export const RESOURCES: ReadonlyArray<PressureResource> = [
    'cpu',
    'memory',
    'io'
  ];

  /**
   * Check one stack frame.
   */
  export function assertFrame(
    value: unknown,
    path: string,
    check: Guards
  ): void {
    const frame = check.object(value, path);
    check.string(frame.function, `${path}.function`);
    check.string(frame.file, `${path}.file`);
    check.optionalNumber(frame.line, `${path}.line`, true);
  }
}
