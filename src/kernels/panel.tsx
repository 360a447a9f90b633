// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { LabIcon, VDomRenderer } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import {
  cellCostText,
  cellLabel,
  CellNamer,
  IKernelCells
} from '../cells/costliest';
import { formatBytes, formatPercent } from '../shared/format';
import { DiagnosisContext } from '../diagnosis/context';
import { reaches } from '../diagnosis/thresholds';
import {
  describeKernelsStatus,
  IKernelsStatus,
  kernelName,
  oomText,
  sessionName,
  shortKernelId,
  unavailableText,
  waitText
} from './describe';
import { IKernelHistoryPoint, KernelUsageModel } from './model';
import { IKernelUsage } from './types';
import { ChartFigure, cpuScaleMax, dataScaleMax } from '../shared/sparkline';
import { trans } from '../shared/i18n';

/**
 * The id of the Kernel usage panel (its sidebar tab's `data-id`).
 */
export const KERNELS_PANEL_ID = 'jp-ResourceMonitor-kernels';

/**
 * CSS class of the Kernel usage panel.
 */
export const KERNELS_PANEL_CLASS = 'jp-ResourceMonitor-kernels';

/**
 * CSS class of one kernel's row in the panel.
 */
export const KERNEL_ROW_CLASS = 'jp-ResourceMonitor-kernelRow';

/**
 * CSS class added to the row of the current notebook's or console's kernel.
 */
export const CURRENT_CLASS = 'jp-mod-current';

/**
 * The panel's sidebar icon: a small gauge over a baseline.
 */
export const kernelUsageIcon = new LabIcon({
  name: 'jupyter-resource-monitor:kernel-usage',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M12 4a9 9 0 0 0-9 9c0 1.7.5 3.3 1.3 4.7l1.7-1A7 7 0 0 1 5 13a7 7 0 0 1 14 0 7 7 0 0 1-1 3.7l1.7 1A9 9 0 0 0 12 4z"/>' +
    '<path d="M11 13.3 15.6 8l1.1 1-4.3 5.6A1.5 1.5 0 1 1 11 13.3z"/>' +
    '<rect x="3" y="19" width="18" height="2" rx="1"/>' +
    '</g></svg>'
});

/**
 * One kernel's row: a pure function of its props.
 *
 * @param props - The kernel, its history and whether it is current.
 */
export function KernelRowComponent(
  props: KernelRowComponent.IProps
): JSX.Element {
  const { kernel, history, historyMinutes, isCurrent } = props;
  const waitWarn = reaches(kernel.cpu_wait_percent, props.waitThreshold ?? 0);
  const name = kernelName(kernel);
  const shortId = shortKernelId(kernel.id);
  const why = unavailableText(kernel);
  const className = isCurrent
    ? `${KERNEL_ROW_CLASS} ${CURRENT_CLASS}`
    : KERNEL_ROW_CLASS;
  const session = sessionName(kernel);
  const summary = kernel.available
    ? trans.__(
        '%1 memory, %2 CPU',
        formatBytes(kernel.memory),
        formatPercent(kernel.cpu_percent)
      )
    : why;
  const label = trans.__(
    '%1 kernel %2%3%4: %5',
    name,
    shortId,
    session ? trans.__(' of %1', session) : '',
    isCurrent ? trans.__(' (current)') : '',
    summary
  );
  const ooms = kernel.oom_events ?? [];

  return (
    <li
      className={className}
      aria-label={label}
      aria-current={isCurrent ? 'true' : undefined}
      data-kernel-id={kernel.id}
    >
      <div className="jp-ResourceMonitor-kernelHeader">
        <span className="jp-ResourceMonitor-kernelName">{session ?? name}</span>
        {session && (
          <span className="jp-ResourceMonitor-kernelSpec">{name}</span>
        )}
        <code className="jp-ResourceMonitor-kernelId" title={kernel.id}>
          {shortId}
        </code>
        {isCurrent && (
          <span className="jp-ResourceMonitor-kernelBadge">
            {trans.__('current')}
          </span>
        )}
      </div>
      {ooms.length > 0 && (
        <p className="jp-ResourceMonitor-kernelOom" role="note">
          {oomText(ooms[ooms.length - 1])}
          {ooms.length > 1 &&
            ' ' +
              trans._n('(%1 time so far)', '(%1 times so far)', ooms.length)}
        </p>
      )}
      {kernel.available ? (
        <>
          <dl className="jp-ResourceMonitor-kernelFigures">
            <div>
              <dt>{trans.__('Memory')}</dt>
              <dd className="jp-ResourceMonitor-kernelMemory">
                {formatBytes(kernel.memory)}
              </dd>
            </div>
            <div>
              <dt>{trans.__('CPU')}</dt>
              <dd className="jp-ResourceMonitor-kernelCpu">
                {formatPercent(kernel.cpu_percent)}
              </dd>
              {/* Beside the CPU it used, the CPU it waited for. */}
              {kernel.cpu_wait_percent !== undefined && (
                <dd
                  className={
                    waitWarn
                      ? 'jp-ResourceMonitor-kernelWait jp-mod-warn'
                      : 'jp-ResourceMonitor-kernelWait'
                  }
                  title={waitText(kernel) ?? undefined}
                >
                  {trans.__(
                    'waiting %1',
                    formatPercent(kernel.cpu_wait_percent)
                  )}
                </dd>
              )}
            </div>
            <div>
              <dt>{trans.__('PID')}</dt>
              <dd>{kernel.pid ?? '–'}</dd>
            </div>
            <div>
              <dt>{trans.__('Processes')}</dt>
              <dd>{kernel.processes ?? '–'}</dd>
            </div>
          </dl>
          <KernelChartsComponent
            history={history}
            historyMinutes={historyMinutes}
          />
          {props.cells && (
            <KernelCellsComponent
              cells={props.cells}
              kernelId={kernel.id}
              cellName={props.cellName}
            />
          )}
        </>
      ) : (
        <p className="jp-ResourceMonitor-kernelReason">
          {kernel.pid !== null && trans.__('PID %1 · ', kernel.pid)}
          {why}
        </p>
      )}
    </li>
  );
}

/**
 * A namespace for {@link KernelRowComponent} statics.
 */
export namespace KernelRowComponent {
  /**
   * The props of {@link KernelRowComponent}.
   */
  export interface IProps {
    /**
     * The kernel's usage.
     */
    readonly kernel: IKernelUsage;
    /**
     * The kernel's history, oldest first.
     */
    readonly history: ReadonlyArray<IKernelHistoryPoint>;
    /**
     * The history window in minutes.
     */
    readonly historyMinutes: number;
    /**
     * Whether this is the current notebook's or console's kernel.
     */
    readonly isCurrent: boolean;
    /**
     * Waiting for a CPU at or above this (percent of one CPU) is marked as a
     * warning; 0 or absent: never.
     */
    readonly waitThreshold?: number;
    /**
     * The kernel's peak since start and costliest cells, when fetched.
     */
    readonly cells?: IKernelCells | null;
    /**
     * Names a cell from its open notebook.
     */
    readonly cellName?: CellNamer | null;
  }
}

/**
 * A kernel's peak since it started and its costliest cells.
 *
 * @param props - The figures.
 *
 * @returns The block, or null before anything ran.
 */
export function KernelCellsComponent(props: {
  readonly cells: IKernelCells;
  readonly kernelId?: string;
  readonly cellName?: CellNamer | null;
}): JSX.Element | null {
  const { peakSinceStart, costliest } = props.cells;
  if (peakSinceStart === null && costliest.length === 0) {
    return null;
  }
  return (
    <div className="jp-ResourceMonitor-kernelCells">
      {peakSinceStart !== null && (
        <p
          className="jp-ResourceMonitor-kernelPeak"
          title={trans.__(
            'The highest resident memory of the kernel process since it started, read as each cell starts and ends (exact, however short the spike).'
          )}
        >
          {trans.__('Peak since start: %1', formatBytes(peakSinceStart))}
        </p>
      )}
      {costliest.length > 0 && (
        <ol
          className="jp-ResourceMonitor-kernelCostliest"
          aria-label={trans.__('Costliest cells')}
        >
          {costliest.map(record => (
            <li key={record.msg_id} title={record.cell_id ?? undefined}>
              <span className="jp-ResourceMonitor-kernelCellName">
                {cellLabel(record, props.kernelId, props.cellName)}
              </span>{' '}
              <span className="jp-ResourceMonitor-kernelCellCost">
                {cellCostText(record)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/**
 * A kernel's memory and CPU sparklines.
 *
 * @param props - The history and its window.
 *
 * @returns The charts, or null until there are two points to draw.
 *
 * #### Notes
 * Memory is scaled to the kernel's own peak in the window plus a quarter (a
 * kernel has no limit of its own); CPU to at least one CPU busy. The x axis is
 * the whole history window, as in the detail view, so a kernel that started
 * a minute ago fills only the right end of it.
 */
export function KernelChartsComponent(props: {
  readonly history: ReadonlyArray<IKernelHistoryPoint>;
  readonly historyMinutes: number;
}): JSX.Element | null {
  const { history, historyMinutes } = props;
  if (history.length < 2) {
    return null;
  }
  const windowMs = historyMinutes * 60_000;
  const span = trans._n(
    'the last minute',
    'the last %1 minutes',
    historyMinutes
  );
  const memoryValues = history
    .map(point => point.memory)
    .filter((value): value is number => value !== null);
  const cpuValues = history
    .map(point => point.cpu_percent)
    .filter((value): value is number => value !== null);
  const memoryPeak = memoryValues.length ? Math.max(...memoryValues) : 0;
  const cpuPeak = cpuValues.length ? Math.max(...cpuValues) : null;
  // Headroom above the peak, so a steady kernel's line is not drawn on the
  // chart's top edge.
  const memoryMax = dataScaleMax(memoryValues);
  const chart = {
    className: 'jp-ResourceMonitor-kernelChart',
    history,
    windowMs,
    width: 120,
    height: 24
  };
  return (
    <div className="jp-ResourceMonitor-kernelCharts">
      <ChartFigure
        {...chart}
        caption={trans.__('Memory')}
        value={point => point.memory}
        max={memoryMax}
        label={trans.__(
          'Memory (PSS) over %1, up to %2',
          span,
          formatBytes(memoryPeak)
        )}
      />
      <ChartFigure
        {...chart}
        caption={trans.__('CPU')}
        value={point => point.cpu_percent}
        max={cpuScaleMax(cpuValues)}
        label={trans.__(
          'CPU over %1, up to %2',
          span,
          cpuPeak === null ? trans.__('unknown') : formatPercent(cpuPeak)
        )}
      />
    </div>
  );
}

/**
 * The panel's content: a pure function of its props.
 *
 * @param props - A snapshot of the kernel model.
 */
export function KernelListComponent(
  props: KernelListComponent.IProps
): JSX.Element {
  const { kernels, currentKernelId, history, historyMinutes } = props;
  const note = describeKernelsStatus(props.status, props.sample, props.error);
  return (
    <div className="jp-ResourceMonitor-kernelsBody">
      <h2 className="jp-ResourceMonitor-kernelsTitle" id={Private.TITLE_ID}>
        {trans.__('Kernel usage')}
      </h2>
      <p className="jp-ResourceMonitor-kernelsNote">
        {trans.__(
          'Memory is the PSS of each kernel and its child processes (shared pages counted once); 100%% CPU is one CPU busy.'
        )}
      </p>
      {note !== null && (
        <p className="jp-ResourceMonitor-kernelsStatus" role="status">
          {note}
        </p>
      )}
      {kernels.length > 0 ? (
        <ul
          className="jp-ResourceMonitor-kernelList"
          role="list"
          aria-labelledby={Private.TITLE_ID}
        >
          {kernels.map(kernel => (
            <KernelRowComponent
              key={kernel.id}
              kernel={kernel}
              history={history(kernel.id)}
              historyMinutes={historyMinutes}
              isCurrent={kernel.id === currentKernelId}
              waitThreshold={props.waitThreshold}
              cells={props.cells?.(kernel.id) ?? null}
              cellName={props.cellName}
            />
          ))}
        </ul>
      ) : (
        props.status !== 'loading' &&
        props.status !== 'unavailable' && (
          <p className="jp-ResourceMonitor-kernelsEmpty">
            {trans.__('No running kernels.')}
          </p>
        )
      )}
    </div>
  );
}

/**
 * A namespace for {@link KernelListComponent} statics.
 */
export namespace KernelListComponent {
  /**
   * The props of {@link KernelListComponent}.
   */
  export interface IProps
    extends
      IKernelsStatus,
      Pick<
        KernelRowComponent.IProps,
        'historyMinutes' | 'waitThreshold' | 'cellName'
      > {
    /**
     * Every running kernel, in the server's order.
     */
    readonly kernels: ReadonlyArray<IKernelUsage>;
    /**
     * The current notebook's or console's kernel id, or null.
     */
    readonly currentKernelId: string | null;
    /**
     * A kernel's history by id.
     */
    readonly history: (id: string) => ReadonlyArray<IKernelHistoryPoint>;
    /**
     * A kernel's peak since start and costliest cells by id, when fetched.
     */
    readonly cells?: (id: string) => IKernelCells | null;
  }
}

/**
 * The Kernel usage sidebar panel: every running kernel, the current one
 * marked.
 *
 * #### Notes
 * It renders from the shared {@link KernelUsageModel} and never fetches. Add
 * it to the right sidebar with `app.shell.add(panel, 'right', { rank })`.
 */
export class KernelUsagePanel extends VDomRenderer<KernelUsageModel> {
  /**
   * Create the panel.
   *
   * @param model - The shared kernel model.
   */
  constructor(
    model: KernelUsageModel,
    options: KernelUsagePanel.IOptions = {}
  ) {
    super(model);
    this._cellName = options.cellName ?? null;
    this._context = options.context ?? new DiagnosisContext();
    this.id = KERNELS_PANEL_ID;
    this.addClass(KERNELS_PANEL_CLASS);
    this.title.icon = kernelUsageIcon;
    this.title.caption = trans.__('Kernel usage');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('Kernel usage'));
    // In the tab order: it scrolls, and nothing inside it takes the focus, so
    // a keyboard user scrolls it with the arrow keys once it has the focus.
    this.node.tabIndex = 0;
  }

  /**
   * Take the focus when activated (its sidebar tab, the command palette, the
   * kernel status item, a notification's action), so the keyboard goes on
   * from here.
   */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (this.isAttached && this.isVisible) {
      this.node.focus();
    }
  }

  /**
   * Tell the model the panel is shown, when attached to a visible parent.
   */
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._setVisible(this.isVisible);
  }

  /**
   * Tell the model the panel is shown.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._setVisible(true);
  }

  /**
   * Tell the model the panel is hidden.
   */
  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._setVisible(false);
  }

  /**
   * Tell the model the panel is gone.
   */
  protected onBeforeDetach(msg: Message): void {
    this._setVisible(false);
    super.onBeforeDetach(msg);
  }

  /**
   * Render the list from the model.
   */
  protected render(): JSX.Element {
    const model = this.model;
    return (
      <KernelListComponent
        kernels={model.kernels}
        currentKernelId={model.currentKernelId}
        history={id => model.history(id)}
        historyMinutes={model.historyMinutes}
        status={model.status}
        sample={model.sample}
        error={model.error}
        waitThreshold={this._context.thresholds().cpuWaitPercent}
        cells={id => model.cells(id)}
        cellName={this._cellName}
      />
    );
  }

  /**
   * Record the panel's visibility on the model, so it polls only when needed.
   */
  private _setVisible(visible: boolean): void {
    if (this.model && !this.model.isDisposed) {
      this.model.panelVisible = visible;
    }
  }

  private _cellName: CellNamer | null;
  private _context: DiagnosisContext;
}

/**
 * A namespace for {@link KernelUsagePanel} statics.
 */
export namespace KernelUsagePanel {
  /**
   * The options of a {@link KernelUsagePanel}.
   */
  export interface IOptions {
    /**
     * Names a costly cell from its open notebook (position and first line);
     * without it, cells are named by their id.
     */
    cellName?: CellNamer | null;
    /**
     * The thresholds of "why is it slow?", shared with the other views;
     * without it, the defaults apply.
     */
    context?: DiagnosisContext;
  }
}

/**
 * Module-private constants.
 */
namespace Private {
  /**
   * The id of the panel's heading, which labels the list.
   */
  export const TITLE_ID = 'jp-ResourceMonitor-kernelsTitle';
}
