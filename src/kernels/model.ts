// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ISignal, Signal } from '@lumino/signaling';

import type { ISampleInfo } from '../server/types';
import { assertKernelList, IKernelList, IKernelUsage } from './types';
import { fetchCellList, IKernelCells, kernelCells } from '../cells/costliest';
import { fetchServerHistory, prependSeed } from '../shared/history';
import { PollingModel, sameJSON } from '../shared/polling';
import { trans } from '../shared/i18n';

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
 * panel. It polls `/api/metrics/v1/kernels` as {@link PollingModel}
 * describes: backoff with jitter on failure, standby while the tab is hidden
 * or the browser offline, a full stop on 404. It also holds which kernel is
 * current (the focused notebook's or console's), set by the plugin, so the
 * views render from this model alone.
 */
export class KernelUsageModel extends PollingModel<IKernelList> {
  /**
   * Create a model. Polling starts with {@link start}, or at once when
   * `options.autoStart` is true.
   *
   * @param options - The model's options.
   */
  constructor(options: KernelUsageModel.IOptions = {}) {
    super(options, {
      path: KERNELS_PATH,
      name: 'jupyter-resource-monitor:kernels',
      label: trans.__('kernel usage'),
      validate: assertKernelList
    });
    this._onlyWhenShown = options.onlyWhenShown ?? false;
  }

  /**
   * Whether the Kernel usage panel is visible; set by the panel.
   *
   * #### Notes
   * With `onlyWhenShown`, the poll stands by while the panel is hidden and
   * there is no current kernel, and fetches at once when either appears.
   */
  get panelVisible(): boolean {
    return this._panelVisible;
  }
  set panelVisible(value: boolean) {
    if (value === this._panelVisible) {
      return;
    }
    this._panelVisible = value;
    this.wantedChanged();
    if (value && this._kernels.length > 0) {
      void this._fetchCells(this._kernels.map(kernel => kernel.id));
    }
  }

  /**
   * A signal emitted when {@link currentKernelId} changes, with the new id.
   */
  get currentKernelChanged(): ISignal<this, string | null> {
    return this._currentKernelChanged;
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
  get sample(): ISampleInfo | null {
    return this._sample;
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
    const wasWanted = this.isWanted();
    this._currentKernelId = id;
    this.stateChanged.emit();
    this._currentKernelChanged.emit(id);
    this._soonRefreshes = 0;
    this._askAgainSoon();
    if (
      id !== null &&
      this.kernel(id) === null &&
      this.isReady &&
      this.status !== 'unavailable' &&
      this.poll.state.phase !== 'stopped'
    ) {
      void this.refresh();
    } else if (!wasWanted) {
      this.wantedChanged();
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
   * One kernel's peak since start and costliest cells, fetched while the
   * Kernel usage panel is visible.
   *
   * @param id - The kernel id.
   *
   * @returns Its figures, or null before the first answer (or when per-cell
   *   tracking is off).
   */
  cells(id: string): IKernelCells | null {
    return this._cells.get(id) ?? null;
  }

  /**
   * Dispose the model, its poll and the histories.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    if (this._soonTimer !== null) {
      clearTimeout(this._soonTimer);
      this._soonTimer = null;
    }
    this._histories.clear();
    super.dispose();
  }

  /**
   * Whether a view shows kernel figures: always, unless `onlyWhenShown`.
   */
  protected isWanted(): boolean {
    return (
      !this._onlyWhenShown ||
      this._panelVisible ||
      this._currentKernelId !== null
    );
  }

  /**
   * Draw each running kernel's charts at once from the server's history.
   */
  protected async seedHistories(): Promise<void> {
    const seed = await fetchServerHistory(this.serverSettings);
    if (!seed || this.isDisposed) {
      return;
    }
    let added = false;
    for (const [id, points] of seed.kernels) {
      let history = this._histories.get(id);
      if (!history) {
        history = [];
        this._histories.set(id, history);
      }
      if (prependSeed(history, points)) {
        this.trimHistory(history);
        added = true;
      }
    }
    if (added) {
      this.stateChanged.emit();
    }
  }

  /**
   * Store a valid answer and add a point to every kernel's history.
   */
  protected recordPayload(
    list: IKernelList,
    sampleTime: number | null
  ): boolean {
    const sample = list.sample ?? null;
    const changed =
      !sameJSON(this._kernels, list.kernels) ||
      this._sample?.ready !== sample?.ready ||
      this._sample?.stale !== sample?.stale;
    this._kernels = list.kernels;
    this._sample = sample;

    // Kernels that are gone take their history with them.
    const ids = new Set(list.kernels.map(kernel => kernel.id));
    for (const id of [...this._histories.keys()]) {
      if (!ids.has(id)) {
        this._histories.delete(id);
      }
    }
    if (sampleTime !== null) {
      for (const kernel of list.kernels) {
        let history = this._histories.get(kernel.id);
        if (!history) {
          history = [];
          this._histories.set(kernel.id, history);
        }
        history.push({
          time: sampleTime,
          memory: kernel.available ? kernel.memory : null,
          cpu_percent: kernel.available ? kernel.cpu_percent : null
        });
        this.trimHistory(history);
      }
    }
    this._askAgainSoon();
    for (const id of [...this._cells.keys()]) {
      if (!ids.has(id)) {
        this._cells.delete(id);
      }
    }
    if (this._panelVisible) {
      void this._fetchCells(list.kernels.map(kernel => kernel.id));
    }
    return changed;
  }

  /**
   * Ask for the cell records of the kernels the panel shows, once per answer
   * of the kernel list (so at the panel's poll cadence) and only while it is
   * visible; one round at a time.
   */
  private async _fetchCells(ids: ReadonlyArray<string>): Promise<void> {
    if (this._cellsInFlight) {
      return;
    }
    this._cellsInFlight = true;
    try {
      const lists = await Promise.all(
        ids.map(id => fetchCellList(this.serverSettings, id))
      );
      if (this.isDisposed) {
        return;
      }
      let changed = false;
      ids.forEach((id, i) => {
        const list = lists[i];
        if (list === null) {
          return;
        }
        const cells = kernelCells(list);
        const before = this._cells.get(id);
        if (!before || !sameJSON(before, cells)) {
          this._cells.set(id, cells);
          changed = true;
        }
      });
      if (changed) {
        this.stateChanged.emit();
      }
    } finally {
      this._cellsInFlight = false;
    }
  }

  /**
   * When the server says the current kernel is not sampled yet (it has just
   * started), ask again after the server's sample interval rather than the
   * poll interval, so its figure shows within about a second.
   *
   * #### Notes
   * At most {@link KernelUsageModel.MAX_SOON_REFRESHES} times in a row, so a
   * server that never samples it (a worker that cannot start) is not asked
   * every second for ever.
   */
  private _askAgainSoon(): void {
    const kernel = this.currentKernel;
    const interval = this._sample?.interval_ms;
    const waiting =
      kernel !== null &&
      !kernel.available &&
      kernel.reason === 'not sampled yet';
    if (!waiting) {
      this._soonRefreshes = 0;
      return;
    }
    if (
      this._soonTimer !== null ||
      typeof interval !== 'number' ||
      interval <= 0 ||
      interval >= this.refreshRate ||
      this._soonRefreshes >= KernelUsageModel.MAX_SOON_REFRESHES
    ) {
      return;
    }
    this._soonRefreshes++;
    this._soonTimer = setTimeout(() => {
      this._soonTimer = null;
      if (!this.isDisposed && this.poll.state.phase !== 'stopped') {
        void this.refresh();
      }
    }, interval);
  }

  /**
   * Cut every kernel's history to the window.
   */
  protected trimHistories(): boolean {
    let dropped = false;
    for (const history of this._histories.values()) {
      dropped = this.trimHistory(history) || dropped;
    }
    return dropped;
  }

  private _cells = new Map<string, IKernelCells>();
  private _cellsInFlight = false;
  private _currentKernelChanged = new Signal<this, string | null>(this);
  private _currentKernelId: string | null = null;
  private _histories = new Map<string, IKernelHistoryPoint[]>();
  private _kernels: ReadonlyArray<IKernelUsage> = [];
  private _onlyWhenShown: boolean;
  private _panelVisible = false;
  private _sample: ISampleInfo | null = null;
  private _soonRefreshes = 0;
  private _soonTimer: ReturnType<typeof setTimeout> | null = null;
}

/**
 * A namespace for {@link KernelUsageModel} statics.
 */
export namespace KernelUsageModel {
  /**
   * The options of a {@link KernelUsageModel}.
   */
  export interface IOptions extends PollingModel.IOptions {
    /**
     * Whether to stand by while neither the panel is visible
     * ({@link KernelUsageModel.panelVisible}) nor a current kernel is set;
     * defaults to false. The plugin passes true.
     */
    onlyWhenShown?: boolean;
  }

  /**
   * How many times in a row a kernel that is not sampled yet is asked about
   * after the server's sample interval rather than the poll interval.
   */
  export const MAX_SOON_REFRESHES = 10;
}

/**
 * Module-private constants.
 */
namespace Private {
  /**
   * The history of a kernel the model does not know.
   */
  export const EMPTY_HISTORY: ReadonlyArray<IKernelHistoryPoint> = [];
}
