// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Guards, Optional } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * The "why is it slow?" fields of `GET /api/metrics/v1` and of the kernel
 * rows as this frontend reads them (the generated wire types, less what it
 * never reads), and their validators.
 *
 * Every field is optional: a server that does not send them (an older one,
 * a kernel without PSI, a machine without a CPU quota) renders nothing, and
 * a null field means "not measured", never 0.
 */

/**
 * One Python frame of a blocked event loop's stack; the line may be absent
 * where the stack dump did not say.
 */
export type IFrame = Optional<Wire.Frame, 'line'>;

/**
 * One time the server's event loop was blocked past the threshold, from the
 * metrics or from the event bus (which need not number them).
 */
export type IEventLoopBlock = Optional<
  Omit<Wire.LoopBlock, 'stack' | 'culprit'>,
  'id'
> & {
  readonly stack: ReadonlyArray<IFrame>;
  readonly culprit?: IFrame | null;
};

/**
 * Pressure of one resource: `some` and `full`, either may be absent.
 */
export type IPressure = Wire.PsiResource;

/**
 * The fields of `/api/metrics/v1` that say why the server may be slow.
 */
export type IDiagnosisFields = Pick<
  Wire.Metrics,
  'cpu_wait_percent' | 'psi' | 'thresholds'
> & {
  readonly cpu_throttle?: Omit<Wire.CpuThrottle, 'read_at'> | null;
  readonly event_loop?:
    | (Pick<Wire.EventLoop, 'lag_ms' | 'threshold_ms'> & {
        readonly blocks: ReadonlyArray<IEventLoopBlock>;
      })
    | null;
};

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
  export const RESOURCES: ReadonlyArray<Exclude<keyof Wire.Psi, 'source'>> = [
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
