// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertSampleInfo, ISampleInfo } from '../server/types';
import {
  AnyString,
  Guards,
  Optional,
  validationError
} from '../shared/validate';
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
  AnyString<Omit<Wire.Kernel, 'oom_events'>, 'reason'>,
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
export const KernelValidationError = validationError(
  'KernelValidationError',
  'kernel usage payload'
);

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
  const kernel = check.shape(value, path, { string: ['id'] });
  if (kernel.id === '') {
    throw check.fail(check.at(path, 'id'), 'a non-empty string');
  }
  check.shape(kernel, path, {
    'string|null': ['name'],
    'number|null': ['pid', 'memory', 'rss', 'pss', 'cpu_percent', 'processes'],
    boolean: ['available'],
    '?number|null': ['cpu_wait_percent'],
    '?string': ['reason'],
    '?string|null': ['path', 'session_type']
  });
  if (kernel.oom_events !== undefined) {
    const at = check.at(path, 'oom_events');
    check.array(kernel.oom_events, at).forEach((event, i) =>
      check.shape(event, `${at}.${i}`, {
        number: ['id', 'time', 'limit'],
        'number|null': ['kernel_memory', 'server_memory']
      })
    );
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
  const seen = new Set<string>();
  check.array(root.kernels, 'kernels').forEach((kernel, index) => {
    const path = `kernels[${index}]`;
    assertKernelUsage(kernel, path);
    if (seen.has(kernel.id)) {
      throw check.fail(`${path}.id`, 'unique');
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
  export const check = new Guards(KernelValidationError);
}
