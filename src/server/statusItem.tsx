// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { VDomRenderer } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DiagnosisContext } from '../diagnosis/context';
import { DEFAULT_THRESHOLDS, IThresholds } from '../diagnosis/thresholds';
import { cpuHeldBack } from '../diagnosis/diagnose';
import { describeAsTitle, describeStatus, memoryFigure } from './describe';
import type { IDescribeOptions } from './describe';
import { isDetailOpen, toggleDetail } from './detail';
import { formatPercent, formatUsage, MISSING, PENDING } from '../shared/format';
import { buttonProps } from '../shared/activate';
import { trans } from '../shared/i18n';
import { MonitorStatus, ResourceMonitorModel } from './model';
import { IMetrics } from './types';

/**
 * CSS class of the status item's root element.
 */
export const ROOT_CLASS = 'jp-ResourceMonitor';

/**
 * CSS class added when a shown metric is close to its limit.
 */
export const WARN_CLASS = 'jp-ResourceMonitor-warn';

/**
 * CSS class added when the numbers are stale or the server is unreachable.
 */
export const STALE_CLASS = 'jp-ResourceMonitor-stale';

/**
 * CSS class of one metric inside the item.
 */
export const METRIC_CLASS = 'jp-ResourceMonitor-metric';

/**
 * Which metrics the status item shows.
 */
export interface IDisplayOptions {
  /**
   * Show memory (PSS, else RSS) against its limit.
   */
  readonly showMemory: boolean;
  /**
   * Show CPU use when the server tracks it.
   */
  readonly showCpu: boolean;
  /**
   * Show disk use when the server tracks it.
   */
  readonly showDisk: boolean;
}

/**
 * The display options used until settings arrive.
 */
export const DEFAULT_DISPLAY: IDisplayOptions = {
  showMemory: true,
  showCpu: true,
  showDisk: true
};

/**
 * One metric as the item prints it.
 */
export interface IMetricText {
  /**
   * Which metric: `memory`, `cpu` or `disk`.
   */
  readonly key: 'memory' | 'cpu' | 'disk';
  /**
   * The text, such as `Mem: 1.2 / 8.0 GiB`.
   */
  readonly text: string;
  /**
   * Whether the server flags this metric as close to its limit.
   */
  readonly warn: boolean;
}

/**
 * The metrics the item prints, in order, honouring the display options.
 *
 * @param status - The model's status.
 *
 * @param metrics - The last valid payload, or null.
 *
 * @param display - Which metrics to show.
 *
 * @param heldBack - Why the CPU is held back (throttling or waiting over its
 *   threshold), or null: the CPU item warns then too.
 *
 * #### Notes
 * Memory shows a placeholder until the first payload; CPU and disk appear only
 * once the server says it tracks them.
 */
export function metricTexts(
  status: MonitorStatus,
  metrics: IMetrics | null,
  display: IDisplayOptions,
  heldBack: string | null = null
): IMetricText[] {
  const texts: IMetricText[] = [];
  // Before the server's first sample its figures are zeros kept for the
  // payload's JSON types: show them as pending, not as a real 0 B.
  const notSampled = metrics?.sample?.ready === false;
  if (metrics === null || notSampled) {
    if (display.showMemory) {
      const placeholder =
        status === 'loading' || notSampled ? PENDING : MISSING;
      texts.push({
        key: 'memory',
        text: trans.__('Mem: %1', placeholder),
        warn: false
      });
    }
    return texts;
  }
  const limits = metrics.limits;
  if (display.showMemory) {
    const memory = memoryFigure(metrics);
    texts.push({
      key: 'memory',
      text: trans.__(
        'Mem: %1',
        formatUsage(memory.used, memory.quota ? memory.limit : null)
      ),
      warn: limits?.memory?.warn === true
    });
  }
  if (display.showCpu && metrics.cpu_percent !== undefined) {
    texts.push({
      key: 'cpu',
      text: trans.__(
        'CPU: %1',
        metrics.cpu_percent === null
          ? PENDING
          : formatPercent(metrics.cpu_percent)
      ),
      warn: limits?.cpu?.warn === true || heldBack !== null
    });
  }
  if (
    display.showDisk &&
    typeof metrics.disk_used === 'number' &&
    typeof metrics.disk_total === 'number'
  ) {
    texts.push({
      key: 'disk',
      text: trans.__(
        'Disk: %1',
        formatUsage(metrics.disk_used, metrics.disk_total)
      ),
      warn: limits?.disk?.warn === true
    });
  }
  return texts;
}

/**
 * The status item's content: a pure function of its props.
 *
 * @param props - What to show and what to call on activation.
 *
 * @returns The item, or null when the endpoint is unavailable.
 *
 * #### Notes
 * Warning styling only applies to fresh numbers: an old sample's warning
 * flag says nothing about now, so stale data is only muted.
 */
export function ResourceMonitorComponent(
  props: ResourceMonitorComponent.IProps
): JSX.Element | null {
  const { status, metrics, display, expanded, onActivate } = props;
  if (status === 'unavailable') {
    return null;
  }
  const heldBack = cpuHeldBack(metrics, props.thresholds ?? DEFAULT_THRESHOLDS);
  const texts = metricTexts(status, metrics, display, heldBack);
  const muted = status === 'stale' || status === 'unreachable';
  const warn = status === 'ok' && texts.some(text => text.warn);
  const className = [
    ROOT_CLASS,
    warn ? WARN_CLASS : '',
    muted ? STALE_CLASS : ''
  ]
    .filter(Boolean)
    .join(' ');

  const snapshot = { ...props, cpuHeldBack: heldBack };
  const title = describeAsTitle(snapshot);
  const statusNote = describeStatus(snapshot);
  const summary = texts.length
    ? texts.map(text => text.text).join(', ')
    : trans.__('Resource usage');
  const label = trans.__(
    'Resource monitor: %1.%2 Press Enter for details.',
    summary,
    statusNote ? ` ${statusNote}` : ''
  );

  return (
    <div
      {...buttonProps(onActivate, { className, title, label })}
      aria-haspopup="dialog"
      aria-expanded={expanded ?? false}
    >
      {texts.length ? (
        texts.map((text, index) => (
          <React.Fragment key={text.key}>
            {/* A space keeps copied text and plain readers readable. */}
            {index > 0 && ' '}
            <span
              className={
                status === 'ok' && text.warn
                  ? `${METRIC_CLASS} jp-mod-warn`
                  : METRIC_CLASS
              }
              data-metric={text.key}
              style={
                props.minWidths?.[text.key]
                  ? { minWidth: `${props.minWidths[text.key]}ch` }
                  : undefined
              }
            >
              {text.text}
            </span>
          </React.Fragment>
        ))
      ) : (
        <span className={METRIC_CLASS}>{trans.__('Resources')}</span>
      )}
    </div>
  );
}

/**
 * A namespace for {@link ResourceMonitorComponent} statics.
 */
export namespace ResourceMonitorComponent {
  /**
   * The props of {@link ResourceMonitorComponent}.
   */
  export interface IProps extends Omit<IDescribeOptions, 'cpuHeldBack'> {
    /**
     * Which metrics to show.
     */
    readonly display: IDisplayOptions;
    /**
     * Whether the detail view is open.
     */
    readonly expanded?: boolean;
    /**
     * The least width of each metric, in characters: the widest it has been,
     * so the item does not shrink and grow as the figures change.
     */
    readonly minWidths?: Partial<Record<IMetricText['key'], number>>;
    /**
     * Called on click, Enter or Space.
     */
    readonly onActivate: () => void;
    /**
     * When throttling or CPU waiting holds the server back (defaults apply
     * when absent).
     */
    readonly thresholds?: IThresholds;
  }
}

/**
 * The status-bar item: renders {@link ResourceMonitorComponent} from the model.
 *
 * #### Notes
 * It never fetches. Activating it (click, Enter, Space) opens or closes the
 * detail view, unless `options.onActivate` replaces that.
 */
export class ResourceMonitorStatus extends VDomRenderer<ResourceMonitorModel> {
  /**
   * Create the item.
   *
   * @param options - The model and the activation callback.
   */
  constructor(options: ResourceMonitorStatus.IOptions) {
    super(options.model);
    this._onActivate = options.onActivate ?? (() => this.toggleDetail());
    this._display = options.display ?? DEFAULT_DISPLAY;
    this._context = options.context ?? new DiagnosisContext();
    this._context.changed.connect(() => this.update(), this);
    // Hover and pressed styles of clickable JupyterLab status items.
    this.addClass('jp-mod-highlighted');
    this.addClass('jp-ResourceMonitor-item');
  }

  /**
   * Which metrics the item shows; setting it re-renders on a real change.
   */
  get display(): IDisplayOptions {
    return this._display;
  }
  set display(value: IDisplayOptions) {
    const current = this._display;
    if (
      current.showMemory === value.showMemory &&
      current.showCpu === value.showCpu &&
      current.showDisk === value.showDisk
    ) {
      return;
    }
    this._display = { ...value };
    this.update();
  }

  /**
   * Open the detail view, or close it if it is open.
   */
  toggleDetail(): void {
    if (!this.model) {
      return;
    }
    toggleDetail(this, this.model, this._context)?.disposed.connect(() =>
      this.update()
    );
    this.update();
  }

  /**
   * Render the item from the model.
   */
  protected render(): JSX.Element {
    const model = this.model;
    return (
      <ResourceMonitorComponent
        expanded={isDetailOpen(this)}
        minWidths={this._widest(model)}
        status={model.status}
        metrics={model.metrics}
        lastUpdate={model.lastUpdate}
        error={model.error}
        now={Date.now()}
        display={this._display}
        onActivate={this._onActivate}
        thresholds={this._context.thresholds(model.metrics)}
      />
    );
  }

  /**
   * Ratchet each shown metric's width up to its widest text so far.
   */
  private _widest(
    model: ResourceMonitorModel
  ): Partial<Record<IMetricText['key'], number>> {
    const heldBack = cpuHeldBack(
      model.metrics,
      this._context.thresholds(model.metrics)
    );
    for (const text of metricTexts(
      model.status,
      model.metrics,
      this._display,
      heldBack
    )) {
      this._widths[text.key] = Math.max(
        this._widths[text.key] ?? 0,
        text.text.length
      );
    }
    return { ...this._widths };
  }

  private _context: DiagnosisContext;
  private _display: IDisplayOptions;
  private _widths: Partial<Record<IMetricText['key'], number>> = {};
  private _onActivate: () => void;
}

/**
 * A namespace for {@link ResourceMonitorStatus} statics.
 */
export namespace ResourceMonitorStatus {
  /**
   * The options of a {@link ResourceMonitorStatus}.
   */
  export interface IOptions {
    /**
     * The shared model.
     */
    model: ResourceMonitorModel;
    /**
     * Called on click, Enter or Space; defaults to toggling the detail view.
     */
    onActivate?: () => void;
    /**
     * Which metrics to show; defaults to all.
     */
    display?: IDisplayOptions;
    /**
     * The thresholds of "why is it slow?", shared with the other views;
     * without it, the defaults and the server's apply.
     */
    context?: DiagnosisContext;
  }
}
