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

import {
  assertKernelList,
  IKernelList,
  IKernelSampleInfo,
  IKernelUsage
} from './kernelTypes';
import { MetricsRequestError, MonitorStatus } from './model';

/**
 * The REST path of the kernel list, relative to the server's base URL.
 */
export const KERNELS_PATH = 'api/metrics/v1/kernels';

/**
 * One point of a kernel's sparkline history.
 */
export interface IKernelHistoryPoint {
  /**
   * When the sample was taken, in ms since the epoch (client clock).
   */
  readonly time: number;
  /**
   * Memory (PSS) in bytes; null when the kernel was not measured.
   */
  readonly memory: number | null;
  /**
   * CPU use in percent (100 = one CPU busy); null when not measured.
   */
  readonly cpu_percent: number | null;
}

/**
 * The polling model behind the per-kernel views of a browser tab.
 *
 * #### Notes
 * Create one per tab and share it between the status item and the sidebar
 * panel. It owns one `Poll` of `/api/metrics/v1/kernels` that behaves like the
 * main model's: backoff with jitter on failure, standby while the tab is
 * hidden or the browser offline, a full stop on 404. It also holds which
 * kernel is current (the focused notebook's or console's), set by the plugin,
 * so the views render from this model alone.
 */
export class KernelUsageModel extends VDomModel {
  /**
   * Create a model. Polling starts with {@link start}, or at once when
   * `options.autoStart` is true.
   *
   * @param options - The model's options.
   */
  constructor(options: KernelUsageModel.IOptions = {}) {
    super();
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._refreshRate = Private.clampRefreshRate(
      options.refreshRate ?? KernelUsageModel.DEFAULT_REFRESH_RATE
    );
    this._historyMinutes = Private.clampHistoryMinutes(
      options.historyMinutes ?? KernelUsageModel.DEFAULT_HISTORY_MINUTES
    );
    this._poll = new Poll<IKernelList, Error>({
      auto: false,
      factory: () => this._fetch(),
      frequency: Private.frequency(this._refreshRate),
      name: 'jupyter-resource-monitor:kernels',
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
   * The default refresh rate in ms, the main model's.
   */
  static readonly DEFAULT_REFRESH_RATE = 5000;

  /**
   * The default length of the sparkline history in minutes.
   */
  static readonly DEFAULT_HISTORY_MINUTES = 10;

  /**
   * The maximum number of history points kept per kernel.
   */
  static readonly MAX_HISTORY_POINTS = 3600;

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
   * A signal emitted when {@link currentKernelId} changes, with the new id.
   */
  get currentKernelChanged(): ISignal<this, string | null> {
    return this._currentKernelChanged;
  }

  /**
   * Whether the server has the kernels endpoint (false after a 404).
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
   * Every running kernel from the last valid answer, in the server's order.
   *
   * #### Notes
   * Kept while the server is unreachable; empty until the first answer.
   */
  get kernels(): ReadonlyArray<IKernelUsage> {
    return this._kernels;
  }

  /**
   * The sample block of the last valid answer, or null.
   */
  get sample(): IKernelSampleInfo | null {
    return this._sample;
  }

  /**
   * When the last valid answer arrived, in ms since the epoch; null if never.
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
   * The id of the current notebook's or console's kernel, or null when the
   * current widget has no kernel.
   *
   * #### Notes
   * Set by whoever tracks the application's focus. A real change emits
   * `stateChanged` and {@link currentKernelChanged}. When the new kernel is
   * not in the list yet (it has just started) and polling is under way, the
   * model asks the server at once rather than waiting out the interval.
   */
  get currentKernelId(): string | null {
    return this._currentKernelId;
  }
  set currentKernelId(value: string | null) {
    const id = value || null;
    if (id === this._currentKernelId) {
      return;
    }
    this._currentKernelId = id;
    this.stateChanged.emit();
    this._currentKernelChanged.emit(id);
    if (
      id !== null &&
      this.kernel(id) === null &&
      this._isReady &&
      this._status !== 'unavailable' &&
      this._poll.state.phase !== 'stopped'
    ) {
      void this.refresh();
    }
  }

  /**
   * The current kernel's usage, or null when there is no current kernel or
   * the server has not listed it yet.
   */
  get currentKernel(): IKernelUsage | null {
    return this._currentKernelId === null
      ? null
      : this.kernel(this._currentKernelId);
  }

  /**
   * The poll, for diagnostics and tests.
   *
   * #### Notes
   * Read it, do not drive it: use {@link refresh} and {@link refreshRate}.
   */
  get poll(): IPoll<IKernelList, Error, 'standby'> {
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
   * warning, and an equal value changes nothing. The poll waits for the
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
   * How many minutes of history each kernel's sparklines keep.
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
    let dropped = false;
    for (const history of this._histories.values()) {
      dropped = this._trimHistory(history) || dropped;
    }
    if (dropped) {
      this.stateChanged.emit();
    }
  }

  /**
   * One kernel's usage from the last valid answer.
   *
   * @param id - The kernel id.
   *
   * @returns The kernel's usage, or null when the server did not list it.
   */
  kernel(id: string): IKernelUsage | null {
    return this._kernels.find(kernel => kernel.id === id) ?? null;
  }

  /**
   * One kernel's sparkline history, oldest first.
   *
   * @param id - The kernel id.
   *
   * @returns The points; empty for a kernel the model does not know.
   *
   * #### Notes
   * Bounded to {@link historyMinutes} and to
   * {@link KernelUsageModel.MAX_HISTORY_POINTS}. A kernel's history is
   * dropped as soon as the server stops listing it. A point is added on every
   * answer but `stateChanged` is only emitted when a figure changed, so a view
   * of a perfectly steady kernel may lag by a few flat points.
   */
  history(id: string): ReadonlyArray<IKernelHistoryPoint> {
    return this._histories.get(id) ?? Private.EMPTY_HISTORY;
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
    this._histories.clear();
    super.dispose();
    Signal.clearData(this);
  }

  /**
   * The poll factory: fetch, validate and record one answer.
   *
   * #### Notes
   * State is updated here rather than in the `ticked` handler, so it is
   * current by the time anyone awaiting the tick looks at it. Failures are
   * re-thrown so the poll backs off.
   */
  private async _fetch(): Promise<IKernelList> {
    const url = URLExt.join(this._serverSettings.baseUrl, KERNELS_PATH);
    let list: IKernelList;
    try {
      const response = await ServerConnection.makeRequest(
        url,
        { method: 'GET', cache: 'no-store' },
        this._serverSettings
      );
      if (response.status === 404) {
        // An older server extension without per-kernel usage, or none at
        // all: retrying cannot help, so stop and let the views hide.
        this._error = 'HTTP 404: the kernel usage endpoint is missing';
        this._setStatus('unavailable', true);
        void this._poll.stop();
        throw new MetricsRequestError(404, 'Not Found');
      }
      if (response.status !== 200) {
        throw new MetricsRequestError(response.status, response.statusText);
      }
      const body: unknown = await response.json();
      assertKernelList(body);
      list = body;
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
    this._record(list);
    this._settleReady();
    return list;
  }

  /**
   * Record a valid answer: kernels, histories, status and interval.
   */
  private _record(list: IKernelList): void {
    const now = Date.now();
    const sample = list.sample ?? null;
    const changed =
      !JSONExt.deepEqual(
        this._kernels as unknown as ReadonlyJSONValue,
        list.kernels as unknown as ReadonlyJSONValue
      ) ||
      this._sample?.ready !== sample?.ready ||
      this._sample?.stale !== sample?.stale;
    this._kernels = list.kernels;
    this._sample = sample;
    this._lastUpdate = now;
    this._error = null;

    // Kernels that are gone take their history with them.
    const ids = new Set(list.kernels.map(kernel => kernel.id));
    for (const id of [...this._histories.keys()]) {
      if (!ids.has(id)) {
        this._histories.delete(id);
      }
    }
    if (sample?.ready !== false) {
      const time = now - (sample?.age_ms ?? 0);
      for (const kernel of list.kernels) {
        let history = this._histories.get(kernel.id);
        if (!history) {
          history = [];
          this._histories.set(kernel.id, history);
        }
        history.push({
          time,
          memory: kernel.available ? kernel.memory : null,
          cpu_percent: kernel.available ? kernel.cpu_percent : null
        });
        this._trimHistory(history);
      }
    }

    const fresh = sample === null || (sample.ready && !sample.stale);
    this._setStatus(fresh ? 'ok' : 'stale', changed);

    // Follow the server's hint when it asks for slower polling.
    const hint = sample?.next_poll_ms;
    this._serverHint =
      typeof hint === 'number' && hint > 0
        ? Math.min(hint, Private.MAX_REFRESH_RATE)
        : 0;
    this._poll.frequency = Private.frequency(this._effectiveInterval());
  }

  /**
   * Drop a history's points older than the window, and any over the cap.
   *
   * @returns Whether any point was dropped.
   */
  private _trimHistory(history: IKernelHistoryPoint[]): boolean {
    if (history.length === 0) {
      return false;
    }
    const newest = history[history.length - 1].time;
    const cutoff = newest - this._historyMinutes * 60_000;
    let drop = 0;
    while (drop < history.length && history[drop].time < cutoff) {
      drop++;
    }
    drop = Math.max(drop, history.length - KernelUsageModel.MAX_HISTORY_POINTS);
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
      this._effectiveInterval() * KernelUsageModel.STALE_AFTER_INTERVALS;
    if (Date.now() - this._lastUpdate > limit) {
      this._setStatus('stale', false);
    }
  }

  /**
   * Set the status and emit the signals a real change calls for.
   *
   * @param status - The new status.
   *
   * @param dataChanged - Whether new figures or a new error arrived.
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
   * Refresh when the browser comes back online.
   */
  private _onOnline = (): void => {
    if (this._status !== 'unavailable' && this._isReady) {
      void this.refresh();
    }
  };

  /**
   * Refresh when the tab becomes visible and the figures are older than an
   * interval.
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
  private _currentKernelChanged = new Signal<this, string | null>(this);
  private _currentKernelId: string | null = null;
  private _error: string | null = null;
  private _histories = new Map<string, IKernelHistoryPoint[]>();
  private _historyMinutes: number;
  private _isReady = false;
  private _kernels: ReadonlyArray<IKernelUsage> = [];
  private _lastUpdate: number | null = null;
  private _poll: Poll<IKernelList, Error>;
  private _readyDelegate = new PromiseDelegate<void>();
  private _ready = this._readyDelegate.promise;
  private _refreshRate: number;
  private _sample: IKernelSampleInfo | null = null;
  private _serverHint = 0;
  private _serverSettings: ServerConnection.ISettings;
  private _status: MonitorStatus = 'loading';
}

/**
 * A namespace for {@link KernelUsageModel} statics.
 */
export namespace KernelUsageModel {
  /**
   * The options of a {@link KernelUsageModel}.
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
 *
 * #### Notes
 * The limits match the main model's, so one `refreshRate` and one
 * `historyMinutes` setting mean the same thing for both.
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
   */
  export const MAX_BACKOFF = 60_000;

  /**
   * The history of a kernel the model does not know.
   */
  export const EMPTY_HISTORY: ReadonlyArray<IKernelHistoryPoint> = [];

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
