// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Wire types of `GET /api/metrics/v1/kernels` and
 * `GET /api/metrics/v1/kernels/<kernel_id>`.
 *
 * Field names keep the server's snake_case, as in `types.ts`.
 */

/**
 * Why the server has no figures for a kernel.
 *
 * - `not a local process`: the kernel has no local PID (e.g. behind a gateway).
 * - `not sampled yet`: the kernel started after the latest sample.
 * - `left out by the process cap`: the sampler skipped it to stay in budget.
 *
 * Other strings are allowed, so a newer server does not break this frontend.
 */
export type KernelUnavailableReason =
  | 'not a local process'
  | 'not sampled yet'
  | 'left out by the process cap';

/**
 * One kernel's usage, as the server reports it.
 */
export interface IKernelUsage {
  /**
   * The kernel id.
   */
  readonly id: string;
  /**
   * The kernelspec name, such as `python3`; null when the server does not know.
   */
  readonly name: string | null;
  /**
   * The kernel's local process id; null for a kernel that is not local.
   */
  readonly pid: number | null;
  /**
   * Whether the figures below were measured; false means they are all null.
   */
  readonly available: boolean;
  /**
   * The memory figure to show, in bytes: PSS of the kernel and its descendants.
   */
  readonly memory: number | null;
  /**
   * RSS of the kernel and its descendants, in bytes.
   */
  readonly rss: number | null;
  /**
   * PSS of the kernel and its descendants, in bytes.
   */
  readonly pss: number | null;
  /**
   * CPU use of the kernel and its descendants, 100 = one CPU busy; null
   * before the kernel's second sample.
   */
  readonly cpu_percent: number | null;
  /**
   * How many processes the kernel's tree has.
   */
  readonly processes: number | null;
  /**
   * Why there are no figures; present only when `available` is false.
   */
  readonly reason?: KernelUnavailableReason | string;
}

/**
 * The part of the sample block the kernel views read.
 *
 * #### Notes
 * This is the same block as `sample` in `/api/metrics/v1` (see docs/api.md),
 * but before the first sample the server sends `null` for `age_ms`, so this
 * type is looser than `ISampleInfo`. Other fields are kept but not checked.
 */
export interface IKernelSampleInfo {
  /**
   * False until the server's first sample.
   */
  readonly ready: boolean;
  /**
   * True when the sample is older than it should be.
   */
  readonly stale: boolean;
  /**
   * How long ago the sample was taken, in ms; null before the first sample.
   */
  readonly age_ms: number | null;
  /**
   * The server's sampling interval, in ms.
   */
  readonly interval_ms: number;
  /**
   * Suggested delay before the next poll, in ms.
   */
  readonly next_poll_ms?: number;
}

/**
 * The payload of `GET /api/metrics/v1/kernels`.
 */
export interface IKernelList {
  /**
   * Every running kernel, in the kernel manager's order.
   */
  readonly kernels: ReadonlyArray<IKernelUsage>;
  /**
   * What the sample behind these figures is.
   */
  readonly sample?: IKernelSampleInfo;
}

/**
 * The error thrown when a kernel response does not have the documented shape.
 */
export class KernelValidationError extends Error {
  /**
   * Create an error naming the offending field.
   *
   * @param path - Dotted path of the field, e.g. `kernels[0].pid`.
   *
   * @param expected - What the field should have been.
   */
  constructor(path: string, expected: string) {
    super(`Invalid kernel usage payload: '${path}' must be ${expected}`);
    this.name = 'KernelValidationError';
  }
}

/**
 * Check that a parsed response is one kernel's usage.
 *
 * @param value - The parsed JSON body.
 *
 * @param path - Where the value sits in a larger payload, for messages.
 *
 * @throws {KernelValidationError} naming the first malformed field.
 *
 * #### Notes
 * Unknown fields are allowed. An unavailable kernel without a `reason` is
 * accepted: the reason is an explanation, not data.
 */
export function assertKernelUsage(
  value: unknown,
  path = '(payload)'
): asserts value is IKernelUsage {
  const kernel = Private.object(value, path);
  const at = (field: string): string =>
    path === '(payload)' ? field : `${path}.${field}`;
  Private.string(kernel.id, at('id'));
  if (kernel.id === '') {
    throw new KernelValidationError(at('id'), 'a non-empty string');
  }
  Private.nullableString(kernel.name, at('name'));
  Private.nullableNumber(kernel.pid, at('pid'));
  Private.boolean(kernel.available, at('available'));
  Private.nullableNumber(kernel.memory, at('memory'));
  Private.nullableNumber(kernel.rss, at('rss'));
  Private.nullableNumber(kernel.pss, at('pss'));
  Private.nullableNumber(kernel.cpu_percent, at('cpu_percent'));
  Private.nullableNumber(kernel.processes, at('processes'));
  if (kernel.reason !== undefined) {
    Private.string(kernel.reason, at('reason'));
  }
}

/**
 * Check that a parsed response is the kernel list.
 *
 * @param value - The parsed JSON body.
 *
 * @throws {KernelValidationError} naming the first malformed field.
 *
 * #### Notes
 * Kernel ids must be unique: the views key rows and histories by id.
 */
export function assertKernelList(value: unknown): asserts value is IKernelList {
  const root = Private.object(value, '(payload)');
  if (!Array.isArray(root.kernels)) {
    throw new KernelValidationError('kernels', 'an array');
  }
  const seen = new Set<string>();
  root.kernels.forEach((kernel: unknown, index: number) => {
    const path = `kernels[${index}]`;
    assertKernelUsage(kernel, path);
    if (seen.has(kernel.id)) {
      throw new KernelValidationError(`${path}.id`, 'unique');
    }
    seen.add(kernel.id);
  });
  if (root.sample !== undefined) {
    const sample = Private.object(root.sample, 'sample');
    Private.boolean(sample.ready, 'sample.ready');
    Private.boolean(sample.stale, 'sample.stale');
    Private.nullableNumber(sample.age_ms, 'sample.age_ms');
    Private.number(sample.interval_ms, 'sample.interval_ms');
    if (sample.next_poll_ms !== undefined) {
      Private.number(sample.next_poll_ms, 'sample.next_poll_ms');
    }
  }
}

/**
 * Type guards shared by the validators.
 */
namespace Private {
  /**
   * Check for a plain JSON object and return it as a record.
   */
  export function object(
    value: unknown,
    path: string
  ): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new KernelValidationError(path, 'an object');
    }
    return value as Record<string, unknown>;
  }

  /**
   * Check for a finite, non-negative number.
   *
   * #### Notes
   * Every number here is a size, a count, a pid, a duration or a percentage.
   */
  export function number(value: unknown, path: string): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new KernelValidationError(path, 'a non-negative number');
    }
  }

  /**
   * Check for null or a finite, non-negative number.
   */
  export function nullableNumber(value: unknown, path: string): void {
    if (value !== null) {
      number(value, path);
    }
  }

  /**
   * Check for a boolean.
   */
  export function boolean(value: unknown, path: string): void {
    if (typeof value !== 'boolean') {
      throw new KernelValidationError(path, 'a boolean');
    }
  }

  /**
   * Check for a string.
   */
  export function string(value: unknown, path: string): void {
    if (typeof value !== 'string') {
      throw new KernelValidationError(path, 'a string');
    }
  }

  /**
   * Check for null or a string.
   */
  export function nullableString(value: unknown, path: string): void {
    if (value !== null) {
      string(value, path);
    }
  }
}
