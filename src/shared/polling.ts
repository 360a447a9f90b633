// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { VDomModel } from '@jupyterlab/ui-components';
import { JSONExt, PromiseDelegate, ReadonlyJSONValue } from '@lumino/coreutils';
import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { getJSON, MetricsRequestError } from './http';
import { trans } from './i18n';

/**
 * What a polling model knows about its endpoint.
 *
 * - `loading`: no answer yet.
 * - `ok`: the last answer was a fresh sample.
 * - `stale`: the server says its sample is old or not ready, or our last good
 *   answer is several intervals old (the poll is on standby, e.g. offline).
 * - `unreachable`: the last request failed (network error, HTTP error,
 *   malformed payload); the poll backs off and keeps trying.
 * - `unavailable`: the endpoint answered 404, so the server extension is not
 *   installed; the poll has stopped and the views hide themselves.
 */
export type MonitorStatus =
  'loading' | 'ok' | 'stale' | 'unreachable' | 'unavailable';

/**
 * Whether two parsed answers (or parts of them) are equal, so that a model
 * can tell whether anything a view shows changed.
 */
export function sameJSON(a: unknown, b: unknown): boolean {
  return JSONExt.deepEqual(a as ReadonlyJSONValue, b as ReadonlyJSONValue);
}

/**
 * The base of the models that poll one `/api/metrics/v1` endpoint.
 *
 * @typeParam T - The endpoint's validated payload.
 *
 * #### Notes
 * It owns one `Poll` that fetches the endpoint, backs off with jitter on
 * failure, follows the server's `sample.next_poll_ms` when it is longer than
 * {@link refreshRate}, stands by while the tab is hidden or the browser is
 * offline, and stops for good on a 404. A subclass stores each valid payload
 * in {@link recordPayload} and keeps its own history.
 *
 * How it follows the connection:
 * - Offline browser, hidden tab: the `standby` option (lumino's `Poll` skips
 *   the request and keeps ticking), then a refresh on the window's `online`
 *   event or when the tab is shown again with data older than an interval.
 * - Server down: our own request fails and lumino's backoff (capped at a
 *   minute) takes over; the first success resets it. When JupyterLab reports a
 *   connection failure first (`connectionFailure` option), the model checks
 *   at once instead of waiting out its interval, so the views say so promptly;
 *   while already backing off it ignores further reports.
 * - JupyterLab asking pollers to pause (`isConnected` option returns false):
 *   standby, resumed on the first tick after it returns true.
 */
export abstract class PollingModel<
  T extends PollingModel.IPayload
> extends VDomModel {
  /**
   * Create a model. Polling starts with {@link start}, or at once when
   * `options.autoStart` is true.
   *
   * @param options - The model's options.
   *
   * @param endpoint - What to poll and how to check the answer.
   */
  constructor(
    options: PollingModel.IOptions,
    endpoint: PollingModel.IEndpoint
  ) {
    super();
    this._endpoint = endpoint;
    this._serverSettings =
      options.serverSettings ?? ServerConnection.makeSettings();
    this._refreshRate = new Private.Setting(
      'refreshRate',
      Private.MIN_REFRESH_RATE,
      Private.MAX_REFRESH_RATE,
      options.refreshRate ?? PollingModel.DEFAULT_REFRESH_RATE
    );
    this._historyMinutes = new Private.Setting(
      'historyMinutes',
      1,
      60,
      options.historyMinutes ?? PollingModel.DEFAULT_HISTORY_MINUTES
    );
    const standby = options.standby ?? Private.standby;
    const isConnected = options.isConnected;
    this._poll = new Poll<T, Error>({
      auto: false,
      factory: () => this._fetch(),
      frequency: Private.frequency(this._refreshRate.value),
      name: endpoint.name,
      standby: () => {
        if (!this.isWanted() || (isConnected && !isConnected())) {
          return true;
        }
        return typeof standby === 'function' ? standby() : standby;
      }
    });
    this._poll.ticked.connect(this._onTicked, this);
    options.connectionFailure?.connect(this._onConnectionFailure, this);
    this._seedHistory = options.seedHistory ?? false;

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
   * The maximum number of points kept in one history, whatever the duration.
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
   * Whether the server has the endpoint (false after a 404).
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
   * The poll, for diagnostics and tests.
   *
   * #### Notes
   * Read it, do not drive it: use {@link refresh} and {@link refreshRate}.
   */
  get poll(): IPoll<T, Error, 'standby'> {
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
   * warning, and an equal value changes nothing, so a bad setting never stops
   * polling. The poll waits for the longer of this and the server's
   * `sample.next_poll_ms`; a waiting poll is rescheduled at once.
   */
  get refreshRate(): number {
    return this._refreshRate.value;
  }
  set refreshRate(value: number) {
    if (this._refreshRate.set(value)) {
      this._retime();
    }
  }

  /**
   * How many minutes of history the sparklines keep.
   *
   * #### Notes
   * Values are clamped to [1, 60]; a non-number is ignored with a warning.
   */
  get historyMinutes(): number {
    return this._historyMinutes.value;
  }
  set historyMinutes(value: number) {
    if (this._historyMinutes.set(value) && this.trimHistories()) {
      this.stateChanged.emit();
    }
  }

  /**
   * Start polling.
   *
   * @returns A promise that resolves once the first request has settled.
   */
  async start(): Promise<void> {
    if (this._seedHistory) {
      this._seedHistory = false; // once: a restart keeps what the tab drew
      void this.seedHistories().catch(reason =>
        console.warn('jupyter-resource-monitor: history not seeded', reason)
      );
    }
    await this._poll.start();
    return this._ready;
  }

  /**
   * The server this model polls.
   */
  protected get serverSettings(): ServerConnection.ISettings {
    return this._serverSettings;
  }

  /**
   * Fill the histories from the server's own, once at start. The default
   * does nothing.
   */
  protected async seedHistories(): Promise<void> {
    return;
  }

  /**
   * Fetch now instead of waiting for the next tick.
   *
   * @returns A promise that resolves after the request has settled.
   *
   * #### Notes
   * A refresh after a 404 tries once more; it stops again on another 404.
   * While a request is in flight, no second one starts: the refresh waits
   * for that one's answer (starting another would drop its outcome, and
   * with it a failure's backoff).
   */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    if (!this._fetching) {
      await this._poll.refresh();
    }
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
   * Store a valid payload and add its history points.
   *
   * @param payload - The validated payload.
   *
   * @param sampleTime - When the server took the sample (client clock), or
   * null before its first sample, when there is nothing to add to a history.
   *
   * @returns Whether anything a view shows changed.
   */
  protected abstract recordPayload(
    payload: T,
    sampleTime: number | null
  ): boolean;

  /**
   * Cut every history to {@link historyMinutes}.
   *
   * @returns Whether any point was dropped.
   */
  protected abstract trimHistories(): boolean;

  /**
   * Whether anything shows this model's data, so that polling is worth it.
   *
   * #### Notes
   * The poll stands by while this is false. Call {@link wantedChanged} when
   * it may have become true. Defaults to always.
   */
  protected isWanted(): boolean {
    return true;
  }

  /**
   * Fetch at once if the model is now wanted and its data is due.
   *
   * #### Notes
   * For subclasses whose {@link isWanted} depends on their own state. Does
   * nothing before {@link start}, after a 404 or while a request is due soon
   * anyway.
   */
  protected wantedChanged(): void {
    const { phase } = this._poll.state;
    if (
      this.isWanted() &&
      phase !== 'constructed' &&
      phase !== 'stopped' &&
      this._isDue()
    ) {
      this._refreshUnlessBackingOff();
    }
  }

  /**
   * Drop a history's points older than the window, and any over the cap.
   *
   * @param history - The points, oldest first; changed in place.
   *
   * @returns Whether any point was dropped.
   */
  protected trimHistory(history: Array<{ readonly time: number }>): boolean {
    if (history.length === 0) {
      return false;
    }
    const newest = history[history.length - 1].time;
    const cutoff = newest - this._historyMinutes.value * 60_000;
    let drop = 0;
    while (drop < history.length && history[drop].time < cutoff) {
      drop++;
    }
    drop = Math.max(drop, history.length - PollingModel.MAX_HISTORY_POINTS);
    if (drop > 0) {
      history.splice(0, drop);
    }
    return drop > 0;
  }

  /**
   * The poll factory: fetch, validate and record one answer.
   *
   * #### Notes
   * State is updated here rather than in the `ticked` handler, so it is
   * current by the time anyone awaiting the tick looks at it. Failures are
   * re-thrown so the poll backs off.
   */
  private async _fetch(): Promise<T> {
    this._fetching = true;
    try {
      return await this._fetchOnce();
    } finally {
      this._fetching = false;
    }
  }

  /**
   * One request, validated and recorded (see {@link _fetch}).
   */
  private async _fetchOnce(): Promise<T> {
    let payload: T;
    try {
      const body = await getJSON(this._serverSettings, this._endpoint.path);
      this._endpoint.validate(body);
      payload = body as T;
    } catch (reason) {
      if (reason instanceof MetricsRequestError && reason.status === 404) {
        // No handler: the server extension is missing, disabled or too old.
        // Retrying cannot help, so stop and let the views hide.
        this._error = trans.__(
          'HTTP 404: the %1 endpoint is missing',
          this._endpoint.label
        );
        this._setStatus('unavailable', true);
        void this._poll.stop();
      } else if (this._status !== 'unavailable') {
        const error = Private.describeError(reason);
        const changed = error !== this._error;
        this._error = error;
        this._setStatus('unreachable', changed);
      }
      this._settleReady();
      throw reason;
    }
    this._record(payload);
    this._settleReady();
    return payload;
  }

  /**
   * Record a valid answer: data and history, status and interval.
   */
  private _record(payload: T): void {
    const now = Date.now();
    const sample = payload.sample ?? null;
    const sampleTime =
      sample?.ready === false ? null : now - (sample?.age_ms ?? 0);
    const changed = this.recordPayload(payload, sampleTime);
    this._lastUpdate = now;
    this._error = null;

    const fresh = sample === null || (sample.ready && !sample.stale);
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
   * The interval the poll should use after a success, in ms.
   */
  private _effectiveInterval(): number {
    return Math.max(this._refreshRate.value, this._serverHint);
  }

  /**
   * Whether the data is at least an interval old (or missing).
   */
  private _isDue(): boolean {
    if (this._status === 'unavailable') {
      return false;
    }
    const age =
      this._lastUpdate === null ? Infinity : Date.now() - this._lastUpdate;
    return age >= this._effectiveInterval();
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
    // In flight, the poll still reports the previous phase: the new
    // frequency applies when this request settles.
    if (!this._fetching && Private.WAITING_PHASES.has(phase)) {
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
      this._effectiveInterval() * PollingModel.STALE_AFTER_INTERVALS;
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
   * Check at once when JupyterLab reports a lost connection, unless the poll
   * is already backing off, stopped or not started.
   */
  private _onConnectionFailure(): void {
    if (
      this._isReady &&
      this._status !== 'unreachable' &&
      Private.WAITING_PHASES.has(this._poll.state.phase)
    ) {
      this._refreshUnlessBackingOff();
    }
  }

  /**
   * Refresh on an event (a view shown, a lost connection, the tab visible),
   * but not while a request is in flight or the poll is backing off after
   * failures: the backoff keeps growing until a request succeeds.
   */
  private _refreshUnlessBackingOff(): void {
    if (!this._fetching && this._status !== 'unreachable') {
      void this.refresh();
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
   * interval, so the views are current as soon as someone can see them.
   */
  private _onVisibilityChange = (): void => {
    if (
      document.visibilityState === 'visible' &&
      this._isReady &&
      this._isDue()
    ) {
      this._refreshUnlessBackingOff();
    }
  };

  private _availabilityChanged = new Signal<this, void>(this);
  private _seedHistory: boolean;
  private _endpoint: PollingModel.IEndpoint;
  private _error: string | null = null;
  private _fetching = false;
  private _historyMinutes: Private.Setting;
  private _isReady = false;
  private _lastUpdate: number | null = null;
  private _poll: Poll<T, Error>;
  private _readyDelegate = new PromiseDelegate<void>();
  private _ready = this._readyDelegate.promise;
  private _refreshRate: Private.Setting;
  private _serverHint = 0;
  private _serverSettings: ServerConnection.ISettings;
  private _status: MonitorStatus = 'loading';
}

/**
 * A namespace for {@link PollingModel} statics.
 */
export namespace PollingModel {
  /**
   * The options every polling model takes.
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
     * A signal emitted when the application loses the server, such as the
     * `ServiceManager`'s `connectionFailure`; the model then checks at once.
     */
    connectionFailure?: ISignal<unknown, unknown>;
    /**
     * Read the server's history once at start, so charts are drawn at once;
     * defaults to false (the plugins turn it on).
     */
    seedHistory?: boolean;
    /**
     * Whether the application wants pollers to run, such as JupyterLab's
     * `info.isConnected`; the poll stands by while it returns false.
     */
    isConnected?: () => boolean;
    /**
     * Whether to start polling at once; defaults to false.
     */
    autoStart?: boolean;
  }

  /**
   * The part of a payload the poll itself reads.
   */
  export interface IPayload {
    /**
     * The sample block; absent from older servers.
     */
    readonly sample?: {
      readonly ready: boolean;
      readonly stale: boolean;
      readonly age_ms: number | null;
      readonly next_poll_ms?: number;
    } | null;
  }

  /**
   * What a model polls.
   */
  export interface IEndpoint {
    /**
     * The REST path, relative to the server's base URL.
     */
    readonly path: string;
    /**
     * The poll's name.
     */
    readonly name: string;
    /**
     * What the endpoint serves, for the 404 message.
     */
    readonly label: string;
    /**
     * Throw unless a parsed body is a valid payload.
     */
    readonly validate: (value: unknown) => void;
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
   * A numeric setting, kept in whole units within its range.
   */
  export class Setting {
    /**
     * @param name - The setting's name, for the warning.
     *
     * @param min - The smallest value kept.
     *
     * @param max - The largest value kept.
     *
     * @param initial - The first value (clamped).
     */
    constructor(
      private readonly _name: string,
      private readonly _min: number,
      private readonly _max: number,
      initial: number
    ) {
      this.value = this._clamp(initial);
    }

    /**
     * The value in force.
     */
    value: number;

    /**
     * Take a new value, clamped.
     *
     * @returns Whether the value in force changed; one that is not a finite
     *   number is ignored, with a warning.
     */
    set(value: unknown): boolean {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        console.warn(
          `jupyter-resource-monitor: ignoring ${this._name} ${String(value)}`
        );
        return false;
      }
      const next = this._clamp(value);
      const changed = next !== this.value;
      this.value = next;
      return changed;
    }

    private _clamp(value: number): number {
      return Math.round(Math.min(this._max, Math.max(this._min, value)));
    }
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
