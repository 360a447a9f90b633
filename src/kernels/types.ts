// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertSampleInfo, ISampleInfo } from '../server/types';
import { assertKernelDiagnosisFields } from '../diagnosis/types';
import { Guards, Optional } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * `GET /api/metrics/v1/kernels` and `GET /api/metrics/v1/kernels/<kernel_id>`
 * as this frontend reads them: the generated wire types, with what older
 * servers did not send optional.
 */

/**
 * One kernel's usage, as the server reports it.
 */
export type IKernelUsage = Optional<
  Omit<Wire.Kernel, 'oom_events'>,
  'path' | 'session_type'
> & {
  /**
   * Times this kernel was ended by the OOM killer (and restarted), oldest first.
   */
  readonly oom_events?: ReadonlyArray<IKernelOomEvent>;
};

/**
 * An OOM kill of a kernel, as its row in the kernel list carries it.
 */
export type IKernelOomEvent = Wire.KernelOomEvent;

/**
 * The payload of `GET /api/metrics/v1/kernels`.
 */
export type IKernelList = {
  readonly kernels: ReadonlyArray<IKernelUsage>;
  readonly sample?: ISampleInfo;
};

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
