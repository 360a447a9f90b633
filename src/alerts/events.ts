// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type { ServerConnection } from '@jupyterlab/services';

import { getJSON } from '../shared/http';
import { Guards } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * The REST path of the OOM events, relative to the server's base URL.
 */
export const EVENTS_PATH = 'api/metrics/v1/events';

/**
 * A kernel ended by the OOM killer, as `GET /api/metrics/v1/events` lists it
 * (the fields this frontend reads and checks).
 */
export type IOomEvent = Pick<
  Wire.OomEvent,
  | 'id'
  | 'type'
  | 'time'
  | 'kernel_id'
  | 'kernel_name'
  | 'path'
  | 'kernel_memory'
  | 'server_memory'
  | 'limit'
>;

/**
 * The error thrown when the events answer does not have the documented shape.
 */
export class EventsValidationError extends Error {
  constructor(path: string, expected: string) {
    super(
      `Invalid /api/metrics/v1/events payload: '${path}' must be ${expected}`
    );
    this.name = 'EventsValidationError';
  }
}

/**
 * Check a parsed events answer.
 *
 * @throws {EventsValidationError} naming the first malformed field.
 */
export function assertEvents(
  value: unknown
): asserts value is { events: IOomEvent[] } {
  const check = Private.check;
  const root = check.object(value, '(payload)');
  if (!Array.isArray(root.events)) {
    throw new EventsValidationError('events', 'an array');
  }
  root.events.forEach((item: unknown, i: number) => {
    const event = check.object(item, `events.${i}`);
    check.number(event.id, `events.${i}.id`);
    check.string(event.type, `events.${i}.type`);
    check.number(event.time, `events.${i}.time`);
    check.string(event.kernel_id, `events.${i}.kernel_id`);
    check.nullableString(event.kernel_name, `events.${i}.kernel_name`);
    check.nullableString(event.path, `events.${i}.path`);
    check.nullableNumber(event.kernel_memory, `events.${i}.kernel_memory`);
    check.nullableNumber(event.server_memory, `events.${i}.server_memory`);
    check.number(event.limit, `events.${i}.limit`);
  });
}

/**
 * Fetch the server's OOM events, oldest first.
 *
 * @param settings - The server connection.
 *
 * @throws on a failed request or a malformed answer.
 */
export async function fetchEvents(
  settings: ServerConnection.ISettings
): Promise<IOomEvent[]> {
  const body = await getJSON(settings, EVENTS_PATH);
  assertEvents(body);
  return body.events;
}

/**
 * Module-private state.
 */
namespace Private {
  export const check = new Guards(
    (path, expected) => new EventsValidationError(path, expected)
  );
}
