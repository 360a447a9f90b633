// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type { ServerConnection } from '@jupyterlab/services';

import { getJSON } from '../shared/http';
import { Guards } from '../shared/validate';

/**
 * The REST path of the OOM events, relative to the server's base URL.
 */
export const EVENTS_PATH = 'api/metrics/v1/events';

/**
 * A kernel ended by the OOM killer, as `GET /api/metrics/v1/events` lists it.
 */
export interface IOomEvent {
  /**
   * 1, 2, … in the server's life: tells new events from those shown.
   */
  readonly id: number;
  /**
   * Always `oom_kill`.
   */
  readonly type: string;
  /**
   * When the death was noticed, in seconds since the epoch.
   */
  readonly time: number;
  /**
   * The kernel's id (it is restarted under the same id).
   */
  readonly kernel_id: string;
  /**
   * The kernelspec name.
   */
  readonly kernel_name: string | null;
  /**
   * The notebook or console of its session.
   */
  readonly path: string | null;
  /**
   * The kernel's memory at the last sample before it died, in bytes.
   */
  readonly kernel_memory: number | null;
  /**
   * The server's figure compared with the limit at that sample, in bytes.
   */
  readonly server_memory: number | null;
  /**
   * The memory limit in bytes (0: unknown).
   */
  readonly limit: number;
}

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
