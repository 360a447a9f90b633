// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertSampleInfo, ISampleInfo } from '../server/types';
import {
  assertKernelDiagnosisFields,
  IKernelDiagnosisFields
} from '../diagnosis/types';
import { Guards } from '../shared/validate';

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
  'not a local process' | 'not sampled yet' | 'left out by the process cap';

/**
 * One kernel's usage, as the server reports it (its CPU waiting is declared
 * in diagnosis/types.ts).
 */
export interface IKernelUsage extends IKernelDiagnosisFields {
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
  /**
   * The path of the kernel's session (its notebook or console), if any.
   */
  readonly path?: string | null;
  /**
   * The session's type, such as `notebook` or `console`.
   */
  readonly session_type?: string | null;
  /**
   * Times this kernel was ended by the OOM killer (and restarted), oldest first.
   */
  readonly oom_events?: ReadonlyArray<IKernelOomEvent>;
}

/**
 * An OOM kill of a kernel, as its row in the kernel list carries it.
 */
export interface IKernelOomEvent {
  /**
   * The event's id (see `/api/metrics/v1/events`).
   */
  readonly id: number;
  /**
   * When the death was noticed, in seconds since the epoch.
   */
  readonly time: number;
  /**
   * The kernel's memory at the last sample before it died, in bytes.
   */
  readonly kernel_memory: number | null;
  /**
   * The server's figure compared with the limit at that sample, in bytes.
   */
  readonly server_memory: number | null;
  /**
   * The memory limit, in bytes (0: unknown).
   */
  readonly limit: number;
}

/**
 * The sample block of a kernel answer.
 *
 * #### Notes
 * The same block as `sample` in `/api/metrics/v1` (see docs/api.md), checked
 * by the same validator.
 */
export type IKernelSampleInfo = ISampleInfo;

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
  const check = Private.check;
  const kernel = check.object(value, path);
  const at = (field: string): string =>
    path === '(payload)' ? field : `${path}.${field}`;
  check.string(kernel.id, at('id'));
  if (kernel.id === '') {
    throw new KernelValidationError(at('id'), 'a non-empty string');
  }
  check.nullableString(kernel.name, at('name'));
  check.nullableNumber(kernel.pid, at('pid'));
  check.boolean(kernel.available, at('available'));
  check.nullableNumber(kernel.memory, at('memory'));
  check.nullableNumber(kernel.rss, at('rss'));
  check.nullableNumber(kernel.pss, at('pss'));
  check.nullableNumber(kernel.cpu_percent, at('cpu_percent'));
  check.nullableNumber(kernel.processes, at('processes'));
  assertKernelDiagnosisFields(kernel, at, check);
  if (kernel.reason !== undefined) {
    check.string(kernel.reason, at('reason'));
  }
  check.optionalString(kernel.path, at('path'), true);
  check.optionalString(kernel.session_type, at('session_type'), true);
  if (kernel.oom_events !== undefined) {
    if (!Array.isArray(kernel.oom_events)) {
      throw new KernelValidationError(at('oom_events'), 'an array');
    }
    kernel.oom_events.forEach((value: unknown, i: number) => {
      const event = check.object(value, at(`oom_events.${i}`));
      check.number(event.id, at(`oom_events.${i}.id`));
      check.number(event.time, at(`oom_events.${i}.time`));
      check.nullableNumber(
        event.kernel_memory,
        at(`oom_events.${i}.kernel_memory`)
      );
      check.nullableNumber(
        event.server_memory,
        at(`oom_events.${i}.server_memory`)
      );
      check.number(event.limit, at(`oom_events.${i}.limit`));
    });
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
  const check = Private.check;
  const root = check.object(value, '(payload)');
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
    assertSampleInfo(root.sample, check);
  }
}

/**
 * Module-private state.
 */
namespace Private {
  /**
   * The guards of the kernel validators.
   */
  export const check = new Guards(
    (path, expected) => new KernelValidationError(path, expected)
  );
}
