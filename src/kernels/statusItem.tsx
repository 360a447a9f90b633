// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { VDomRenderer } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';
import * as React from 'react';

import {
  describeKernel,
  describeKernelsStatus,
  IKernelsStatus,
  kernelFigures,
  unavailableText
} from './describe';
import { KernelUsageModel } from './model';
import { IKernelUsage } from './types';
import { buttonProps } from '../shared/activate';
import { trans } from '../shared/i18n';

/**
 * CSS class of the kernel status item's root element.
 */
export const KERNEL_STATUS_CLASS = 'jp-ResourceMonitor-kernel';

/**
 * The kernel status item's text, such as `Kernel: 312 MiB · 12%`.
 *
 * @param kernel - The current kernel's usage, or null when not listed yet.
 */
export function kernelStatusText(kernel: IKernelUsage | null): string {
  return trans.__('Kernel: %1', kernelFigures(kernel));
}

/**
 * The kernel status item's tooltip.
 *
 * @param options - The current kernel and the model's status.
 */
export function kernelStatusTitle(
  options: Omit<KernelStatusComponent.IProps, 'onActivate'> & {
    readonly kernelId: string;
  }
): string {
  const lines = [trans.__('Current kernel usage')];
  const note = describeKernelsStatus(
    options.status,
    options.sample,
    options.error
  );
  if (note !== null) {
    lines.push(trans.__('Status: %1', note));
  }
  lines.push(...describeKernel(options.kernel, options.kernelId));
  return lines.join('\n');
}

/**
 * The kernel status item's content: a pure function of its props.
 *
 * @param props - The current kernel, the model's status and the action.
 *
 * @returns The item, or null when there is no current kernel or the server has
 * no kernel endpoint.
 */
export function KernelStatusComponent(
  props: KernelStatusComponent.IProps
): JSX.Element | null {
  const { kernelId, kernel, status, sample, error, onActivate } = props;
  if (kernelId === null || status === 'unavailable') {
    return null;
  }
  const muted =
    status === 'stale' ||
    status === 'unreachable' ||
    (kernel !== null && !kernel.available);
  const className = [KERNEL_STATUS_CLASS, muted ? 'jp-mod-stale' : '']
    .filter(Boolean)
    .join(' ');
  const text = kernelStatusText(kernel);
  const title = kernelStatusTitle({ kernelId, kernel, status, sample, error });
  const why = kernel ? unavailableText(kernel) : null;
  const label = trans.__(
    'Current kernel usage: %1%2. Press Enter to open the Kernel usage panel.',
    kernelFigures(kernel),
    why ? `, ${why}` : ''
  );

  return (
    <div {...buttonProps(onActivate, { className, title, label })}>
      <span className="jp-ResourceMonitor-metric">{text}</span>
    </div>
  );
}

/**
 * A namespace for {@link KernelStatusComponent} statics.
 */
export namespace KernelStatusComponent {
  /**
   * The props of {@link KernelStatusComponent}.
   */
  export interface IProps extends IKernelsStatus {
    /**
     * The current kernel's id, or null when the current widget has none.
     */
    readonly kernelId: string | null;
    /**
     * The current kernel's usage, or null when the server has not listed it.
     */
    readonly kernel: IKernelUsage | null;
    /**
     * Called on click, Enter or Space.
     */
    readonly onActivate: () => void;
  }
}

/**
 * The kernel status-bar item: the current kernel's memory and CPU.
 *
 * #### Notes
 * It renders from the shared {@link KernelUsageModel} and never fetches. It is
 * active (shown) only while the current widget has a kernel and the server
 * has the kernel endpoint; register it with {@link isActive} and
 * {@link activeStateChanged}.
 */
export class KernelUsageStatus extends VDomRenderer<KernelUsageModel> {
  /**
   * Create the item.
   *
   * @param options - The model and the activation callback.
   */
  constructor(options: KernelUsageStatus.IOptions) {
    super(options.model);
    this._onActivate = options.onActivate ?? (() => undefined);
    this.addClass('jp-mod-highlighted');
    this.addClass('jp-ResourceMonitor-kernelItem');
    this._isActive = this._computeActive();
    options.model.stateChanged.connect(this._onModelChanged, this);
  }

  /**
   * Emitted when {@link isActive} changes.
   */
  get activeStateChanged(): ISignal<this, void> {
    return this._activeStateChanged;
  }

  /**
   * Whether the item has something to show: a current kernel, and a server
   * with the kernel endpoint.
   */
  get isActive(): boolean {
    return this._isActive;
  }

  /**
   * Render the item from the model.
   */
  protected render(): JSX.Element {
    const { currentKernelId, currentKernel, status, sample, error } =
      this.model;
    return (
      <KernelStatusComponent
        kernelId={currentKernelId}
        kernel={currentKernel}
        status={status}
        sample={sample}
        error={error}
        onActivate={this._onActivate}
      />
    );
  }

  /**
   * Whether the model has something for the item to show.
   */
  private _computeActive(): boolean {
    const model = this.model;
    return !!model && model.isAvailable && model.currentKernelId !== null;
  }

  /**
   * Re-check the active state when the model changes.
   */
  private _onModelChanged(): void {
    const active = this._computeActive();
    if (active !== this._isActive) {
      this._isActive = active;
      this._activeStateChanged.emit();
    }
  }

  private _activeStateChanged = new Signal<this, void>(this);
  private _isActive: boolean;
  private _onActivate: () => void;
}

/**
 * A namespace for {@link KernelUsageStatus} statics.
 */
export namespace KernelUsageStatus {
  /**
   * The options of a {@link KernelUsageStatus}.
   */
  export interface IOptions {
    /**
     * The shared kernel model.
     */
    model: KernelUsageModel;
    /**
     * Called on click, Enter or Space, e.g. to open the Kernel usage panel.
     */
    onActivate?: () => void;
  }
}
