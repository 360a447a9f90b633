// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { AnyString, Fields, Guards, Optional } from '../shared/validate';
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
  'cpu_wait_percent' | 'thresholds'
> & {
  readonly psi?: AnyString<Wire.Psi, 'source'> | null;
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
  check.shape(root, '(payload)', { '?number|null': ['cpu_wait_percent'] });
  const present = (key: string): boolean =>
    root[key] !== undefined && root[key] !== null;
  if (present('cpu_throttle')) {
    check.shape(root.cpu_throttle, 'cpu_throttle', {
      'number|null': ['throttled_percent', 'throttled_seconds'],
      number: ['window_s', 'quota_cpus']
    });
  }
  if (present('psi')) {
    const psi = check.shape(root.psi, 'psi', { string: ['source'] });
    for (const resource of ['cpu', 'memory', 'io']) {
      const pressure = psi[resource];
      if (pressure === undefined || pressure === null) {
        continue;
      }
      const kinds = check.object(pressure, `psi.${resource}`);
      for (const kind of ['some', 'full']) {
        // Absent where the kernel has none (CPU "full" before Linux 5.13).
        if (kinds[kind] !== undefined) {
          check.shape(kinds[kind], `psi.${resource}.${kind}`, {
            number: ['avg10', 'avg60', 'total_s']
          });
        }
      }
    }
  }
  if (present('event_loop')) {
    const loop = check.object(root.event_loop, 'event_loop');
    check.shape(loop.lag_ms, 'event_loop.lag_ms', {
      'number|null': ['p50', 'p99', 'max']
    });
    check.shape(loop, 'event_loop', { number: ['threshold_ms'] });
    check
      .array(loop.blocks, 'event_loop.blocks')
      .forEach((value, i) =>
        assertLoopBlock(value, `event_loop.blocks.${i}`, check)
      );
  }
  if (root.thresholds !== undefined) {
    check.shape(root.thresholds, 'thresholds', {
      number: ['throttled_percent', 'cpu_wait_percent']
    });
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
  const block = check.shape(value, at, {
    '?number': ['id'],
    number: ['time', 'duration_ms']
  });
  check
    .array(block.stack, `${at}.stack`)
    .forEach((frame, j) => check.shape(frame, `${at}.stack.${j}`, FRAME));
  if (block.culprit !== undefined && block.culprit !== null) {
    check.shape(block.culprit, `${at}.culprit`, FRAME);
  }
}

/**
 * The fields of a stack frame.
 */
const FRAME: Fields = {
  string: ['function', 'file'],
  '?number|null': ['line']
};
