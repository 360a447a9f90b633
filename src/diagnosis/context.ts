// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ISignal, Signal } from '@lumino/signaling';

import type { IKernelUsage } from '../kernels/types';
import type { IMetrics } from '../server/types';
import {
  effectiveThresholds,
  IThresholds,
  IThresholdSettings
} from './thresholds';

/**
 * What the views of a tab share to judge "why is it slow?": the thresholds
 * the user set, the latest metrics and the kernel rows while they are fresh.
 *
 * #### Notes
 * The diagnosis plugin makes the one context and gives it its sources; the
 * detail view, the CPU item, the Kernel usage panel and the notifications
 * read it. It holds no figures of its own.
 */
export class DiagnosisContext {
  /**
   * Create a context.
   *
   * @param options - Where the metrics and the kernel rows come from; by
   *   default there are none.
   */
  constructor(options: DiagnosisContext.IOptions = {}) {
    this._metrics = options.metrics ?? (() => null);
    this._kernels = options.kernels ?? (() => []);
  }

  /**
   * Emitted when the settings change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The thresholds the user set (absent ones fall back to the server's).
   */
  get settings(): IThresholdSettings {
    return this._settings;
  }
  set settings(value: IThresholdSettings) {
    this._settings = { ...value };
    this._changed.emit();
  }

  /**
   * The kernel rows, when fresh; else none.
   */
  kernels(): ReadonlyArray<IKernelUsage> {
    return this._kernels();
  }

  /**
   * The thresholds in force for a payload.
   *
   * @param metrics - The payload; by default the latest one.
   */
  thresholds(metrics: IMetrics | null = this._metrics()): IThresholds {
    return effectiveThresholds(this._settings, metrics);
  }

  private _changed = new Signal<this, void>(this);
  private _kernels: () => ReadonlyArray<IKernelUsage>;
  private _metrics: () => IMetrics | null;
  private _settings: IThresholdSettings = {};
}

/**
 * A namespace for {@link DiagnosisContext} statics.
 */
export namespace DiagnosisContext {
  /**
   * The sources of a {@link DiagnosisContext}.
   */
  export interface IOptions {
    /**
     * The latest `/api/metrics/v1` payload (for the server's thresholds).
     */
    metrics?: () => IMetrics | null;
    /**
     * The kernel rows while they are fresh.
     */
    kernels?: () => ReadonlyArray<IKernelUsage>;
  }
}
