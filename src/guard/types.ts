// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { URLExt } from '@jupyterlab/coreutils';

import { getChecked } from '../shared/http';
import { Guards, validationError } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * The REST path of the memory guard, relative to the server's base URL.
 */
export const GUARD_PATH = 'api/metrics/v1/guard';

/**
 * What the guard did to one cell, as the route and the event bus carry it
 * (the fields this frontend reads).
 */
export type IGuardEvent = Pick<
  Wire.GuardEvent,
  | 'id'
  | 'time'
  | 'action'
  | 'kernel_id'
  | 'path'
  | 'cell_id'
  | 'execution_count'
  | 'limit'
  | 'left'
>;

/**
 * The guard's summary in `GET /api/metrics/v1` (where a guard is available).
 */
export type IGuardSummary = Wire.GuardSummary;

/**
 * The error thrown when a guard answer does not have the documented shape.
 */
export const GuardValidationError = validationError(
  'GuardValidationError',
  'memory guard payload'
);

/**
 * Check one guard record.
 *
 * @throws {GuardValidationError} naming the first malformed field.
 */
export function assertGuardEvent(
  value: unknown,
  where = 'event'
): asserts value is IGuardEvent {
  const event = Private.check.shape(value, where, {
    number: ['id', 'time'],
    string: ['action', 'kernel_id'],
    'string|null': ['path', 'cell_id'],
    'number|null': ['execution_count', 'limit']
  });
  Private.signed(event.left, `${where}.left`);
  if (event.action !== 'fenced' && event.action !== 'interrupted') {
    throw Private.check.fail(`${where}.action`, "'fenced' or 'interrupted'");
  }
}

/**
 * Check the guard's summary in a metrics payload.
 *
 * @throws {GuardValidationError} naming the first malformed field.
 */
export function assertGuardSummary(
  value: unknown
): asserts value is IGuardSummary {
  const guard = Private.check.shape(value, 'guard', {
    boolean: ['enabled'],
    'number|null': ['limit', 'fenced'],
    number: ['last_event_id']
  });
  Private.signed(guard.left, 'guard.left');
}

/**
 * Check the answer of the guard's route.
 *
 * @throws {GuardValidationError} naming the first malformed field.
 */
export function assertGuard(value: unknown): asserts value is Wire.Guard {
  const check = Private.check;
  const root = check.shape(value, '(payload)', {
    boolean: ['available', 'enabled'],
    'number|null': ['limit', 'used', 'fenced']
  });
  Private.signed(root.left, 'left');
  check
    .array(root.events, 'events')
    .forEach((event, i) => assertGuardEvent(event, `events.${i}`));
}

/**
 * The guard's records, oldest first.
 *
 * @throws on a failed request or a malformed answer.
 */
export async function fetchGuardEvents(
  settings: ServerConnection.ISettings
): Promise<IGuardEvent[]> {
  return (await getChecked(settings, GUARD_PATH, assertGuard)).events;
}

/**
 * Switch the server's guard (off gives every kernel its limit back).
 *
 * @returns Whether it is on now; false where the server has no guard.
 */
export async function setGuardEnabled(
  settings: ServerConnection.ISettings,
  enabled: boolean
): Promise<boolean> {
  const url = URLExt.join(settings.baseUrl, GUARD_PATH);
  const response = await ServerConnection.makeRequest(
    url,
    { method: 'PUT', body: JSON.stringify({ enabled }) },
    settings
  );
  if (response.status === 409) {
    return false; // no limit applies: there is no guard to switch on
  }
  if (!response.ok) {
    throw new ServerConnection.ResponseError(response);
  }
  const body = await response.json();
  assertGuard(body);
  return body.enabled;
}

/**
 * Module-private state.
 */
namespace Private {
  export const check = new Guards(GuardValidationError);

  /**
   * Check for a finite number or null: what is left under the limit is
   * negative once the reserve is used.
   */
  export function signed(value: unknown, path: string): void {
    if (value !== null && !(typeof value === 'number' && isFinite(value))) {
      throw check.fail(path, 'a number or null');
    }
  }
}
