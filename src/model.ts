// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { VDomModel } from '@jupyterlab/ui-components';
import {
  JSONExt,
  PromiseDelegate,
  ReadonlyJSONValue
} from '@lumino/coreutils';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { assertMetrics, IMetrics } from './types';

/**
 * The REST path of the metrics endpoint, relative to the server's base URL.
 */
export const METRICS_PATH = 'api/metrics/v1';

/**
 * What the model knows about the server's metrics.
 *
 * - `loading`: no answer yet.
 * - `ok`: the last answer was a fresh sample.
 * - `stale`: the server says its sample is old or not ready, or our last good
 *   answer is several intervals old (the poll is on standby, e.g. offline).
 * - `unreachable`: the last request failed (network error, HTTP error,
 *   malformed payload); the poll backs off and keeps trying.
 * - `unavailable`: the endpoint answered 404, so the server extension is not
 *   installed; the poll has stopped and the item hides itself.
 */
export type MonitorStatus =
  | 'loading'
  | 'ok'
  | 'stale'
  | 'unreachable'
  | 'unavailable';

/**
 * One point of the sparkline history.
 */
export interface IHistoryPoint {
  /**
   * When the sample was taken, in ms since the epoch (client clock).
   */
  readonly time: number;
  /**
   * Memory in bytes: `pss` when the server sends it, else `rss`.
   */
  readonly memory: number;
  /**
   * CPU use in percent (100 = one CPU busy), null when not measured yet.
   */
  readonly cpu_percent: number | null;
}

/**
 * The error thrown by the poll factory on a non-200 answer.
 */
export class MetricsRequestError extends Error {
  /**
   * Create an error for an HTTP status.
   *
   * @param status - The HTTP status code.
   *
   * @param statusText - The HTTP status text, if any.
   */
  constructor(
    readonly status: number,
    statusText: string
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.name = 'MetricsRequestError';
  }
}

/**
 * The polling model behind every resource-monitor view of a browser tab.
 *
 * #### Notes
 * Create one per tab and share it: every view renders from it and none of
 * them fetches. It owns one `Poll` that fetches `/api/metrics/v1`, backs off
 * with jitter on failure, stands by while the tab is hidden or the browser is
 * offline, and stops for good on a 404.
 */
export class ResourceMonitorModel extends VDomModel {
  /**
   * Create a model. Polling starts with {@link start}, or at once when
   * `options.autoStart` is true.
   *
   * @param options - The model's options.
   */
  constructor(options: ResourceMonitorModel.IOptions = {}) {
    super();
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._refreshRate = Private.clampRefreshRate(
      options.refreshRate ?? ResourceMonitorModel.DEFAULT_REFRESH_RATE
    );
    this._historyMinutes = Private.clampHistoryMinutes(
      options.historyMinutes ?? ResourceMonitorModel.DEFAULT_HISTORY_MINUTES
    );
    this._poll = new Poll<IMetrics, Error>({
      auto: false,
      factory: () => this._fetch(),
      frequency: Private.frequency(this._refreshRate),
      name: 'jupyter-resource-monitor:metrics',
      standby: options.standby ?? Private.standby
    });
    this._poll.ticked.connect(this._onTicked, this);

    if (typeof window !== 'undefined') {
      window.addEventListener('online', this._onOnline);
    }
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this._onVisibilityChange);
    }
    if (options.autoStart) {
      void this.start();
    }
  }

  /**
   * The default refresh rate in ms.
   */
  static readonly DEFAULT_REFRESH_RATE = 5000;

  /**
   * The default length of the sparkline history in minutes.
   */
  static readonly DEFAULT_HISTORY_MINUTES = 10;

  /**
   * The number of intervals without a good answer after which data is stale.
   */
  static readonly STALE_AFTER_INTERVALS = 3;

  /**
   * A signal emitted when {@link isAvailable} changes.
   */
  get availabilityChanged(): ISignal<this, void> {
    return this._availabilityChanged;
  }

  /**
   * Whether the server has the metrics endpoint (false after a 404).
   */
  get isAvailable(): boolean {
    return this._status !== 'unavailable';
  }

  /**
   * What the model knows; see {@link MonitorStatus}.
   */
  get status(): MonitorStatus {
    return this._status;
  }

  /**
   * The last valid payload, kept while the server is unreachable.
   */
  get metrics(): IMetrics | null {
    return this._metrics;
  }

  /**
   * When the last valid payload arrived, in ms since the epoch; null if never.
   */
  get lastUpdate(): number | null {
    return this._lastUpdate;
  }

  /**
   * Why the last request failed, or null after a success.
   */
  get error(): string | null {
    return this._error;
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
   * The maximum number of history points kept, whatever the duration.
   */
  static readonly MAX_HISTORY_POINTS = 3600;

  /**
   * The poll, for diagnostics and tests.
   *
   * #### Notes
   * Read it, do not drive it: use {@link refresh} and {@link refreshRate}.
   */
  get poll(): IPoll<IMetrics, Error, 'standby'> {
    return this._poll;
  }

  /**
   * A promise that resolves once the first request has settled.
   *
   * #### Notes
   * It resolves whether that request succeeded or failed, and never rejects.
   */
  get ready(): Promise<void> {
    return this._ready;
  }

  /**
   * Whether the first request has settled.
   */
  get isReady(): boolean {
    return this._isReady;
  }

  /**
   * The configured time between polls, in ms.
   *
   * #### Notes
   * Values are clamped to [1000, 600000]; a non-number is ignored with a
   * warning, so a bad setting never stops polling. The poll waits for the
   * longer of this and the server's `sample.next_poll_ms`.
   */
  get refreshRate(): number {
    return this._refreshRate;
  }
  set refreshRate(value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      console.warn(
        `jupyter-resource-monitor: ignoring refreshRate ${String(value)}`
      );
      return;
    }
    const refreshRate = Private.clampRefreshRate(value);
    if (refreshRate === this._refreshRate) {
      return;
    }
    this._refreshRate = refreshRate;
    this._retime();
  }

  /**
   * How many minutes of history the sparklines keep.
   *
   * #### Notes
   * Values are clamped to [1, 60]; a non-number is ignored with a warning.
   */
  get historyMinutes(): number {
    return this._historyMinutes;
  }
  set historyMinutes(value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      console.warn(
        `jupyter-resource-monitor: ignoring historyMinutes ${String(value)}`
      );
      return;
    }
    const minutes = Private.clampHistoryMinutes(value);
    if (minutes === this._historyMinutes) {
      return;
    }
    this._historyMinutes = minutes;
    if (this._trimHistory()) {
      this.stateChanged.emit();
    }
  }

  /**
   * Start polling.
   *
   * @returns A promise that resolves once the first request has settled.
   */
  async start(): Promise<void> {
    await this._poll.start();
    return this._ready;
  }

  /**
   * Fetch now instead of waiting for the next tick.
   *
   * @returns A promise that resolves after the request has settled.
   *
   * #### Notes
   * A refresh after a 404 tries once more; it stops again on another 404.
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  /**
   * Dispose the model and its poll.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this._onOnline);
    }
    if (typeof document !== 'undefined') {
      document.removeEventListener(
        'visibilitychange',
        this._onVisibilityChange
      );
    }
    this._poll.dispose();
    this._readyDelegate.resolve();
    super.dispose();
    Signal.clearData(this);
  }

  /**
   * The poll factory: fetch, validate and record one payload.
   *
   * #### Notes
   * Model state is updated here rather than in the `ticked` handler, so it is
   * current by the time anyone awaiting the tick looks at it. Failures are
   * re-thrown so the poll backs off.
   */
  private async _fetch(): Promise<IMetrics> {
    const url = URLExt.join(this._serverSettings.baseUrl, METRICS_PATH);
    let metrics: IMetrics;
    try {
      const response = await ServerConnection.makeRequest(
        url,
        { method: 'GET', cache: 'no-store' },
        this._serverSettings
      );
      if (response.status === 404) {
        // No handler: the server extension is not installed or not enabled.
        // Retrying cannot help, so stop and let the item hide itself.
        this._error = 'HTTP 404: the metrics endpoint is missing';
        this._setStatus('unavailable', true);
        void this._poll.stop();
        throw new MetricsRequestError(404, 'Not Found');
      }
      if (response.status !== 200) {
        throw new MetricsRequestError(response.status, response.statusText);
      }
      const body: unknown = await response.json();
      assertMetrics(body);
      metrics = body;
    } catch (reason) {
      if (this._status !== 'unavailable') {
        const error = Private.describeError(reason);
        const changed = error !== this._error;
        this._error = error;
        this._setStatus('unreachable', changed);
      }
      this._settleReady();
      throw reason;
    }
    this._record(metrics);
    this._settleReady();
    return metrics;
  }

  /**
   * Record a valid payload: data, history, status and interval.
   */
  private _record(metrics: IMetrics): void {
    const now = Date.now();
    const changed = !JSONExt.deepEqual(
      this._metrics as unknown as ReadonlyJSONValue,
      metrics as unknown as ReadonlyJSONValue
    );
    this._metrics = metrics;
    this._lastUpdate = now;
    this._error = null;

    const sample = metrics.sample;
    if (sample?.ready !== false) {
      this._history.push({
        time: now - (sample?.age_ms ?? 0),
        memory: metrics.pss ?? metrics.rss,
        cpu_percent: metrics.cpu_percent ?? null
      });
      this._trimHistory();
    }

    const fresh = sample === undefined || (sample.ready && !sample.stale);
    this._setStatus(fresh ? 'ok' : 'stale', changed);

    // Follow the server's hint when it asks for slower polling (it is
    // sampling less often), and come back once the hint shortens again.
    const hint = sample?.next_poll_ms;
    this._serverHint =
      typeof hint === 'number' && hint > 0
        ? Math.min(hint, Private.MAX_REFRESH_RATE)
        : 0;
    this._poll.frequency = Private.frequency(this._effectiveInterval());
  }

  /**
   * Drop history points older than the configured window.
   *
   * @returns Whether any point was dropped.
   */
  private _trimHistory(): boolean {
    const history = this._history;
    if (history.length === 0) {
      return false;
    }
    const newest = history[history.length - 1].time;
    const cutoff = newest - this._historyMinutes * 60_000;
    let drop = 0;
    while (drop < history.length && history[drop].time < cutoff) {
      drop++;
    }
    drop = Math.max(drop, history.length - ResourceMonitorModel.MAX_HISTORY_POINTS);
    if (drop > 0) {
      history.splice(0, drop);
    }
    return drop > 0;
  }

  /**
   * The interval the poll should use after a success, in ms.
   */
  private _effectiveInterval(): number {
    return Math.max(this._refreshRate, this._serverHint);
  }

  /**
   * Apply a new interval and reschedule a waiting poll so it takes effect now.
   *
   * #### Notes
   * A poll that is backing off, stopped or not started keeps its schedule:
   * rescheduling it would lose the backoff or start it.
   */
  private _retime(): void {
    const interval = this._effectiveInterval();
    this._poll.frequency = Private.frequency(interval);
    const { phase } = this._poll.state;
    if (Private.WAITING_PHASES.has(phase)) {
      void this._poll.schedule({
        interval,
        payload: this._poll.state.payload,
        phase
      });
    }
  }

  /**
   * Re-check staleness on every tick, standby ticks included.
   */
  private _onTicked(): void {
    if (this._status !== 'ok' || this._lastUpdate === null) {
      return;
    }
    const limit =
      this._effectiveInterval() * ResourceMonitorModel.STALE_AFTER_INTERVALS;
    if (Date.now() - this._lastUpdate > limit) {
      this._setStatus('stale', false);
    }
  }

  /**
   * Set the status and emit the signals a real change calls for.
   *
   * @param status - The new status.
   *
   * @param dataChanged - Whether new data or a new error arrived, which views
   * must render even when the status is unchanged.
   */
  private _setStatus(status: MonitorStatus, dataChanged: boolean): void {
    const previous = this._status;
    if (previous === status && !dataChanged) {
      return;
    }
    this._status = status;
    this.stateChanged.emit();
    if ((previous === 'unavailable') !== (status === 'unavailable')) {
      this._availabilityChanged.emit();
    }
  }

  /**
   * Resolve {@link ready} after the first request settles.
   */
  private _settleReady(): void {
    if (!this._isReady) {
      this._isReady = true;
      this._readyDelegate.resolve();
    }
  }

  /**
   * Refresh when the browser comes back online, instead of waiting out a
   * standby interval or a backoff.
   */
  private _onOnline = (): void => {
    if (this._status !== 'unavailable' && this._isReady) {
      void this.refresh();
    }
  };

  /**
   * Refresh when the tab becomes visible and the data is older than an
   * interval, so the item is current as soon as someone can see it.
   */
  private _onVisibilityChange = (): void => {
    if (
      document.visibilityState !== 'visible' ||
      this._status === 'unavailable' ||
      !this._isReady
    ) {
      return;
    }
    const age =
      this._lastUpdate === null ? Infinity : Date.now() - this._lastUpdate;
    if (age >= this._effectiveInterval()) {
      void this.refresh();
    }
  };

  private _availabilityChanged = new Signal<this, void>(this);
  private _error: string | null = null;
  private _history: IHistoryPoint[] = [];
  private _historyMinutes: number;
  private _isReady = false;
  private _lastUpdate: number | null = null;
  private _metrics: IMetrics | null = null;
  private _poll: Poll<IMetrics, Error>;
  private _readyDelegate = new PromiseDelegate<void>();
  private _ready = this._readyDelegate.promise;
  private _refreshRate: number;
  private _serverHint = 0;
  private _serverSettings: ServerConnection.ISettings;
  private _status: MonitorStatus = 'loading';
}

/**
 * A namespace for {@link ResourceMonitorModel} statics.
 */
export namespace ResourceMonitorModel {
  /**
   * The options of a {@link ResourceMonitorModel}.
   */
  export interface IOptions {
    /**
     * The server to poll; defaults to `ServerConnection.makeSettings()`.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * Time between polls in ms; defaults to 5000, clamped to [1000, 600000].
     */
    refreshRate?: number;
    /**
     * Minutes of sparkline history; defaults to 10, clamped to [1, 60].
     */
    historyMinutes?: number;
    /**
     * When the poll stands by; defaults to standing by while the tab is
     * hidden or the browser is offline. Tests pass `'never'`.
     */
    standby?: Poll.Standby | (() => boolean | Poll.Standby);
    /**
     * Whether to start polling at once; defaults to false.
     */
    autoStart?: boolean;
  }
}

/**
 * Module-private helpers and constants.
 */
namespace Private {
  /**
   * The shortest refresh rate accepted, in ms.
   */
  export const MIN_REFRESH_RATE = 1000;

  /**
   * The longest refresh rate accepted, in ms.
   */
  export const MAX_REFRESH_RATE = 600_000;

  /**
   * The longest backoff after failures, in ms (unless the interval is longer).
   *
   * #### Notes
   * A minute keeps a restarted server from going unnoticed for long, while a
   * dead one costs one request a minute per tab.
   */
  export const MAX_BACKOFF = 60_000;

  /**
   * Poll phases in which the poll waits for its next regular tick.
   */
  export const WAITING_PHASES = new Set<string>([
    'resolved',
    'reconnected',
    'refreshed',
    'standby'
  ]);

  /**
   * The poll frequency for an interval: backoff on, capped at a minute.
   */
  export function frequency(interval: number): IPoll.Frequency {
    return {
      backoff: true,
      interval,
      max: Math.max(MAX_BACKOFF, interval)
    };
  }

  /**
   * Clamp a refresh rate to the accepted range, in whole ms.
   */
  export function clampRefreshRate(value: number): number {
    return Math.round(
      Math.min(MAX_REFRESH_RATE, Math.max(MIN_REFRESH_RATE, value))
    );
  }

  /**
   * Clamp a history length to the accepted range, in whole minutes.
   */
  export function clampHistoryMinutes(value: number): number {
    return Math.round(Math.min(60, Math.max(1, value)));
  }

  /**
   * Stand by while the browser is offline, and while the tab is hidden.
   *
   * #### Notes
   * The `online` event triggers a refresh, so an offline spell ends promptly.
   */
  export function standby(): boolean | Poll.Standby {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      return true;
    }
    return 'when-hidden';
  }

  /**
   * A one-line reason for a failed request.
   */
  export function describeError(reason: unknown): string {
    if (reason instanceof Error) {
      return reason.message || reason.name;
    }
    return String(reason);
  }
}
