// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type { ServerConnection } from '@jupyterlab/services';

import { getChecked } from '../shared/http';
import { AnyString, Guards, validationError } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * The REST path of the OOM events, relative to the server's base URL.
 */
export const EVENTS_PATH = 'api/metrics/v1/events';

/**
 * A kernel ended by the OOM killer, as `GET /api/metrics/v1/events` lists it
 * (the fields this frontend reads and checks).
 */
export type IOomEvent = AnyString<
  Pick<
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
  >,
  'type'
>;

/**
 * The error thrown when the events answer does not have the documented shape.
 */
export const EventsValidationError = validationError(
  'EventsValidationError',
  '/api/metrics/v1/events payload'
);

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
  check.array(root.events, 'events').forEach((event, i) =>
    check.shape(event, `events.${i}`, {
      number: ['id', 'time', 'limit'],
      string: ['type', 'kernel_id'],
      'string|null': ['kernel_name', 'path'],
      'number|null': ['kernel_memory', 'server_memory']
    })
  );
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
  return (await getChecked(settings, EVENTS_PATH, assertEvents)).events;
}

/**
 * Module-private state.
 */
namespace Private {
  export const check = new Guards(EventsValidationError);
}
