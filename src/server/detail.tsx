// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { VDomRenderer } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { describeMetrics, IDescribeOptions, memoryFigure } from './describe';
import { formatBytes, formatPercent } from '../shared/format';
import { IHistoryPoint } from './model';
import { ResourceMonitorModel } from './model';
import { AnchoredPopup } from '../shared/popup';
import { OwnersTable, WorkingSetBreakdown } from './memoryParts';
import { ChartFigure, cpuScaleMax, dataScaleMax } from '../shared/sparkline';
import { trans } from '../shared/i18n';
import type { DiagnosisContext } from '../diagnosis/context';
import { DiagnosisSection } from '../diagnosis/section';
import { GuardSection } from '../guard/section';
import { cpuHeldBack } from '../diagnosis/diagnose';

/**
 * CSS class of the detail view's content.
 */
export const DETAIL_CLASS = 'jp-ResourceMonitor-detail';

/**
 * The detail view's content: a pure function of its props.
 *
 * @param props - A model snapshot, the history and its window.
 */
export function ResourceMonitorDetailComponent(
  props: ResourceMonitorDetailComponent.IProps
): JSX.Element {
  const { snapshot, history, historyMinutes, context } = props;
  const explanations = describeMetrics(snapshot);
  const metrics = snapshot.metrics;
  const windowMs = historyMinutes * 60_000;
  const span = trans._n(
    'the last minute',
    'the last %1 minutes',
    historyMinutes
  );

  const memoryValues = history.map(point => point.memory);
  const memoryFigures = metrics ? memoryFigure(metrics) : null;
  const memoryLimit = memoryFigures?.limit ?? null;
  // Scale to the data, not to the limit: a 100 MiB server under a 23.5 GiB
  // host limit would otherwise be a flat line on the bottom edge.
  const memoryMax = dataScaleMax(memoryValues);
  const memoryPeak = Math.max(...memoryValues);
  const limitText =
    memoryLimit === null
      ? ''
      : memoryFigures?.quota
        ? trans.__('; limit %1', formatBytes(memoryLimit))
        : trans.__('; host memory %1', formatBytes(memoryLimit));
  const memoryKind =
    memoryFigures?.kind === 'working set'
      ? trans.__('working set')
      : metrics && typeof metrics.pss === 'number'
        ? 'PSS'
        : trans.__('memory');

  const cpuValues = history
    .map(point => point.cpu_percent)
    .filter((value): value is number => value !== null);
  const cpuMax = cpuScaleMax(cpuValues);
  const showCpu = metrics?.cpu_percent !== undefined;
  const chart = { className: 'jp-ResourceMonitor-chart', history, windowMs };

  return (
    <div className="jp-ResourceMonitor-detailBody">
      <h3 className="jp-ResourceMonitor-detailTitle">
        {trans.__('Resource monitor')}
      </h3>
      {history.length > 1 ? (
        <div className="jp-ResourceMonitor-charts">
          <ChartFigure
            {...chart}
            caption={trans.__(
              'Memory (%1), scale 0 – %2%3',
              memoryKind,
              formatBytes(memoryMax),
              limitText
            )}
            value={point => point.memory}
            max={memoryMax}
            label={trans.__(
              'Memory (%1) over %2, up to %3%4',
              memoryKind,
              span,
              formatBytes(memoryPeak),
              limitText
            )}
          />
          {showCpu && (
            <ChartFigure
              {...chart}
              caption={trans.__('CPU, scale 0 – %1', formatPercent(cpuMax))}
              value={point => point.cpu_percent}
              max={cpuMax}
              label={trans.__(
                'CPU over %1, up to %2',
                span,
                cpuValues.length
                  ? formatPercent(Math.max(...cpuValues))
                  : trans.__('unknown')
              )}
            />
          )}
        </div>
      ) : (
        <p className="jp-ResourceMonitor-detailNote">
          {trans.__('Collecting history for the charts…')}
        </p>
      )}
      <DiagnosisSection
        metrics={metrics}
        kernels={context.kernels()}
        thresholds={context.thresholds(metrics)}
        now={snapshot.now}
      />
      {metrics && <GuardSection metrics={metrics} />}
      {metrics && <WorkingSetBreakdown metrics={metrics} />}
      {metrics && <OwnersTable metrics={metrics} />}
      <dl className="jp-ResourceMonitor-explanations">
        {explanations.map(line => (
          <React.Fragment key={line.label}>
            <dt>{line.label}</dt>
            <dd>{line.text}</dd>
          </React.Fragment>
        ))}
      </dl>
    </div>
  );
}

/**
 * A namespace for {@link ResourceMonitorDetailComponent} statics.
 */
export namespace ResourceMonitorDetailComponent {
  /**
   * The props of {@link ResourceMonitorDetailComponent}.
   */
  export interface IProps {
    /**
     * The model snapshot to explain.
     */
    readonly snapshot: IDescribeOptions;
    /**
     * The history, oldest first.
     */
    readonly history: ReadonlyArray<IHistoryPoint>;
    /**
     * The history window in minutes.
     */
    readonly historyMinutes: number;
    /**
     * The thresholds and kernel rows of "why is it slow?".
     */
    readonly context: DiagnosisContext;
  }
}

/**
 * The detail view's widget: renders from the shared model, never fetches.
 */
export class ResourceMonitorDetail extends VDomRenderer<ResourceMonitorModel> {
  /**
   * Create the detail view.
   *
   * @param model - The shared model.
   *
   * @param context - The thresholds and kernel rows of "why is it slow?".
   */
  constructor(
    model: ResourceMonitorModel,
    private readonly _context: DiagnosisContext
  ) {
    super(model);
    this.addClass(DETAIL_CLASS);
    // In the tab order: it scrolls, and a keyboard user scrolls it with the
    // arrow keys once it has the focus.
    this.node.tabIndex = 0;
    this.node.setAttribute('role', 'dialog');
    this.node.setAttribute('aria-label', trans.__('Resource monitor details'));
  }

  /**
   * Render the details from the model.
   */
  protected render(): JSX.Element {
    const model = this.model;
    return (
      <ResourceMonitorDetailComponent
        snapshot={{
          status: model.status,
          metrics: model.metrics,
          lastUpdate: model.lastUpdate,
          error: model.error,
          now: Date.now(),
          cpuHeldBack: cpuHeldBack(
            model.metrics,
            this._context.thresholds(model.metrics)
          )
        }}
        history={model.history}
        historyMinutes={model.historyMinutes}
        context={this._context}
      />
    );
  }
}

/**
 * Whether the detail view of an anchor is open.
 *
 * @param anchor - The status item the popup belongs to.
 */
export function isDetailOpen(anchor: Widget): boolean {
  const open = Private.popups.get(anchor);
  return !!open && !open.isDisposed;
}

/**
 * Open the detail view next to an anchor, or close it if it is open.
 *
 * @param anchor - The status item the popup belongs to.
 *
 * @param model - The shared model.
 *
 * @param context - The thresholds and kernel rows of "why is it slow?".
 *
 * @returns The open popup, or null when this call closed it.
 *
 * #### Notes
 * One popup per anchor. The popup closes itself on Escape or on a click
 * outside both the popup and the anchor.
 */
export function toggleDetail(
  anchor: Widget,
  model: ResourceMonitorModel,
  context: DiagnosisContext
): AnchoredPopup | null {
  const open = Private.popups.get(anchor);
  if (open && !open.isDisposed) {
    open.dispose();
    return null;
  }
  const body = new ResourceMonitorDetail(model, context);
  const popup = new AnchoredPopup({ body, anchor });
  popup.launch();
  Private.popups.set(anchor, popup);
  popup.disposed.connect(() => {
    if (Private.popups.get(anchor) === popup) {
      Private.popups.delete(anchor);
    }
  });
  body.node.focus();
  return popup;
}

/**
 * Module-private state.
 */
namespace Private {
  /**
   * The open popup of each anchor.
   */
  export const popups = new WeakMap<Widget, AnchoredPopup>();
}
