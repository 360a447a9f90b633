// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import { memoryFigure } from '../server/describe';
import { ownerLabel } from '../server/memoryParts';
import type { ResourceMonitorModel } from '../server/model';
import type { IMetrics } from '../server/types';
import { baseName, formatBytes, formatPercent } from '../shared/format';
import { trans } from '../shared/i18n';
import { fetchEvents, IOomEvent } from './events';
import { actionsOf, ModelAlerts } from './modelAlerts';
import { HighWaterMark, RecordFeed } from './watch';

/**
 * The default high-water mark, in percent of the memory limit.
 */
export const DEFAULT_HIGH_WATER_PERCENT = 90;

/**
 * Notifications through JupyterLab's notification system (JupyterLab and
 * Notebook 7): a kernel ended by the OOM killer, and memory crossing the
 * high-water mark. Fed by the shared server model; fetches only the events,
 * and only when the payload says there are new ones.
 */
export class MemoryAlerts extends ModelAlerts {
  constructor(options: MemoryAlerts.IOptions) {
    super(options.model);
    this._settings = options.serverSettings;
    this._showKernels = options.showKernels;
  }

  /**
   * The high-water mark in percent of the limit; 0 turns the warning off.
   */
  get highWaterPercent(): number {
    return this._highWater.percent;
  }
  set highWaterPercent(value: number) {
    this._highWater.percent = value;
  }

  protected onMetrics(metrics: IMetrics): void {
    if (metrics.sample?.ready === false) {
      return;
    }
    const figure = memoryFigure(metrics);
    if (
      figure.limit !== null &&
      this._highWater.update(figure.used, figure.limit)
    ) {
      Notification.warning(highWaterMessage(metrics), {
        autoClose: false,
        actions: this._actions()
      });
    }
    this._events.update(metrics.oom?.last_event_id ?? 0);
  }

  /**
   * Announce an OOM event heard on the server's event bus (see `bus.ts`), at
   * once and only if the poll has not announced it (nor will).
   */
  announceLive(event: IOomEvent): void {
    this._events.live(event);
  }

  private _notifyOom(event: IOomEvent): void {
    Notification.error(oomMessage(event), {
      autoClose: false,
      actions: this._actions()
    });
  }

  private _actions(): Notification.IAction[] {
    return actionsOf(trans.__('Show kernel usage'), this._showKernels);
  }

  private _events = new RecordFeed<IOomEvent>(
    () => fetchEvents(this._settings),
    event => this._notifyOom(event),
    'OOM events'
  );
  private _highWater = new HighWaterMark(DEFAULT_HIGH_WATER_PERCENT);
  private _settings: ServerConnection.ISettings;
  private _showKernels: (() => void) | undefined;
}

/**
 * A namespace for {@link MemoryAlerts} statics.
 */
export namespace MemoryAlerts {
  export interface IOptions {
    /**
     * The shared server model.
     */
    readonly model: ResourceMonitorModel;
    /**
     * The server to read events from.
     */
    readonly serverSettings: ServerConnection.ISettings;
    /**
     * Opens the Kernel usage panel, offered as the notifications' action.
     */
    readonly showKernels?: () => void;
  }
}

/**
 * The notification for a kernel ended by the OOM killer.
 *
 * @param event - The event.
 */
export function oomMessage(event: IOomEvent): string {
  const who = event.path
    ? baseName(event.path)
    : trans.__('A %1 kernel', event.kernel_name ?? '');
  const figures: string[] = [];
  if (event.kernel_memory !== null) {
    figures.push(trans.__('it used %1', formatBytes(event.kernel_memory)));
  }
  if (event.limit > 0) {
    figures.push(trans.__('this server may use %1', formatBytes(event.limit)));
  }
  return figures.length
    ? trans.__(
        '%1: the kernel was stopped because it ran out of memory (%2).',
        who,
        figures.join('; ')
      )
    : trans.__('%1: the kernel was stopped because it ran out of memory.', who);
}

/**
 * The notification for memory crossing the high-water mark, naming the
 * notebooks, consoles and terminals that use most.
 *
 * @param metrics - The payload that crossed it.
 */
export function highWaterMessage(metrics: IMetrics): string {
  const figure = memoryFigure(metrics);
  const limit = figure.limit ?? 0;
  const top = (metrics.by_owner ?? [])
    .slice(0, 2)
    .map(owner => `${ownerLabel(owner)} ${formatBytes(owner.memory)}`);
  const share = formatPercent((100 * figure.used) / limit);
  const head = figure.quota
    ? trans.__(
        'Memory is at %1 of the limit (%2 of %3).',
        share,
        formatBytes(figure.used),
        formatBytes(limit)
      )
    : trans.__("This server's processes use %1 of the host's memory.", share);
  return top.length ? `${head} ${trans.__('Most: %1.', top.join(', '))}` : head;
}
