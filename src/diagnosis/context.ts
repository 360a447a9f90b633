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
 * the user set, and the kernel rows when the kernel list is polled.
 *
 * #### Notes
 * The two plugins fill it in (the server plugin the settings, the kernel
 * plugin its rows); the detail view, the CPU item, the Kernel usage panel and
 * the notifications read it. It holds no figures of its own.
 */
export class DiagnosisContext {
  /**
   * Emitted when the settings or the kernel source change.
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
   * Where fresh kernel rows come from; the default has none.
   */
  set kernelSource(source: () => ReadonlyArray<IKernelUsage>) {
    this._kernels = source;
    this._changed.emit();
  }

  /**
   * Where the latest `/api/metrics/v1` payload comes from (for the server's
   * thresholds); the default has none.
   */
  set metricsSource(source: () => IMetrics | null) {
    this._metrics = source;
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
  private _kernels: () => ReadonlyArray<IKernelUsage> = () => [];
  private _metrics: () => IMetrics | null = () => null;
  private _settings: IThresholdSettings = {};
}

/**
 * The tab's shared context (one per page, as the models are).
 */
export const diagnosisContext = new DiagnosisContext();
