// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * What the user reads when the memory guard kept a kernel alive: one
 * notification per record, naming the notebook and the cell.
 */

import { Notification } from '@jupyterlab/apputils';
import type { ServerConnection } from '@jupyterlab/services';

import { actionsOf, ModelAlerts } from '../alerts/modelAlerts';
import { OomEventWatch } from '../alerts/watch';
import type { ResourceMonitorModel } from '../server/model';
import type { IMetrics } from '../server/types';
import { baseName, formatBytes } from '../shared/format';
import { trans } from '../shared/i18n';
import { assertGuardSummary, fetchGuardEvents, IGuardEvent } from './types';

/**
 * The notification's text for one record.
 *
 * @param event - What the guard did.
 */
export function guardMessage(event: IGuardEvent): string {
  // A toast shows 140 characters: what happened and to which cell come first.
  const notebook = event.path
    ? baseName(event.path)
    : trans.__('a kernel without a notebook');
  const cell =
    event.execution_count !== null
      ? trans.__('Cell [%1] of %2', event.execution_count, notebook)
      : trans.__('A cell of %1', notebook);
  const limit = event.limit !== null ? formatBytes(event.limit) : null;
  if (event.action === 'interrupted') {
    return limit
      ? trans.__(
          '%1 was interrupted near the %2 memory limit. Its kernel and variables are kept.',
          cell,
          limit
        )
      : trans.__(
          '%1 was interrupted near the memory limit. Its kernel and variables are kept.',
          cell
        );
  }
  if (limit && event.left !== null && event.left >= MiB) {
    return trans.__(
      '%1 asked for more memory than the %2 left under the %3 limit. Its kernel and variables are kept.',
      cell,
      formatBytes(event.left),
      limit
    );
  }
  if (limit) {
    return trans.__(
      '%1 asked for more memory than is left under the %2 limit. Its kernel and variables are kept.',
      cell,
      limit
    );
  }
  return trans.__(
    '%1 asked for more memory than is left under the limit. Its kernel and variables are kept.',
    cell
  );
}

const MiB = 1024 ** 2;

/**
 * Announces the guard's records: those the poll's summary says are new (read
 * from the guard's route), and those heard on the server's event bus at once.
 */
export class GuardAlerts extends ModelAlerts {
  constructor(options: GuardAlerts.IOptions) {
    super(options.model);
    this._settings = options.serverSettings;
    this._showKernels = options.showKernels;
  }

  protected onMetrics(metrics: IMetrics): void {
    if (metrics.guard === undefined) {
      return;
    }
    assertGuardSummary(metrics.guard);
    if (!this._fetching && this._events.hasNews(metrics.guard.last_event_id)) {
      void this._announceEvents();
    }
  }

  /**
   * Announce a record heard on the event bus, unless the poll did.
   */
  announceLive(event: IGuardEvent): void {
    if (this._events.takeLive(event)) {
      this._notify(event);
    }
  }

  private async _announceEvents(): Promise<void> {
    this._fetching = true;
    try {
      const events = await fetchGuardEvents(this._settings);
      for (const event of this._events.take(events, Date.now())) {
        this._notify(event);
      }
    } catch (reason) {
      console.warn(
        'jupyter-resource-monitor: could not read the memory guard',
        reason
      );
    } finally {
      this._fetching = false;
    }
  }

  private _notify(event: IGuardEvent): void {
    Notification.warning(guardMessage(event), {
      autoClose: false,
      actions: actionsOf(trans.__('Show kernel usage'), this._showKernels)
    });
  }

  private _events = new OomEventWatch();
  private _fetching = false;
  private _settings: ServerConnection.ISettings;
  private _showKernels: (() => void) | undefined;
}

/**
 * A namespace for GuardAlerts statics.
 */
export namespace GuardAlerts {
  /**
   * What the alerts need.
   */
  export interface IOptions {
    /**
     * The shared server model.
     */
    readonly model: ResourceMonitorModel;
    /**
     * The server to read the guard's records from.
     */
    readonly serverSettings: ServerConnection.ISettings;
    /**
     * Opens the Kernel usage panel, offered as the notification's action.
     */
    readonly showKernels?: () => void;
  }
}
