// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { fetchServerHistory, prependSeed } from '../shared/history';
import { PollingModel, sameJSON } from '../shared/polling';
import { trans } from '../shared/i18n';
import { memoryFigure } from './memoryFigure';
import { assertMetrics, IMetrics } from './types';

export { MetricsRequestError } from '../shared/http';
export type { MonitorStatus } from '../shared/polling';

/**
 * The REST path of the metrics endpoint, relative to the server's base URL.
 */
export const METRICS_PATH = 'api/metrics/v1';

/**
 * One point of the sparkline history.
 */
export interface IHistoryPoint {
  /**
   * When the sample was taken, in ms since the epoch (client clock).
   */
  readonly time: number;
  /**
   * Memory in bytes: the figure compared with the limit (see `memoryFigure`).
   */
  readonly memory: number;
  /**
   * CPU use in percent (100 = one CPU busy), null when not measured yet.
   */
  readonly cpu_percent: number | null;
}

/**
 * The polling model behind every resource-monitor view of a browser tab.
 *
 * #### Notes
 * Create one per tab and share it: every view renders from it and none of
 * them fetches. It polls `/api/metrics/v1` as {@link PollingModel} describes:
 * backoff with jitter on failure, standby while the tab is hidden or the
 * browser is offline, a full stop on a 404.
 */
export class ResourceMonitorModel extends PollingModel<IMetrics> {
  /**
   * Create a model. Polling starts with {@link start}, or at once when
   * `options.autoStart` is true.
   *
   * @param options - The model's options.
   */
  constructor(options: ResourceMonitorModel.IOptions = {}) {
    super(options, {
      path: METRICS_PATH,
      name: 'jupyter-resource-monitor:metrics',
      label: trans.__('metrics'),
      validate: assertMetrics
    });
  }

  /**
   * The last valid payload, kept while the server is unreachable.
   */
  get metrics(): IMetrics | null {
    return this._metrics;
  }

  /**
   * The sparkline history, oldest first.
   *
   * #### Notes
   * Bounded to {@link historyMinutes} and to {@link ResourceMonitorModel.MAX_HISTORY_POINTS}.
   */
  get history(): ReadonlyArray<IHistoryPoint> {
    return this._history;
  }

  /**
   * Store a valid payload and add a history point for a real sample.
   */
  protected recordPayload(
    metrics: IMetrics,
    sampleTime: number | null
  ): boolean {
    if (
      metrics.sample?.cpu_ready === false &&
      metrics.cpu_percent !== undefined
    ) {
      // The server keeps jupyter-resource-usage's number type and says "not measured yet" here.
      metrics = { ...metrics, cpu_percent: null };
    }
    const changed = !sameJSON(this._metrics, metrics);
    this._metrics = metrics;
    if (sampleTime !== null) {
      this._history.push({
        time: sampleTime,
        memory: memoryFigure(metrics).used,
        cpu_percent: metrics.cpu_percent ?? null
      });
      this.trimHistory(this._history);
    }
    return changed;
  }

  /**
   * Draw the charts at once from the server's history.
   */
  protected async seedHistories(): Promise<void> {
    const seed = await fetchServerHistory(this.serverSettings);
    if (seed && !this.isDisposed) {
      const points = seed.totals
        .filter(point => point.memory !== null)
        .map(point => ({ ...point, memory: point.memory as number }));
      if (prependSeed(this._history, points)) {
        this.trimHistory(this._history);
        this.stateChanged.emit();
      }
    }
  }

  /**
   * Cut the history to the window.
   */
  protected trimHistories(): boolean {
    return this.trimHistory(this._history);
  }

  private _history: IHistoryPoint[] = [];
  private _metrics: IMetrics | null = null;
}

/**
 * A namespace for {@link ResourceMonitorModel} statics.
 */
export namespace ResourceMonitorModel {
  /**
   * The options of a {@link ResourceMonitorModel}.
   */
  export type IOptions = PollingModel.IOptions;
}
