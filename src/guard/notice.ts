// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * What the user reads when the memory guard kept a kernel alive: one
 * notification per record, naming the notebook and the cell.
 */

import { Notification } from '@jupyterlab/apputils';

import { actionsOf, ModelAlerts } from '../alerts/modelAlerts';
import type { MemoryAlerts } from '../alerts/notifier';
import { RecordFeed } from '../alerts/watch';
import type { IMetrics } from '../server/types';
import { baseName, formatBytes } from '../shared/format';
import { trans } from '../shared/i18n';
import { fetchGuardEvents, IGuardEvent } from './types';

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
    const settings = options.serverSettings;
    const actions = actionsOf(
      trans.__('Show kernel usage'),
      options.showKernels
    );
    this._records = new RecordFeed<IGuardEvent>(
      () => fetchGuardEvents(settings),
      event =>
        Notification.warning(guardMessage(event), {
          autoClose: false,
          actions
        }),
      'the memory guard'
    );
  }

  protected onMetrics(metrics: IMetrics): void {
    if (metrics.guard !== undefined) {
      this._records.update(metrics.guard.last_event_id);
    }
  }

  /**
   * Announce a record heard on the event bus, unless the poll did.
   */
  announceLive(event: IGuardEvent): void {
    this._records.live(event);
  }

  private _records: RecordFeed<IGuardEvent>;
}

/**
 * A namespace for GuardAlerts statics.
 */
export namespace GuardAlerts {
  /**
   * What the alerts need: those of the memory alerts.
   */
  export type IOptions = MemoryAlerts.IOptions;
}
