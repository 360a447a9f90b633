// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type { Notification } from '@jupyterlab/apputils';

import type { ResourceMonitorModel } from '../server/model';
import type { IMetrics } from '../server/types';

/**
 * Notifications fed by the shared server model: a subclass sees each new
 * payload once.
 */
export abstract class ModelAlerts {
  /**
   * Follow a model.
   *
   * @param model - The shared server model.
   */
  constructor(protected readonly model: ResourceMonitorModel) {
    model.stateChanged.connect(this._onChange, this);
  }

  /**
   * Stop following the model.
   */
  dispose(): void {
    this.model.stateChanged.disconnect(this._onChange, this);
  }

  /**
   * Handle a payload not seen before.
   */
  protected abstract onMetrics(metrics: IMetrics): void;

  private _onChange(): void {
    const metrics = this.model.metrics;
    if (metrics && metrics !== this._last) {
      this._last = metrics;
      this.onMetrics(metrics);
    }
  }

  private _last: IMetrics | null = null;
}

/**
 * A notification's one action, when there is something to show.
 *
 * @param label - The button's label.
 *
 * @param show - What it shows; without it, no action.
 */
export function actionsOf(
  label: string,
  show: (() => void) | undefined
): Notification.IAction[] {
  return show ? [{ label, callback: () => show() }] : [];
}
