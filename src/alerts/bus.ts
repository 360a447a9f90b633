// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Our events on the server's event bus (jupyter_events), heard through
 * `serviceManager.events.stream` (JupyterLab 4.x and Notebook 7): an OOM kill
 * is announced the moment the server records it, not at the next poll.
 */

import type { Event } from '@jupyterlab/services';

import { assertEvents, IOomEvent } from './events';

/**
 * The namespace of our schema ids, as the server registers them
 * (`jupyter_resource_monitor/bus`).
 */
export const EVENTS_URI =
  'https://github.com/jupyter-resource-monitor/jupyter-resource-monitor/events';

/**
 * A kernel ended by the OOM killer: the REST event record without its curve.
 */
export const OOM_KILL_SCHEMA_ID = `${EVENTS_URI}/oom_kill/v1`;

/**
 * The server's event loop blocked past the threshold, with its culprit.
 */
export const LOOP_BLOCK_SCHEMA_ID = `${EVENTS_URI}/loop_block/v1`;

/**
 * Handles the emissions of one schema.
 */
export type BusHandler = (emission: Event.Emission) => void;

/**
 * Routes our emissions from the event stream to one handler per schema id;
 * everything else on the bus (the server's own kernel and contents events,
 * other extensions') passes by.
 */
export class EventBusListener {
  /**
   * @param stream - The service manager's event stream.
   */
  constructor(stream: Event.Stream) {
    this._stream = stream;
    stream.connect(this._onEmission, this);
  }

  /**
   * Whether it is disposed.
   */
  get isDisposed(): boolean {
    return this._stream === null;
  }

  /**
   * Handle the emissions of `schemaId` (replacing a previous handler).
   *
   * @returns A function that removes the handler.
   */
  handle(schemaId: string, handler: BusHandler): () => void {
    this._handlers.set(schemaId, handler);
    return () => {
      if (this._handlers.get(schemaId) === handler) {
        this._handlers.delete(schemaId);
      }
    };
  }

  /**
   * Stop listening.
   */
  dispose(): void {
    this._stream?.disconnect(this._onEmission, this);
    this._stream = null;
    this._handlers.clear();
  }

  private _onEmission(_: unknown, emission: Event.Emission): void {
    const handler = this._handlers.get(emission.schema_id);
    if (!handler) {
      return;
    }
    try {
      handler(emission);
    } catch (reason) {
      console.warn(
        `jupyter-resource-monitor: ignored an event of ${emission.schema_id}`,
        reason
      );
    }
  }

  private _handlers = new Map<string, BusHandler>();
  private _stream: Event.Stream | null;
}

/**
 * The OOM event an emission carries.
 *
 * @throws {EventsValidationError} when it lacks a field the REST record has.
 */
export function oomEventOf(emission: Event.Emission): IOomEvent {
  const body = { events: [emission as unknown] };
  assertEvents(body);
  return body.events[0];
}

/**
 * The handler that announces OOM kills at once through `announce` (the
 * alerts' `announceLive`, which shares its memory of seen events with the
 * poll).
 */
export function oomKillHandler(
  announce: (event: IOomEvent) => void
): BusHandler {
  return emission => announce(oomEventOf(emission));
}
